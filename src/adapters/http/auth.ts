/**
 * REST authorization. Every API request carries `Authorization: Bearer <token>`: the node
 * administrator's token (`<home>/admin.token`, every channel) or a user's token (`hotline token
 * create`); or, from the console, the `hotline_session` cookie (session.ts: a write also needs the
 * session's CSRF token and a same-origin Origin, else 403 `csrf_failed`). `authenticate` turns
 * either into the same request-scoped principal `{ user, role, channels }`: a route cannot tell
 * them apart, and the same authorization holds.
 *
 * HOW A ROUTE MUST USE IT (every route under /api, including new ones):
 *
 *   app.get('/api/v1/things/:id', { onRequest: authenticate(ctx), schema: { ..., security: [{ bearer: [] }] } },
 *     async (req) => {
 *       const p = principalOf(req);
 *       requireRole(p, 'admin');          // node administration (peers, users, tokens): else 403 forbidden
 *       requireChannel(p, body.channel);  // writing on a channel: else 403 forbidden
 *       ...
 *     });
 *
 * Reading: filter queries by `p.channels`. A message (or case, ack, transcript...) on a channel
 * the principal does not hold is `not_found` (404), never 403, so that its existence does not
 * leak. Pass every message through `readableView(p, view)` / `canRead(p, message)` from
 * modules/messaging/messaging.visibility.ts before returning its body, so that TLP:RED bodies
 * reach only their named recipients. `law` is never visible to `cert` or `crisis`, nor the
 * other way round, unless a user is granted both.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail, isHotlineError } from '../../shared/errors.js';
import { audit } from '../../modules/audit/audit.service.js';
import type { AuditTables } from '../../modules/audit/audit.tables.js';
import type { Actor, AuditEntry } from '../../modules/audit/audit.types.js';
import { refuseCredentials, type UserRepository } from '../../modules/users/users.service.js';
import type { SessionRepository } from '../../modules/users/users.sessions.js';
import type { Config } from '../../config.js';
import { checkCsrf, ownOrigins, sessionCookie } from './session.js';
import type { Principal } from '../../modules/users/users.types.js';

export { requireChannel, requireRole } from '../../modules/users/users.access.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking; set by {@link authenticate}. Read it with {@link principalOf}. */
    principal: Principal | null;
  }
}

/** Declares `req.principal` on the app; call once, before routes are registered. */
export function decorateAuth(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
  if (!app.hasRequestDecorator('consoleSession')) app.decorateRequest('consoleSession', null);
}

/** What a session that must still enrol TOTP (`console.require_totp`) may reach: the session and the enrolment. */
const ENROLMENT_ROUTES = /^\/api\/v1\/(session|account\/totp(\/confirm)?)$/;

function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  // A missing or malformed header gets the same answer as a bad token (users.service refuseCredentials).
  if (m === null) return refuseCredentials();
  return m[1]!;
}

/**
 * onRequest hook: resolves the bearer token to a principal (401 `unauthorized` for a missing,
 * unknown or revoked token, or one whose user is disabled) and sets `req.principal`.
 */
export function authenticate(ctx: { users: UserRepository; db: Kysely<AuditTables>; clock: Clock; sessions?: SessionRepository; config?: Config }) {
  const own = ctx.config === undefined ? undefined : ownOrigins(ctx.config);
  return async (req: FastifyRequest): Promise<void> => {
    // No Authorization header and a session cookie: the console (a bearer token wins when both are sent).
    const cookie = req.headers.authorization === undefined && ctx.sessions !== undefined ? sessionCookie(req) : undefined;
    if (cookie !== undefined) {
      await bySession(ctx as Required<typeof ctx>, own!, req, cookie);
      return;
    }
    let p: Principal;
    try {
      p = await ctx.users.authenticate(bearer(req));
    } catch (e) {
      // A failed authentication is evidence (who tried, from where): recorded, never the token.
      if (isHotlineError(e) && e.code === 'unauthorized') {
        await audit.record(ctx.db, {
          actor: { who: 'anonymous', address: req.ip }, action: 'auth.failed',
          details: { method: req.method, route: req.routeOptions.url ?? req.url.split('?')[0] },
        }, ctx.clock.now());
      }
      throw e;
    }
    if (p.role === 'peer') fail('forbidden', `"${p.user}" is an account of peer ${p.peer ?? '?'}: it may use TAXII (/taxii2/) only, not the REST API`);
    // Who acts and from where, for the audit trail (modules/audit).
    req.principal = Object.freeze({ ...p, via: { who: p.user, address: req.ip } });
  };
}

async function bySession(ctx: { sessions: SessionRepository; db: Kysely<AuditTables>; clock: Clock; config: Config }, own: Set<string>, req: FastifyRequest, cookie: string): Promise<void> {
  const s = await ctx.sessions.resolve(cookie);
  const via = { who: s.principal.user, address: req.ip };
  try {
    checkCsrf(req, s, ctx.config, own);
  } catch (e) {
    // A refused cross-site write is evidence too: recorded (the route, never the token).
    await audit.record(ctx.db, { actor: via, action: 'auth.csrf_failed', details: { method: req.method, route: req.routeOptions.url ?? req.url.split('?')[0], origin: req.headers.origin ?? null } }, ctx.clock.now());
    throw e;
  }
  if (s.info.totp_enrolment_required && !ENROLMENT_ROUTES.test(req.routeOptions.url ?? '')) {
    fail('totp_enrolment_required', 'This node requires a second factor: enrol an authenticator app on your account page (POST /api/v1/account/totp) before anything else');
  }
  req.consoleSession = s;
  req.principal = Object.freeze({ ...s.principal, via });
}

/** The actor of a request for the audit trail: its principal's (the user, the IP address). */
export function actorOf(req: FastifyRequest): Actor {
  const p = principalOf(req);
  return p.via ?? { who: p.user, address: req.ip };
}

/** The request's principal; fails closed if the route forgot `onRequest: authenticate(ctx)`. */
export function principalOf(req: FastifyRequest): Principal {
  const p = req.principal;
  if (p === null || p === undefined) fail('internal', `Route ${req.routeOptions.url ?? req.url} has no authentication; add onRequest: authenticate(ctx)`);
  return p;
}

/**
 * Records what a request did in the audit trail, in a transaction of its own (for actions that are
 * not one transaction: peer changes, grants, transcripts, feed runs); actions that are one
 * transaction record inside it (their module does, given {@link actorOf}).
 */
export async function auditRequest(ctx: { db: Kysely<AuditTables>; clock: Clock }, req: FastifyRequest, e: Omit<AuditEntry, 'actor'>): Promise<void> {
  await audit.record(ctx.db, { ...e, actor: actorOf(req) }, ctx.clock.now());
}
