import { dialectOf } from '../../shared/dialect.js';
import type { Kysely, Transaction } from 'kysely';
import { sha256Hex } from '../../shared/canonical.js';
import type { FederationTables, LinksTable } from './federation.tables.js';
import { GENESIS_HASH } from './federation.types.js';

type Db = Kysely<FederationTables> | Transaction<FederationTables>;

/**
 * The name of the lock ({@link lockedTransaction}, shared/serial.ts) that every transaction writing
 * the link from → to takes before it begins: queueing, recording a delivery, receiving.
 */
export function linkLock(from: string, to: string): string {
  return `hotline link\n${from}\n${to}`;
}

/**
 * Takes the write lock on a link's row inside a transaction, creating the row if it is new, and
 * returns its state. SQLite: the first statement is a write, so that SQLite takes its write lock
 * before reading (no stale snapshot). PostgreSQL: the row is locked (FOR UPDATE), and inserted
 * first only when it is not there yet: one round trip for a link that exists, as every link does
 * after its first message. Concurrent writers on one link queue.
 */
export async function lockLink(trx: Transaction<FederationTables>, from: string, to: string): Promise<LinksTable> {
  const existing = dialectOf(trx) === 'postgres' ? await lockedRow(trx, from, to) : undefined;
  if (existing !== undefined) return normaliseLink(existing);
  await trx.insertInto('links').values(newLink(from, to))
    .onConflict((oc) => oc.columns(['from_party', 'to_party']).doNothing())
    .execute();
  const row = await lockedRow(trx, from, to);
  if (row === undefined) throw new Error(`the link ${from} → ${to} is missing after its insert`);
  return normaliseLink(row);
}

/**
 * The link's row, locked for this transaction: SQLite by a write first (its write lock, taken
 * before any read, so no stale snapshot), PostgreSQL by FOR UPDATE (one round trip).
 */
async function lockedRow(trx: Transaction<FederationTables>, from: string, to: string): Promise<LinksTable | undefined> {
  const q = trx.selectFrom('links').selectAll().where('from_party', '=', from).where('to_party', '=', to);
  if (dialectOf(trx) === 'postgres') return q.forUpdate().executeTakeFirst();
  await trx.updateTable('links').set((eb) => ({ attempts: eb.ref('attempts') })).where('from_party', '=', from).where('to_party', '=', to).execute();
  return q.executeTakeFirst();
}

/**
 * Like {@link lockLink} but creates nothing: a link that does not exist yet is returned in its
 * genesis state, unsaved, so that a refused first envelope leaves no trace. Save it with {@link saveLinkHead}.
 */
export async function lockLinkIfAny(trx: Transaction<FederationTables>, from: string, to: string): Promise<LinksTable> {
  const row = await lockedRow(trx, from, to);
  return row === undefined ? newLink(from, to) : normaliseLink(row);
}

/** Writes a link's chain head, creating the row if this is its first envelope. */
export async function saveLinkHead(trx: Transaction<FederationTables>, link: LinksTable): Promise<void> {
  const { from_party, to_party, last_seq, head_hash, acked_seq, send_from_seq, attempts, next_attempt_at, last_attempt_at, last_error, epoch_start_seq } = link;
  await trx.insertInto('links')
    .values({ from_party, to_party, last_seq, head_hash, acked_seq, send_from_seq, attempts, next_attempt_at, last_attempt_at, last_error, epoch_start_seq })
    .onConflict((oc) => oc.columns(['from_party', 'to_party']).doUpdateSet({ last_seq: link.last_seq, head_hash: link.head_hash, epoch_start_seq: link.epoch_start_seq }))
    .execute();
}

function newLink(from: string, to: string): LinksTable {
  return {
    from_party: from, to_party: to, last_seq: 0, head_hash: GENESIS_HASH, acked_seq: 0, send_from_seq: 1,
    attempts: 0, next_attempt_at: null, last_attempt_at: null, last_error: null, epoch_start_seq: 1,
  };
}

/**
 * The `prev` of the first envelope of a link epoch that begins at `seq` (docs/protocol.md section
 * 4.1): GENESIS for the first epoch (seq 1); for a later one, SHA-256 (lowercase hex) of the UTF-8
 * text `hotline-link-epoch-v1\n<from>\n<to>\n<seq>`, a value no envelope hashes to by chance.
 */
export function epochGenesis(from: string, to: string, seq: number): string {
  return seq === 1 ? GENESIS_HASH : sha256Hex(`hotline-link-epoch-v1\n${from}\n${to}\n${seq}`);
}

/**
 * Begins a new epoch on our outbound link to `to` (a removed peer pinned again): the next envelope
 * is seq last_seq + 1 with `prev` = its epoch genesis; what was queued and never receipted in the
 * old epoch stays stored as evidence and is never transmitted. A link with no envelope yet is left
 * as it is (its first epoch has not begun).
 */
export async function beginEpoch(trx: Transaction<FederationTables>, from: string, to: string): Promise<number> {
  const link = await getLink(trx, from, to);
  if (link === undefined || link.last_seq === 0) return 1;
  const start = link.last_seq + 1;
  await trx.updateTable('links').set({
    epoch_start_seq: start, head_hash: epochGenesis(from, to, start), send_from_seq: start, acked_seq: link.last_seq,
    attempts: 0, last_error: null, next_attempt_at: null,
  }).where('from_party', '=', from).where('to_party', '=', to).execute();
  return start;
}

export async function getLink(db: Db, from: string, to: string): Promise<LinksTable | undefined> {
  const row = await db.selectFrom('links').selectAll().where('from_party', '=', from).where('to_party', '=', to).executeTakeFirst();
  return row === undefined ? undefined : normaliseLink(row);
}

/** PostgreSQL returns bigint columns as strings; the domain sees numbers. */
export function normaliseLink(row: LinksTable): LinksTable {
  return {
    ...row,
    last_seq: Number(row.last_seq),
    acked_seq: Number(row.acked_seq),
    send_from_seq: Number(row.send_from_seq),
    attempts: Number(row.attempts),
    next_attempt_at: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
    last_attempt_at: row.last_attempt_at === null ? null : Number(row.last_attempt_at),
    epoch_start_seq: Number(row.epoch_start_seq ?? 1),
  };
}

/** This node's links to these peers, each with its peer's lifecycle state (null when the peer row is gone): one query. */
export async function outboundLinks(db: Db, self: string, to: readonly string[]): Promise<(LinksTable & { peer_state: string | null })[]> {
  const rows = await db.selectFrom('links').leftJoin('peers', 'peers.party', 'links.to_party').selectAll('links').select('peers.state as peer_state')
    .where('links.from_party', '=', self).where('links.to_party', 'in', [...to]).execute();
  return rows.map((l) => ({ ...normaliseLink(l), peer_state: l.peer_state }));
}
