import type { Kysely, Transaction } from 'kysely';
import { canonicalJson, sha256Hex } from '../../shared/canonical.js';
import { isoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import { statement } from '../../shared/statement.js';
import type { AuditTable, AuditTables } from './audit.tables.js';
import {
  AUDIT_ACTIONS, type AuditEntry, type AuditFilter, type AuditProblem, type AuditRecord, type AuditVerifyReport,
} from './audit.types.js';

/** The `prev_hash` of the first record. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** Most characters of a record's details (canonical JSON): facts, not content. */
const DETAILS_MAX = 2048;

/**
 * Members a record's details never have: a message body or text, or a secret. A caller that
 * passes one is a bug (`internal`), caught by the tests before it stores anything.
 */
const FORBIDDEN_DETAILS = /^(body|text|secret|token_secret|password|key|private_key|fields)$/i;

function checkDetails(details: Record<string, unknown>): string {
  for (const k of Object.keys(details)) {
    if (FORBIDDEN_DETAILS.test(k)) fail('internal', `An audit record never holds "${k}" (no message bodies, no secrets)`);
  }
  const text = canonicalJson(details);
  if (text.length > DETAILS_MAX) fail('internal', `An audit record's details are at most ${DETAILS_MAX} characters (got ${text.length})`);
  return text;
}

/** The hash of a record: SHA-256 over the canonical JSON of every column but `hash`, details parsed. */
export function auditHash(r: Omit<AuditTable, 'hash'>, details: unknown = JSON.parse(r.details)): string {
  return sha256Hex(canonicalJson({
    seq: Number(r.seq), id: r.id, at: Number(r.at), actor: r.actor, action: r.action, subject: r.subject,
    address: r.address, details, prev_hash: r.prev_hash,
  }));
}

// Compiled once (shared/statement.ts): a person's every send and ack records one, on the outbox's path.
const selectHead = statement([], (db: Kysely<AuditTables>) => db.selectFrom('audit_head').select(['seq', 'hash']).where('name', '=', 'audit'));
const COLUMNS = ['seq', 'id', 'at', 'actor', 'action', 'subject', 'address', 'details', 'prev_hash', 'hash'] as const;
const insertRecord = statement(COLUMNS, (db: Kysely<AuditTables>, p) => db.insertInto('audit').values(p));
const writeHead = statement(['seq', 'hash'], (db: Kysely<AuditTables>, p) => db.insertInto('audit_head').values({ name: 'audit', seq: p.seq, hash: p.hash })
  .onConflict((oc) => oc.column('name').doUpdateSet({ seq: p.seq, hash: p.hash })));

/** The chain's head as this transaction last wrote it: read once per transaction (a group commit records many). */
const headIn = new WeakMap<object, { seq: number; hash: string }>();

/** Records kept back in a transaction, to be written together ({@link recordAudit} with `keepBack`, {@link writeKeptAudit}). */
const keptIn = new WeakMap<object, AuditTable[]>();

/** Records per INSERT (10 columns). */
const INSERT_ROWS = 500;

/**
 * Appends one record inside the caller's transaction `trx`, chained to the last one: with the
 * action it records, so that both are stored or neither. Records are never updated nor deleted.
 * Outside a transaction use {@link recordAuditNow}. With `keepBack` the record is chained at once
 * but written, with the chain's head, by {@link writeKeptAudit} (the message hook: one INSERT for
 * a group commit's records instead of two statements each); the caller must call it before commit.
 */
export async function recordAudit<DB>(tx: Transaction<DB>, e: AuditEntry, now: number = Date.now(), keepBack = false): Promise<void> {
  // Any transaction on a node's store holds the audit tables (adapters/storage/schema.ts); Kysely's
  // table types are invariant, so a module's transaction is seen here as one over the audit tables.
  const trx = tx as unknown as Transaction<AuditTables>;
  if (!(AUDIT_ACTIONS as readonly string[]).includes(e.action)) fail('internal', `Unknown audit action "${e.action}"`);
  const detailsObject = e.details ?? {};
  const details = checkDetails(detailsObject);
  let head = headIn.get(tx);
  if (head === undefined) {
    const r = (await selectHead(trx, {})).rows[0] as { seq: number | bigint; hash: string } | undefined;
    head = r === undefined ? { seq: 0, hash: AUDIT_GENESIS } : { seq: Number(r.seq), hash: r.hash };
  }
  const seq = head.seq + 1;
  const row: Omit<AuditTable, 'hash'> = {
    seq, id: uuidv7(now), at: now, actor: e.actor.who, action: e.action, subject: e.subject ?? null,
    address: e.actor.address, details, prev_hash: head.hash,
  };
  const hash = auditHash(row, detailsObject);
  headIn.set(tx, { seq, hash });
  if (keepBack) {
    let kept = keptIn.get(tx);
    if (kept === undefined) keptIn.set(tx, (kept = []));
    kept.push({ ...row, hash });
    return;
  }
  await insertRecord(trx, { ...row, hash });
  await writeHead(trx, { seq, hash });
}

/** Writes the records {@link recordAudit} kept back in this transaction, and the chain's head. */
export async function writeKeptAudit<DB>(tx: Transaction<DB>): Promise<void> {
  const kept = keptIn.get(tx);
  if (kept === undefined || kept.length === 0) return;
  keptIn.delete(tx);
  const trx = tx as unknown as Transaction<AuditTables>;
  for (let i = 0; i < kept.length; i += INSERT_ROWS) await trx.insertInto('audit').values(kept.slice(i, i + INSERT_ROWS)).execute();
  // The head as this transaction last chained it (a record written at once after these ones moved it on).
  await writeHead(trx, headIn.get(tx)!);
}

/** Forgets the records kept back in this transaction (their message was refused): the head is read again from the store. */
export function discardKeptAudit(tx: object): void {
  keptIn.delete(tx);
  headIn.delete(tx);
}

/** Appends one record in a transaction of its own (for actions that are not transactions: reads, runs, 401s). */
export async function recordAuditNow<DB>(db: Kysely<DB>, e: AuditEntry, now: number = Date.now()): Promise<void> {
  await (db as unknown as Kysely<AuditTables>).transaction().execute((trx) => recordAudit(trx, e, now));
}

/**
 * What other modules and the adapters call: `audit.record(db, entry)` (its own transaction) or
 * `audit.recordIn(trx, entry)` (the caller's). The web console's sign-in will call
 * `audit.record(db, { actor, action: 'auth.sign_in' | 'auth.sign_in_failed', subject: user })`.
 */
export const audit = {
  record: (db: Kysely<AuditTables>, e: AuditEntry, now: number = Date.now()): Promise<void> => recordAuditNow(db, e, now),
  recordIn: recordAudit,
} as const;

const DURATION = /^(\d+)\s*(s|m|h|d)$/;

/** `--since`: an ISO 8601 time, or a duration back from `now` (30m, 24h, 7d); else `invalid_argument`. */
export function parseSince(since: string, now: number): number {
  const d = DURATION.exec(since.trim());
  if (d !== null) return now - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(since);
  if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(t)) fail('invalid_argument', `--since takes a time (2026-12-01T00:00Z) or a duration back from now (30m, 24h, 7d), not "${since}"`);
  return t;
}

function toRecord(r: AuditTable): AuditRecord {
  return {
    seq: Number(r.seq), id: r.id, at: isoTime(Number(r.at)), actor: r.actor, action: r.action, subject: r.subject,
    address: r.address, details: JSON.parse(r.details) as Record<string, unknown>, hash: r.hash,
  };
}

/** Records matching the filter, newest first (at most `limit`, default 100, at most 10,000). */
export async function searchAudit(db: Kysely<AuditTables>, f: AuditFilter, now: number): Promise<AuditRecord[]> {
  const limit = f.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) fail('invalid_argument', `--limit is a number from 1 to 10000 (got ${String(f.limit)})`);
  if (f.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(f.action)) {
    fail('invalid_argument', `Unknown action "${f.action}"; the actions are: ${AUDIT_ACTIONS.join(', ')}`);
  }
  let q = db.selectFrom('audit').selectAll();
  if (f.user !== undefined) q = q.where('actor', '=', f.user);
  if (f.action !== undefined) q = q.where('action', '=', f.action);
  if (f.since !== undefined) q = q.where('at', '>=', parseSince(f.since, now));
  if (f.before !== undefined) q = q.where('seq', '<', f.before);
  return (await q.orderBy('seq', 'desc').limit(limit).execute()).map(toRecord);
}

/**
 * Walks the whole trail in order and checks that it is whole and unchanged: seqs 1..n with no
 * gap, each record's hash matches its content, each record names the previous one's hash, and
 * the head names the last record. Reports the first bad record (by seq and id): after it,
 * nothing can be trusted. Pages of `pageSize` rows keep memory flat.
 */
export async function verifyAudit(db: Kysely<AuditTables>, pageSize = 1000): Promise<AuditVerifyReport> {
  let expected = 1;
  let prev = AUDIT_GENESIS;
  let problem: AuditProblem | null = null;
  let after = 0;
  outer: for (;;) {
    const page = await db.selectFrom('audit').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    for (const r of page) {
      const seq = Number(r.seq);
      const name = `audit record #${seq} (${r.action} by ${r.actor}, id ${r.id})`;
      if (seq !== expected) {
        problem = { seq: expected, id: null, code: 'audit_removed', message: `audit record #${expected} is missing: #${expected - 1 || 'start'} is followed by #${seq}; a record was removed` };
        break outer;
      }
      let hash: string | null = null;
      try {
        hash = auditHash(r);
      } catch {
        // details that are not JSON: changed
      }
      if (hash !== r.hash) {
        problem = { seq, id: r.id, code: 'audit_changed', message: `${name} does not match its hash: it was changed, or moved from another place in the trail` };
        break outer;
      }
      if (r.prev_hash !== prev) {
        problem = { seq, id: r.id, code: 'audit_chain_broken', message: `${name} does not follow #${seq - 1}: the previous record's hash differs (records were removed, replaced or reordered)` };
        break outer;
      }
      prev = r.hash;
      expected = seq + 1;
    }
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) break;
    after = Number(last.seq);
  }
  const records = expected - 1;
  if (problem === null) {
    const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('name', '=', 'audit').executeTakeFirst();
    const headSeq = head === undefined ? 0 : Number(head.seq);
    if (headSeq !== records || (head !== undefined && head.hash !== prev)) {
      problem = {
        seq: headSeq, id: null, code: 'audit_head_mismatch',
        message: headSeq > records ? `audit record #${records + 1} to #${headSeq} are missing: the trail ends at #${records} but its head names #${headSeq}; records were removed`
          : `the audit trail ends at #${records} but its head names #${headSeq} with another hash; the trail or its head was changed`,
      };
    }
  }
  return { ok: problem === null, records, head_hash: prev, problem };
}
