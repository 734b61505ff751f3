import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Socket } from 'node:net';
import type { HttpConfig } from '../../config.js';
import { HotlineError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { FEDERATION_PATH } from './transport.js';

/** The fastify and node:http options that cut slow clients (a trickled body, slow headers, idle sockets). */
export function serverTimeouts(http: HttpConfig): {
  connectionTimeout: number; requestTimeout: number; keepAliveTimeout: number; maxRequestsPerSocket: number;
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  return {
    connectionTimeout: http.idleTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    maxRequestsPerSocket: 10_000,
    // node:http checks the request and headers timeouts on this interval (30 s by default).
    http: {
      headersTimeout: http.headersTimeoutMs, requestTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(http.headersTimeoutMs / 4))),
    },
  };
}

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || address?.startsWith('127.') === true || address?.startsWith('::ffff:127.') === true;
}

/** How often refusals are summed up in the log: one line per interval, not one per refusal. */
const SUMMARY_MS = 60_000;

/**
 * What a noisy client may cost: at most `maxConnections` open connections (per source address
 * `maxConnectionsPerAddress`; more are closed at once) and a request rate per source address
 * (@fastify/rate-limit; the federation endpoint and the rest counted apart), answered 429
 * `rate_limited` with Retry-After. Loopback clients are exempt unless `limitLoopback`. Refusals
 * are logged as one summary line a minute with counts, never one line each.
 */
export async function guardServer(app: FastifyInstance, http: HttpConfig, log: Logger): Promise<void> {
  const refused = new Map<string, number>();
  const note = (what: string): void => {
    refused.set(what, (refused.get(what) ?? 0) + 1);
  };
  const timer = setInterval(() => {
    if (refused.size === 0) return;
    log.warn({ refused: Object.fromEntries(refused) }, `refused ${[...refused.values()].reduce((a, b) => a + b, 0)} connections or requests in the last minute`);
    refused.clear();
  }, SUMMARY_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));

  app.server.maxConnections = http.maxConnections;
  const open = new Map<string, number>();
  app.server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (!http.limitLoopback && isLoopback(address)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > http.maxConnectionsPerAddress) {
      note('connections_per_address');
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });

  const federation = (req: FastifyRequest): boolean => req.url.startsWith(FEDERATION_PATH);
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    max: (req) => (federation(req) ? http.federationPerMinute : http.apiPerMinute),
    keyGenerator: (req) => `${federation(req) ? 'federation' : 'api'} ${req.ip}`,
    allowList: (req) => !http.limitLoopback && isLoopback(req.socket.remoteAddress),
    onExceeded: () => note('rate_limited'),
    errorResponseBuilder: (_req, context) => new HotlineError('rate_limited', `Too many requests from this address: at most ${context.max} a minute; retry after ${context.after}`),
  });
}
