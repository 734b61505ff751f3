/**
 * REST authorization. Every API request carries `Authorization: Bearer <token>`: the node
 * administrator's token (`<home>/admin.token`, every channel) or a user's token (`hotline token
 * create`). `authenticate` turns it into a request-scoped principal `{ user, role, channels }`.
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
import { fail } from '../../shared/errors.js';
import { refuseCredentials, type UserRepository } from '../../modules/users/users.service.js';
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
}

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
export function authenticate(ctx: { users: UserRepository }) {
  return async (req: FastifyRequest): Promise<void> => {
    const p = await ctx.users.authenticate(bearer(req));
    if (p.role === 'peer') fail('forbidden', `"${p.user}" is an account of peer ${p.peer ?? '?'}: it may use TAXII (/taxii2/) only, not the REST API`);
    req.principal = p;
  };
}

/** The request's principal; fails closed if the route forgot `onRequest: authenticate(ctx)`. */
export function principalOf(req: FastifyRequest): Principal {
  const p = req.principal;
  if (p === null || p === undefined) fail('internal', `Route ${req.routeOptions.url ?? req.url} has no authentication; add onRequest: authenticate(ctx)`);
  return p;
}
