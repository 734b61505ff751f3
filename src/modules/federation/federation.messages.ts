import { createRequire } from 'node:module';
import type { Expression, Kysely, OperandExpression, SqlBool, Transaction } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { statement, type QueryRunner } from '../../shared/statement.js';
import type { FederationTables, MessagesTable } from './federation.tables.js';

/**
 * The stored messages as other modules read them (issue 13, one storage seam: the `messages` table
 * is federation's, and only this module names it in a query). Each function is one query, as its
 * caller made it before; pass the caller's transaction as `db` to read inside it.
 */
type Db = Kysely<FederationTables>;

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');
type Column = keyof MessagesTable;

/** One stored message, or undefined. */
export async function messageById(db: Db, id: string): Promise<MessagesTable | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Some columns of one stored message (only those are read: an envelope is large), or undefined. */
export async function messageFields<K extends Column>(db: Db, id: string, columns: readonly K[]): Promise<Pick<MessagesTable, K> | undefined> {
  return db.selectFrom('messages').select(columns as readonly Column[]).where('id', '=', id).executeTakeFirst() as Promise<Pick<MessagesTable, K> | undefined>;
}

/** Some columns of the stored messages among `ids` (those not stored are left out); `tlp` keeps only those so marked. */
export async function messagesFields<K extends Column>(db: Db, ids: readonly string[], columns: readonly K[], tlp?: string): Promise<Pick<MessagesTable, K>[]> {
  let q = db.selectFrom('messages').select(columns as readonly Column[]).where('id', 'in', [...ids]);
  if (tlp !== undefined) q = q.where('tlp', '=', tlp);
  return q.execute() as Promise<Pick<MessagesTable, K>[]>;
}

/** The messages of one case (of one direction, when given), in the order this node stored them. */
export async function messagesOfCase(db: Db, caseId: string, direction?: 'in' | 'out'): Promise<MessagesTable[]> {
  let q = db.selectFrom('messages').selectAll().where('case_id', '=', caseId);
  if (direction !== undefined) q = q.where('direction', '=', direction);
  return q.orderBy('stored_at').orderBy('id').execute();
}

/** The latest messages of one direction (on these channels, when given), newest first. */
export async function latestMessages(db: Db, direction: 'in' | 'out', channels: readonly string[] | undefined, limit: number): Promise<MessagesTable[]> {
  let q = db.selectFrom('messages').selectAll().where('direction', '=', direction);
  if (channels !== undefined) q = q.where('channel', 'in', [...channels]);
  return q.orderBy('stored_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** What a page of stored messages is filtered on (messaging.inbox.ts); every filter narrows. */
export interface MessageFilter {
  direction: 'in' | 'out';
  channels: readonly string[];
  priorities?: readonly string[];
  kinds?: readonly string[];
  from?: string;
  to?: string;
  caseId?: string;
  /** Stored at or after (ms). */
  since?: number;
  /** Only messages answered: another message, the other way, in reply to it (an ack is not an answer). */
  answered?: boolean;
  /** Only ids each of these subqueries selects (each built by the module that owns its table). */
  idIn?: readonly OperandExpression<string>[];
}

/** A page of stored messages, newest first, strictly after `after` (stored time, then id), at most `limit`. */
export async function messagePage(db: Db, f: MessageFilter, after: { storedAt: number; id: string } | undefined, limit: number): Promise<MessagesTable[]> {
  let q = db.selectFrom('messages').selectAll().where('direction', '=', f.direction).where('channel', 'in', [...f.channels]);
  if (f.priorities !== undefined) q = q.where('priority', 'in', [...f.priorities]);
  if (f.kinds !== undefined) q = q.where('kind', 'in', [...f.kinds]);
  if (f.from !== undefined) q = q.where('from_party', '=', f.from);
  if (f.to !== undefined) q = q.where('to_party', '=', f.to);
  if (f.caseId !== undefined) q = q.where('case_id', '=', f.caseId);
  if (f.since !== undefined) q = q.where('stored_at', '>=', f.since);
  if (f.answered === true) {
    q = q.where(({ exists, selectFrom }) => exists(selectFrom('messages as r').select('r.id')
      .whereRef('r.in_reply_to', '=', 'messages.id').whereRef('r.direction', '<>', 'messages.direction').where('r.kind', '<>', 'ack')));
  }
  for (const sub of f.idIn ?? []) q = q.where('id', 'in', sub);
  if (after !== undefined) q = q.where((eb) => eb.or([eb('stored_at', '<', after.storedAt), eb.and([eb('stored_at', '=', after.storedAt), eb('id', '<', after.id)])]));
  return q.orderBy('stored_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** The messages in reply to any of `ids`, other than acks: what each answers and its direction. */
export async function repliesTo(db: Db, ids: readonly string[]): Promise<Pick<MessagesTable, 'in_reply_to' | 'direction'>[]> {
  return db.selectFrom('messages').select(['in_reply_to', 'direction']).where('in_reply_to', 'in', [...ids]).where('kind', '<>', 'ack').execute();
}

/** The key-change envelopes among these parties (from one to another), oldest first. */
export async function keyChangesAmong(db: Db, parties: readonly string[]): Promise<Pick<MessagesTable, 'envelope' | 'from_party' | 'sent_at'>[]> {
  return db.selectFrom('messages').select(['envelope', 'from_party', 'sent_at'])
    .where('kind', '=', 'key-change').where('from_party', 'in', [...parties]).where('to_party', 'in', [...parties]).orderBy('sent_at').execute();
}

/** The stored messages in the order they were stored (SQLite's rowid), for the search index (messaging.search.ts). */
export interface StoredInOrder { rowid: number; id: string; kind: string; envelope: string }
type Stored = { messages: StoredInOrder };

const storedAfter = statement(['after', 'limit'], (db: Kysely<Stored>, p) => db.selectFrom('messages').select(['rowid', 'id', 'kind', 'envelope'])
  .where('rowid', '>', p.after).orderBy('rowid').limit(p.limit));

/** Up to `limit` messages stored after the one at `rowid`, in the order they were stored. */
export async function messagesStoredAfter(db: QueryRunner, rowid: number, limit: number): Promise<StoredInOrder[]> {
  return (await storedAfter(db, { after: rowid, limit })).rows as StoredInOrder[];
}

/**
 * PostgreSQL's search indexer (messaging.search.ts): up to `limit` messages stored after `rowid`
 * that `indexed` (a condition the indexer builds over its own table, correlated with
 * `messages.rowid`) does not hold for, in storing order.
 */
export async function messagesStoredAfterUnless(db: QueryRunner, rowid: number, limit: number, indexed: Expression<SqlBool>): Promise<StoredInOrder[]> {
  return (db as unknown as Kysely<Stored>).selectFrom('messages').select(['rowid', 'id', 'kind', 'envelope'])
    .where('rowid', '>', rowid).where((eb) => eb.not(indexed)).orderBy('rowid').limit(limit).execute();
}

/**
 * PostgreSQL: the highest `messages.rowid` given out so far (`top`), then the transactions (virtual
 * ids) holding a write lock on `messages`: every writer holds its RowExclusiveLock from before it
 * draws a rowid until it ends, so these are the only ones that may still commit a rowid up to
 * `top` (read in this order: a transaction that drew one up to `top` already held its lock).
 */
export async function messagesRowidHorizon(db: QueryRunner): Promise<{ top: number; writers: string[] }> {
  const top = (await sql<{ top: number | null }>`select pg_sequence_last_value(pg_get_serial_sequence('messages', 'rowid')) as top`.execute(db as unknown as Kysely<Stored>)).rows[0]?.top ?? 0;
  const writers = (await sql<{ vxid: string }>`select virtualtransaction as vxid from pg_locks
    where locktype = 'relation' and mode = 'RowExclusiveLock' and relation = 'messages'::regclass
    and database = (select oid from pg_database where datname = current_database())`.execute(db as unknown as Kysely<Stored>)).rows.map((r) => r.vxid);
  return { top, writers };
}

/** Stores receipts for messages that have none yet: one statement on PostgreSQL (a round trip per receipt costs there), one compiled statement per receipt on SQLite. */
export async function storeReceipts(trx: Transaction<FederationTables>, accepted: readonly { id: string; receipt: string }[], now: number): Promise<void> {
  if (dialectOf(trx) === 'postgres') {
    await sql`update messages set receipt = r.receipt, receipted_at = ${now}
      from unnest(${accepted.map((a) => a.id)}::text[], ${accepted.map((a) => a.receipt)}::text[]) as r(id, receipt)
      where messages.id = r.id and messages.receipt is null`.execute(trx);
    return;
  }
  // One statement compiled once, run per receipt with its own parameters.
  const compiled = trx.updateTable('messages').set({ receipt: '', receipted_at: now }).where('id', '=', '').where('receipt', 'is', null).compile();
  for (const a of accepted) await trx.executeQuery({ ...compiled, parameters: [a.receipt, now, a.id] });
}
