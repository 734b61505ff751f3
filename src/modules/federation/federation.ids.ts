import type { Kysely } from 'kysely';
import { prefixBounds, resolveUuid, shortIdsAmong } from '../../shared/shortid.js';
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

/** How a listing shows these message ids: the shortest prefix (at least 8 characters) that names one message on this node. */
export function shortMessageIds(db: Kysely<FederationTables>, ids: readonly string[]): Promise<Map<string, string>> {
  return shortIdsAmong(ids, async (id) => {
    const before = await db.selectFrom('messages').select('id').where('id', '<', id).orderBy('id', 'desc').limit(1).executeTakeFirst();
    const after = await db.selectFrom('messages').select('id').where('id', '>', id).orderBy('id').limit(1).executeTakeFirst();
    return [before?.id, after?.id].filter((x): x is string => x !== undefined);
  });
}
