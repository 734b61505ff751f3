import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { prefixBounds, resolveUuid, shortIds, shortIdsAmong } from '../../shared/shortid.js';
import type { FederationTables } from './federation.tables.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

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
export async function shortMessageIds(db: Kysely<FederationTables>, ids: readonly string[]): Promise<Map<string, string>> {
  const around = await messageNeighbours(db, ids);
  return shortIdsAmong(ids, (id) => Promise.resolve(around.get(id) ?? []));
}

/**
 * Each id's short id as if it were shown alone (an alert names one message): the shortest prefix
 * that no stored neighbour of it shares, whatever the other ids are. One read per 100 ids.
 */
export async function shortMessageIdEach(db: Kysely<FederationTables>, ids: readonly string[]): Promise<Map<string, string>> {
  const around = await messageNeighbours(db, ids);
  return new Map(ids.map((id) => [id, shortIds([id, ...(around.get(id) ?? [])]).get(id)!]));
}

/**
 * The stored ids just before and just after each of `ids` (none at either end of the table): two
 * reads of the primary key per id, in one statement whatever the number of ids (the ids one array
 * parameter: `unnest` on PostgreSQL, `json_each` on SQLite), planned once for all of them.
 */
export async function messageNeighbours(db: Kysely<FederationTables>, ids: readonly string[]): Promise<Map<string, string[]>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, string[]>();
  if (unique.length === 0) return out;
  const given = dialectOf(db) === 'postgres' ? sql`unnest(${unique}::text[]) as n(id)` : sql`(select value as id from json_each(${JSON.stringify(unique)})) as n`;
  const rows = await sql<{ id: string; before: string | null; after: string | null }>`select n.id as id,
    (select m.id from messages m where m.id < n.id order by m.id desc limit 1) as before,
    (select m.id from messages m where m.id > n.id order by m.id limit 1) as after
    from ${given}`.execute(db);
  for (const r of rows.rows) out.set(r.id, [r.before, r.after].filter((n): n is string => n !== null));
  return out;
}
