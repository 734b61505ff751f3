import type { FastifyReply, FastifyRequest } from 'fastify';
import { HotlineError } from '../../../shared/errors.js';
import { refuseCredentials, type UserRepository } from '../../../modules/users/users.service.js';
import type { Principal } from '../../../modules/users/users.types.js';

/** Sent with every 401: the schemes this server takes (TAXII 2.1 section 1.6.9). */
export const WWW_AUTHENTICATE = 'Basic realm="hotline", Bearer realm="hotline"';

/**
 * TAXII clients authenticate with HTTP Basic (what TAXII 2.1 section 8.2.2 says servers SHOULD
 * implement: user name and an API token as the password) or a bearer token. Either resolves to
 * the same principal as the REST API's (peer accounts included: TAXII is what they are for).
 * TLS terminates in front of the node (docs/taxii.md).
 */
export async function taxiiPrincipal(users: UserRepository, req: FastifyRequest): Promise<Principal> {
  const h = req.headers.authorization;
  // Every way of failing (no header, a malformed one, a bad token, another user's token) gets the one answer of refuseCredentials.
  if (typeof h !== 'string' || h.trim() === '') return refuseCredentials();
  const bearer = /^Bearer\s+(\S+)$/i.exec(h);
  if (bearer !== null) return users.authenticate(bearer[1]!);
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
  const text = basic === null ? '' : Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return refuseCredentials();
  const p = await users.authenticate(text.slice(colon + 1));
  if (p.user !== text.slice(0, colon)) return refuseCredentials();
  return p;
}

/** Adds the challenge to a 401 reply. */
export function challenge(reply: FastifyReply, e: HotlineError): void {
  if (e.code === 'unauthorized') void reply.header('www-authenticate', WWW_AUTHENTICATE);
}
