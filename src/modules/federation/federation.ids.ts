import type { Kysely } from 'kysely';
import { prefixBounds, resolveUuid, shortIdsAmong } from '../../shared/shortid.js';
import { statement } from '../../shared/statement.js';
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
    const found = [...(await idBefore(db, { id })).rows, ...(await idAfter(db, { id })).rows] as { id: string }[];
    return found.map((r) => r.id);
  });
}

// Compiled once: every alert names its message by a short id (deadlines.alerts.ts).
const idBefore = statement(['id'], (db: Kysely<FederationTables>, p) => db.selectFrom('messages').select('id').where('id', '<', p.id).orderBy('id', 'desc').limit(1));
const idAfter = statement(['id'], (db: Kysely<FederationTables>, p) => db.selectFrom('messages').select('id').where('id', '>', p.id).orderBy('id').limit(1));
