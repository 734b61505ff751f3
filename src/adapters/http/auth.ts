import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { sha256Hex } from '../../shared/canonical.js';
import { fail } from '../../shared/errors.js';

/**
 * Bearer-token check for the REST API. Until users and tokens with channel grants exist, the one
 * token is the administrator's, created by `hotline init` in `<home>/admin.token`.
 */
export function requireAdmin(tokenSha256: string) {
  const expected = Buffer.from(tokenSha256, 'hex');
  return async (req: FastifyRequest): Promise<void> => {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (m === null) fail('unauthorized', 'Send "Authorization: Bearer <token>"; the admin token is in <home>/admin.token');
    const got = Buffer.from(sha256Hex(m[1]!), 'hex');
    if (!timingSafeEqual(got, expected)) fail('unauthorized', 'The token is not valid for this node');
  };
}
