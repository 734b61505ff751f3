import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { HOUR_BASE_MIN, SEEN_START_MAX, SeenKeys } from './feeds.dedupe.js';
import type { FeedsTables } from './feeds.tables.js';

// Kysely's CommonJS build, through require as the store is opened (federation.hooks.ts says why).
// Here and not in feeds.dedupe.ts: the parse worker imports that file, and must not load Kysely (a
// 10M-row run peaked ~30 MB higher with Kysely's bundle loaded in the worker; docs/benchmarks.md).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * The deduplication keys in the store (`feed_seen`): forgotten after the keep period, loaded at the
 * start of a run into a {@link SeenKeys} table (feeds.dedupe.ts), claimed with each report.
 */

/**
 * Deletes the keys stored before `keepSince`, 20,000 a statement (a long delete would hold the
 * store from the node). Rows are named by SQLite's rowid, or PostgreSQL's ctid (`= any(array(…))`
 * is a TID scan there; `in (select …)` would join).
 */
export async function forget(db: Kysely<FeedsTables>, keepSince: number): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  for (;;) {
    const r = pg
      ? await sql`delete from feed_seen where ctid = any(array(select ctid from feed_seen where stored_at < ${keepSince} limit ${FORGET_CHUNK}))`.execute(db)
      : await sql`delete from feed_seen where rowid in (select rowid from feed_seen where stored_at < ${keepSince} limit ${FORGET_CHUNK})`.execute(db);
    if (Number(r.numAffectedRows ?? 0) < FORGET_CHUNK) return;
  }
}

const FORGET_CHUNK = 20_000;
/** Keys read per query when a run loads the table (keyset paging over the primary key: no cursor, no offset). */
const LOAD_CHUNK = 10_000;

/** Reads the keys reported at or after `sinceMs` (stored time) into a table sized for `expected` more, a page at a time. */
export async function loadSeen(db: Kysely<FeedsTables>, sinceMs: number, expected = 0): Promise<SeenKeys> {
  const n = await db.selectFrom('feed_seen').select((e) => e.fn.countAll<number>().as('n')).where('stored_at', '>=', sinceMs).executeTakeFirstOrThrow();
  const keys = new SeenKeys(Number(n.n) + Math.min(expected, SEEN_START_MAX));
  // Pages by (hi, lo), the primary key, on both dialects (Kysely's stream() needs pg-cursor on PostgreSQL).
  let after: [number, number] | null = null;
  for (;;) {
    let q = db.selectFrom('feed_seen').select(['hi', 'lo', 'seen_min']).where('stored_at', '>=', sinceMs);
    if (after !== null) {
      const [h, l] = after;
      q = q.where((eb) => eb(eb.refTuple('hi', 'lo'), '>', eb.tuple(h, l)));
    }
    const rows = await q.orderBy('hi').orderBy('lo').limit(LOAD_CHUNK).execute();
    for (const r of rows) keys.load(Number(r.hi), Number(r.lo), Number(r.seen_min));
    if (rows.length < LOAD_CHUNK) return keys;
    const last = rows[rows.length - 1]!;
    after = [Number(last.hi), Number(last.lo)];
  }
}

/** Rows per INSERT of keys (4 columns: far below PostgreSQL's 65,535 bound parameters and SQLite's 32,766). */
const CLAIM_CHUNK = 1000;

/** `rows` in rounds in which no key repeats, each key's reports in their order. */
function rounds(rows: readonly FeedsTables['feed_seen'][]): FeedsTables['feed_seen'][][] {
  const out: FeedsTables['feed_seen'][][] = [];
  const count = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.hi},${r.lo}`;
    const n = count.get(k) ?? 0;
    count.set(k, n + 1);
    (out[n] ??= []).push(r);
  }
  return out;
}

/**
 * Claims the keys of records about to be reported, in the caller's transaction (the one that
 * writes their report): a key no one reported within the window (to the hour, as {@link SeenKeys}
 * compares) is written, replacing an older report time; a key another run reported meanwhile,
 * within the window, is left as it is and returned, so that its record is dropped as a duplicate.
 * Keys stored before `keepSince` count as forgotten, as they are when a run loads the table.
 */
export async function claimSeen(
  trx: Kysely<FeedsTables>, rows: readonly FeedsTables['feed_seen'][], windowMin: number, keepSince: number,
): Promise<Set<string>> {
  const claimed = new Set<string>();
  const hours = Math.ceil(windowMin / 60);
  // Hours from a base far enough back that every time is after it (integer division truncates on
  // both dialects; the cast keeps it integer division on SQLite, which binds a JS number as a REAL).
  const base = sql`cast(${HOUR_BASE_MIN - 60 * 10_000_000} as integer)`;
  // One statement may not name a key twice (PostgreSQL refuses to update a row twice in one
  // INSERT … ON CONFLICT); a key repeated in `rows` (reported again outside the window in the same
  // flush) goes in a later statement, after the first, as SQLite applies the rows one by one.
  for (const round of rounds(rows)) {
    for (let i = 0; i < round.length; i += CLAIM_CHUNK) {
      const got = await trx.insertInto('feed_seen').values(round.slice(i, i + CLAIM_CHUNK))
        .onConflict((oc) => oc.columns(['hi', 'lo'])
          .doUpdateSet((eb) => ({ seen_min: eb.ref('excluded.seen_min'), stored_at: eb.ref('excluded.stored_at') }))
          .where(sql<boolean>`feed_seen.stored_at < ${keepSince} or abs((excluded.seen_min - ${base}) / 60 - (feed_seen.seen_min - ${base}) / 60) >= ${hours}`))
        .returning(['hi', 'lo']).execute();
      for (const r of got) claimed.add(`${r.hi},${r.lo}`);
    }
  }
  const taken = new Set<string>();
  for (const r of rows) {
    const k = `${r.hi},${r.lo}`;
    if (!claimed.has(k)) taken.add(k);
  }
  return taken;
}
