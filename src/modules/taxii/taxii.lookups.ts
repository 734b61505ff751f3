import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import type { StixObject } from '../stix/stix.types.js';
import type { TaxiiTables } from './taxii.tables.js';
import { parseMicros } from './taxii.time.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql, CompiledQuery: Compiled } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * How the STIX object store finds the stored versions of a batch's objects (taxii.store.ts
 * `add`): the statements per dialect, the 48 bits of an id the lookup index is keyed by
 * (migration 0023, docs/decisions/0007), and on PostgreSQL the lookups done before the batch's
 * transaction ({@link prefetchVersions}).
 */

type Db = Kysely<TaxiiTables>;

/**
 * One version of an object as a batch sees it. Stored versions are read from the unique index
 * alone (collection, object id, version: no table lookups); the earliest and latest of them carry
 * the flags (an invariant), so `is_first`/`is_last` of stored ones are derived, not read.
 */
export interface VersionRow { version: number; fresh: boolean; date_added?: number; text?: string }

/** The versions a batch knows of, by object id. */
export type Versions = Map<string, Map<number, VersionRow>>;

/** An object's version as stored (µs): its `modified`, else its `created`; null for one with neither (SCOs). */
export function stampOf(o: StixObject): number | null {
  const stamp = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : null;
  return stamp === null ? null : parseMicros(stamp);
}

/**
 * The statements of {@link versionsOf}, per dialect: a batch's ids with their hashes (or id,
 * hash and version) as one value, arrays on PostgreSQL, JSON on SQLite (json_each); each id's
 * latest or earliest stored version by one probe of the index (collection_key, id_hash, version),
 * walked in version order until a row's `object_id` is the id (the first row, unless another id
 * shares its 48 bits).
 */
export const LOOKUPS = {
  postgres: {
    latest: 'select i.id as object_id, (select s.version from stix_objects s where s.collection_key = $1 and s.id_hash = i.h and s.object_id = i.id order by s.version desc limit 1) as version from unnest($2::text[], $3::int8[]) as i(id, h)',
    earliest: 'select i.id as object_id, (select s.version from stix_objects s where s.collection_key = $1 and s.id_hash = i.h and s.object_id = i.id order by s.version limit 1) as version from unnest($2::text[], $3::int8[]) as i(id, h)',
    exact: 'select s.object_id, s.version from unnest($2::text[], $3::int8[], $4::int8[]) as p(id, h, v) join stix_objects s on s.collection_key = $1 and s.id_hash = p.h and s.version = p.v and s.object_id = p.id',
    idsParams: (collection: number, ids: readonly string[]): unknown[] => [collection, ids, ids.map(idHash)],
    pairsParams: (collection: number, pairs: readonly [string, number][]): unknown[] => [collection, pairs.map((p) => p[0]), pairs.map((p) => idHash(p[0])), pairs.map((p) => p[1])],
  },
  sqlite: {
    latest: 'select json_extract(j.value, \'$[0]\') as object_id, (select s.version from stix_objects s where s.collection_key = ? and s.id_hash = json_extract(j.value, \'$[1]\') and s.object_id = json_extract(j.value, \'$[0]\') order by s.version desc limit 1) as version from json_each(?) as j',
    earliest: 'select json_extract(j.value, \'$[0]\') as object_id, (select s.version from stix_objects s where s.collection_key = ? and s.id_hash = json_extract(j.value, \'$[1]\') and s.object_id = json_extract(j.value, \'$[0]\') order by s.version limit 1) as version from json_each(?) as j',
    exact: 'select s.object_id, s.version from json_each(?) as p cross join stix_objects s on s.collection_key = ? and s.id_hash = json_extract(p.value, \'$[1]\') and s.version = json_extract(p.value, \'$[2]\') and s.object_id = json_extract(p.value, \'$[0]\')',
    idsParams: (collection: number, ids: readonly string[]): unknown[] => [collection, JSON.stringify(ids.map((id) => [id, idHash(id)]))],
    pairsParams: (collection: number, pairs: readonly [string, number][]): unknown[] => [JSON.stringify(pairs.map((p) => [p[0], idHash(p[0]), p[1]])), collection],
  },
} as const;

/** PostgreSQL: bitmap scans off to the end of the transaction, saying what the setting was ({@link versionsOf}). */
export const BITMAP_OFF = `select current_setting('enable_bitmapscan') as was, set_config('enable_bitmapscan', 'off', true)`;
export const BITMAP_RESTORE = `select set_config('enable_bitmapscan', $1, true)`;

/** Transactions planned without bitmap scans from their start ({@link planLookups}). */
const planned = new WeakSet<object>();

/**
 * PostgreSQL: bitmap scans off for the rest of the transaction `trx`, whose every statement suits
 * that (the TAXII writers' transactions, the prefetches), so that its lookups ({@link versionsOf})
 * need not turn them off and back on around each batch: two statements per batch, round trips
 * in the writers' turn, for a POST of 100 objects.
 */
export async function planLookups(trx: Db): Promise<void> {
  await trx.executeQuery(Compiled.raw(`select set_config('enable_bitmapscan', 'off', true)`));
  planned.add(trx);
}

/**
 * 48 bits of a STIX id, what `stix_objects` indexes its lookup by object with: the id's last 12
 * characters read as hex digits (a STIX id ends in a UUID, whose last 12 digits are random or a
 * hash). Exactly what migration 0023 computes in SQL for the rows it copies. Two ids may share
 * them: every lookup also compares `object_id`.
 */
export function idHash(id: string): number {
  let h = 0;
  for (let i = id.length - 12; i < id.length; i++) h = h * 16 + HEX.indexOf(id.charAt(i).toLowerCase());
  return h;
}
const HEX = '0123456789abcdef';

type Row = { object_id: string; version: number | null };

/** Adds stored versions (rows of the lookups) to `out`. */
function addStored(out: Versions, rows: readonly Row[]): void {
  for (const r of rows) {
    if (r.version === null) continue;
    let m = out.get(r.object_id);
    if (m === undefined) out.set(r.object_id, (m = new Map()));
    m.set(Number(r.version), { version: Number(r.version), fresh: false });
  }
}

/**
 * What a batch needs of the stored versions of its objects: for each id already stored, its
 * latest and earliest stored versions (the ones that carry the flags) and any stored version
 * equal to one the batch brings. Not every version: an object with thousands of versions (a
 * malware family revised for years) costs a few index probes, not a read of its history in every
 * batch that revises it (which made ingest slow down as such objects grew). Three statements at
 * most; the second and third only for ids already stored.
 */
export async function versionsOf(trx: Db, collectionKey: number, items: readonly { object: StixObject }[]): Promise<Versions> {
  const out: Versions = new Map();
  const q = LOOKUPS[dialectOf(trx)];
  const ids = [...new Set(items.map((i) => i.object.id))];
  // PostgreSQL plans each probe (rows estimated: a few) as a bitmap scan and a sort, which costs
  // ~3x a plain index walk in version order that stops at its first row (13 against 35 ms for
  // 5,000 probes): bitmap scans are off for the lookups, and set back as they were after them
  // (in a transaction planned so from its start, they are already off).
  const pg = dialectOf(trx) === 'postgres' && !planned.has(trx);
  const was = pg ? (await trx.executeQuery<{ was: string }>(Compiled.raw(BITMAP_OFF))).rows[0]!.was : '';
  try {
    addStored(out, (await trx.executeQuery<Row>(Compiled.raw(q.latest, q.idsParams(collectionKey, ids)))).rows);
    if (out.size === 0) return out;
    const stored = [...out.keys()];
    addStored(out, (await trx.executeQuery<Row>(Compiled.raw(q.earliest, q.idsParams(collectionKey, stored)))).rows);
    const pairs: [string, number][] = [];
    for (const i of items) {
      const v = stampOf(i.object);
      if (v !== null && out.has(i.object.id)) pairs.push([i.object.id, v]);
    }
    if (pairs.length > 0) addStored(out, (await trx.executeQuery<Row>(Compiled.raw(q.exact, q.pairsParams(collectionKey, pairs)))).rows);
    return out;
  } finally {
    if (pg) await trx.executeQuery(Compiled.raw(BITMAP_RESTORE, [was]));
  }
}

/** PostgreSQL: the versions of these ids stored after a mark (prefetches are made only there). */
const STORED_SINCE = 'select s.object_id, s.version from stix_objects s join unnest($3::text[]) as i(id) on s.object_id = i.id where s.collection_key = $1 and s.date_added > $2';

/**
 * The store's marks (taxii_meta): `date_added_hwm`, the highest `date_added` handed out, which
 * every writer of `stix_objects` writes in its transaction (so it is at least every stored
 * version's); `removed_mark`, the high-water mark a removal of versions set it to (0 before any).
 */
export const MARKS = { hwm: 'date_added_hwm', removed: 'removed_mark' } as const;

/**
 * A batch's lookups done before its transaction, in one snapshot (PostgreSQL; see
 * {@link prefetchVersions}): the versions it found and the high-water mark that snapshot saw.
 */
export interface Prefetched {
  /** The batch it was made for (compared by identity: another batch never uses it). */
  items: readonly unknown[];
  key: number;
  mark: number;
  versions: Versions;
}

/**
 * Runs a batch's lookups ({@link versionsOf}) before its transaction, on another connection and
 * in a read-only snapshot with the high-water mark it saw. On PostgreSQL a store's writers take
 * turns (taxii.store.ts `transaction`) and the lookups were a third of a batch's turn (5,000
 * index probes); done before it, they overlap the batch before, and the turn only reads what
 * was stored since the snapshot ({@link versionsNow}). That gained ~8% for envelopes of 5,000
 * with the server's default shared_buffers, where the probes read pages from the OS, and nothing
 * with 4 GB (docs/benchmarks.md). SQLite runs its one writer in this process: nothing to overlap
 * there, so undefined.
 */
export async function prefetchVersions(db: Db, key: number, items: readonly { object: StixObject }[]): Promise<Prefetched | undefined> {
  if (dialectOf(db) !== 'postgres' || items.length === 0) return undefined;
  return db.transaction().execute(async (trx) => {
    // No predicate locks (a serializable transaction takes one per index page the probes read).
    await sql`set transaction isolation level repeatable read, read only`.execute(trx);
    await planLookups(trx);
    const mark = await trx.selectFrom('taxii_meta').select('value').where('key', '=', MARKS.hwm).executeTakeFirst();
    return { items, key, mark: mark === undefined ? 0 : Number(mark.value), versions: await versionsOf(trx, key, items) };
  });
}

/**
 * The versions a batch needs, inside its transaction, where `stored` is the high-water mark the
 * transaction holds: the prefetched ones when nothing was stored since their snapshot; with what
 * was stored since (versions of these ids with a later `date_added`, a walk of the primary key
 * from the snapshot's mark) when only additions were; read afresh when versions were removed
 * since, or nothing was prefetched for this batch.
 */
export async function versionsNow(trx: Db, key: number, items: readonly { object: StixObject }[], stored: number, pre: Prefetched | undefined): Promise<Versions> {
  if (pre === undefined || pre.items !== items || pre.key !== key) return versionsOf(trx, key, items);
  const out: Versions = new Map([...pre.versions].map(([id, m]) => [id, new Map(m)]));
  if (stored === pre.mark) return out;
  const removed = await trx.selectFrom('taxii_meta').select('value').where('key', '=', MARKS.removed).executeTakeFirst();
  if (removed !== undefined && Number(removed.value) > pre.mark) return versionsOf(trx, key, items);
  const ids = [...new Set(items.map((i) => i.object.id))];
  addStored(out, (await trx.executeQuery<Row>(Compiled.raw(STORED_SINCE, [key, pre.mark, ids]))).rows);
  return out;
}
