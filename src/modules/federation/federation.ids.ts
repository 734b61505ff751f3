import type { Kysely } from 'kysely';
import { prefixBounds, resolveUuid } from '../../shared/shortid.js';
import type { FederationTables } from './federation.tables.js';

/**
 * The ids of stored messages that start with `prefix` (at most `limit`), on `channels` when
 * given: the candidates for a short message id (shared/shortid.ts). A range on the primary key.
 */
export async function messageIdsStartingWith(db: Kysely<FederationTables>, prefix: string, limit: number, channels?: readonly string[]): Promise<string[]> {
  if (channels !== undefined && channels.length === 0) return [];
  const { lo, hi } = prefixBounds(prefix);
  let q = db.selectFrom('messages').select('id').where('id', '>=', lo).where('id', '<', hi);
  if (channels !== undefined) q = q.where('channel', 'in', [...channels]);
  return (await q.orderBy('id').limit(limit).execute()).map((r) => r.id);
}

/**
 * A message id as a person types it: the whole id, or a unique prefix of at least 8 characters
 * among the messages on `channels` (the reader's); `ambiguous_id` lists the candidates,
 * `not_found` when none matches, `invalid_argument` when too short.
 */
export function resolveMessageId(db: Kysely<FederationTables>, input: string, channels?: readonly string[]): Promise<string> {
  return resolveUuid(input, 'message', (p, n) => messageIdsStartingWith(db, p, n, channels));
}
