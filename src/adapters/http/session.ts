/**
 * The console's session cookie on the HTTP side (issue 11): reading and writing `hotline_session`,
 * and the CSRF defence of cookie-authenticated writes (the session's token in `X-CSRF-Token`, and
 * an `Origin`, when sent, equal to the node's own). Routes: routes/session.routes.ts; the
 * authentication of every /api route with a cookie: auth.ts `authenticate`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { fail } from '../../shared/errors.js';
import type { ActiveSession } from '../../modules/users/users.sessions.js';

export const SESSION_COOKIE = 'hotline_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session a request authenticated with (null: a bearer token, or none). */
    consoleSession: ActiveSession | null;
  }
}

/** The session id in the request's `hotline_session` cookie, if any. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  const h = req.headers.cookie;
  if (typeof h !== 'string') return undefined;
  for (const part of h.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/i;

/**
 * Whether the cookie may go without `Secure`: the node listens on loopback (plain http on this
 * host) and its public_url, if any, is not https (a reverse proxy with TLS in front keeps Secure).
 */
export function onLoopback(config: Config): boolean {
  return LOOPBACK.test(config.listen.host) && !(config.publicUrl ?? '').startsWith('https:');
}

/** Sets the session cookie (HttpOnly, SameSite=Lax, Path=/, Secure unless on loopback over plain http; Max-Age the absolute timeout). */
export function setSessionCookie(reply: FastifyReply, config: Config, id: string): void {
  const maxAge = Math.floor(config.console.absoluteMs / 1000);
  void reply.header('set-cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${onLoopback(config) ? '' : '; Secure'}`);
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${onLoopback(config) ? '' : '; Secure'}`);
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The node's own origins: `public_url`, the federation `url`, and the listen address (with
 * `localhost` beside a loopback one). When the node listens on every interface (0.0.0.0, ::), the
 * origin of the request's own Host also counts (a browser cannot send another site's cookie to it).
 */
export function ownOrigins(config: Config): Set<string> {
  const out = new Set<string>();
  for (const u of [config.publicUrl, config.url]) {
    const o = u === null ? undefined : originOf(u);
    if (o !== undefined) out.add(o);
  }
  const { host, port } = config.listen;
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  out.add(`http://${h}:${port}`);
  out.add(`https://${h}:${port}`);
  if (LOOPBACK.test(host)) { out.add(`http://localhost:${port}`); out.add(`http://127.0.0.1:${port}`); }
  return out;
}

const ANY_INTERFACE = /^(0\.0\.0\.0|::|\[::\])$/;

/** Refuses (403 `csrf_failed`) a request whose Origin, when sent, is not the node's own. */
export function checkOrigin(req: FastifyRequest, config: Config, own: Set<string>): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (own.has(origin)) return;
  const host = req.headers.host;
  if (ANY_INTERFACE.test(config.listen.host) && typeof host === 'string' && (origin === `http://${host}` || origin === `https://${host}`)) return;
  fail('csrf_failed', `This request comes from a page of another site (Origin ${origin}), not from this node's console; open the console at ${config.publicUrl ?? [...own][0]}`);
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A cookie-authenticated write must carry the session's CSRF token and a same-origin Origin (if any); else 403 `csrf_failed`. */
export function checkCsrf(req: FastifyRequest, s: ActiveSession, config: Config, own: Set<string>): void {
  if (SAFE.has(req.method)) return;
  checkOrigin(req, config, own);
  const given = req.headers['x-csrf-token'];
  const a = Buffer.from(typeof given === 'string' ? given : '');
  const b = Buffer.from(s.info.csrf_token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    fail('csrf_failed', 'A write from the console must carry the session\'s CSRF token in X-CSRF-Token (the csrf_token of GET /api/v1/session); reload the page');
  }
}
