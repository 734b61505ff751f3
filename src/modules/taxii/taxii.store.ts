import { createRequire } from 'node:module';
import type { CompiledQuery, Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { copyData } from '../../shared/copy.js';
import { dialectOf } from '../../shared/dialect.js';
import { GroupedTransactions } from '../../shared/grouped.js';
import type { Tlp } from '../federation/federation.types.js';
import { sameJson } from '../stix/stix.tlp.js';
import type { StixObject } from '../stix/stix.types.js';
import type { StixObjectsTable, TaxiiTables } from './taxii.tables.js';
import { idHash, MARKS, planLookups, prefetchVersions, versionsNow, type Prefetched, type VersionRow } from './taxii.lookups.js';
import { formatMicros, parseMicros } from './taxii.time.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql, CompiledQuery: Compiled } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Objects stored per transaction, and at most in one group of writers' transactions
 * ({@link StixStore.transaction}). On SQLite the transaction runs on the event loop, so between
 * batches it serves other requests; on PostgreSQL the loop is free while the server works, and a
 * whole envelope in one transaction (up to 10,000 objects; a larger one takes several) saves
 * round trips and commits.
 */
export const INGEST_BATCH = { sqlite: 2000, postgres: 10_000 } as const;

/** A validated object on its way into a collection, with the TLP the node will enforce on it. */
export interface Incoming {
  object: StixObject;
  /** The JSON text stored and served. */
  text: string;
  tlp: Tlp;
}

/** Where a batch of objects came from. */
export interface Provenance {
  /** `local`, or the party whose `indicators` message carried them. */
  source: string;
  added_by: string;
  /** TLP:RED: who may read them besides `added_by`. */
  recipients: readonly string[] | null;
  message_id: string | null;
}

/** TAXII status-details: one object's outcome. */
export interface StatusDetail {
  id: string;
  version: string;
  message?: string;
}

export interface AddResult {
  successes: StatusDetail[];
  failures: StatusDetail[];
}

type Trx = Kysely<TaxiiTables>;

/**
 * Rows per multi-row INSERT on SQLite (15 columns each; a smaller rest goes in power-of-two
 * pieces): it runs statements in this process, where 128 was fastest. PostgreSQL takes a batch's
 * rows in one COPY ({@link PG_COPY}).
 */
const SQLITE_INSERT_CHUNK = 128;

/** PostgreSQL: a flag cleared on many stored versions, given as arrays of ids, their hashes and versions ({@link StixStore.clearFlag}). */
const unflag = (flag: 'is_first' | 'is_last'): string =>
  `update stix_objects s set ${flag} = 0 from unnest($2::text[], $3::int8[], $4::int8[]) as u(id, h, v) where s.collection_key = $1 and s.id_hash = u.h and s.version = u.v and s.object_id = u.id`;

/** The columns of `stix_objects` in the order the compiled INSERT (SQLite) binds them and COPY (PostgreSQL) takes them. */
const COLUMNS = [
  'collection_key', 'date_added', 'object_id', 'id_hash', 'type', 'version', 'has_version', 'spec_version', 'is_first', 'is_last',
  'tlp', 'source', 'added_by', 'recipients', 'message_id', 'object',
] as const satisfies readonly (keyof StixObjectsTable)[];
// Every column is in COLUMNS (this fails to compile when the table gains one).
const _allColumns: Record<Exclude<keyof StixObjectsTable, (typeof COLUMNS)[number]>, never> = {};

/**
 * A batch's rows into `stix_objects` on PostgreSQL: one COPY, its rows in COPY's text format
 * (shared/copy.ts). The server parses the fields and writes whole pages of rows at once. Against
 * an INSERT of the rows from one array parameter per column, it cost the server 10-15 µs of CPU a
 * row instead of 18-23, and the node 8-10 µs instead of 11-13 (5,000-row batches of the TAXII
 * bench's objects into a table with the same indexes: docs/benchmarks.md, issue 13).
 */
const PG_COPY = `copy stix_objects (${COLUMNS.join(', ')}) from stdin`;

/** The largest power of two ≤ n (n ≥ 1). */
function pieceOf(n: number, max: number): number {
  let p = 1;
  while (p * 2 <= n && p * 2 <= max) p *= 2;
  return p;
}

/**
 * The STIX object store: versions of objects per collection, each with a `date_added` (µs) that
 * is unique across the store and increases with every version stored, which is what paging walks
 * (taxii.query.ts). Re-adding an identical version changes nothing; a different object under an
 * existing id and `modified` is refused. `is_first`/`is_last` mark each object's earliest and
 * latest version so that `match[version]=first|last` are index walks.
 */
export class StixStore {
  private hwm: number;
  /**
   * Statements compiled once per shape (rows per INSERT, ids per lookup, both powers of two) and
   * run with each batch's parameters: Kysely building a 128-row INSERT node by node cost more than
   * SQLite storing it (docs/benchmarks.md, TAXII). A handful of SQL texts, so SQLite's prepared
   * statements are reused too (sqlite.ts).
   */
  private readonly compiled = new Map<string, CompiledQuery>();
  /**
   * The writers' transactions, in order; those that queue while one runs share the next
   * ({@link transaction}). Each holds the mark from its start and writes it at its end, once for all
   * its callers; on PostgreSQL its lookups are planned without bitmap scans (lookups.ts planLookups).
   */
  private readonly writers = new GroupedTransactions<TaxiiTables>((db) => INGEST_BATCH[dialectOf(db)], {
    begin: async (trx) => {
      if (dialectOf(trx) === 'postgres') {
        await sql`set transaction isolation level repeatable read`.execute(trx);
        await planLookups(trx);
      }
      await this.holdMark(trx);
      this.holding.add(trx);
    },
    end: (trx) => this.writeMark(trx),
  });
  /** The writers' transactions in progress: {@link add} and {@link remove} in them neither read nor write the mark. */
  private readonly holding = new WeakSet<object>();
  /** Each collection's key by its id: keys never change, and ids are never reused. */
  private readonly keys = new Map<string, number>();

  private constructor(private readonly clock: Clock, hwm: number) {
    this.hwm = hwm;
  }

  /** Reads the store's high-water mark of `date_added` (so times never repeat across restarts). */
  static async open(db: Kysely<TaxiiTables>, clock: Clock): Promise<StixStore> {
    const r = await db.selectFrom('taxii_meta').select('value').where('key', '=', MARKS.hwm).executeTakeFirst();
    return new StixStore(clock, r === undefined ? 0 : Number(r.value));
  }

  /**
   * Runs `f` in a transaction after the ones this store started before it (TAXII POST and DELETE);
   * those asked for while one runs share the next, up to {@link INGEST_BATCH} objects (`weight`):
   * eight clients posting small envelopes pay for one commit, not eight, and one that fails does
   * not fail the others (shared/grouped.ts). `date_added` must grow in commit order, or a reader
   * paging meanwhile would pass over a version committed late with an earlier `date_added`: on
   * SQLite the one connection gives that order; on PostgreSQL every writer of `stix_objects` writes
   * the high-water mark row, so two that overlap cannot both commit (the later is run again,
   * store.ts), and this queue keeps a process's own writers from colliding so. There the
   * transaction is REPEATABLE READ: that write-write conflict is the one it needs, and a
   * serializable one would hold a predicate lock for every index page its lookups read
   * (PostgreSQL runs out of them under a long transaction).
   */
  transaction<T>(db: Trx, f: (trx: Trx) => Promise<T>, weight = 1): Promise<T> {
    return this.writers.run(db, f, weight);
  }

  /** The key `stix_objects` rows name the collection `collectionId` by (migration 0023). */
  async keyOf(db: Trx, collectionId: string): Promise<number> {
    const known = this.keys.get(collectionId);
    if (known !== undefined) return known;
    const r = await db.selectFrom('taxii_collections').select('key').where('id', '=', collectionId).executeTakeFirst();
    if (r === undefined) throw new Error(`No TAXII collection ${collectionId} in the store`);
    const key = Number(r.key);
    this.keys.set(collectionId, key);
    return key;
  }

  /** The next `date_added`: now in µs, or one more than the last one handed out. */
  private nextDateAdded(): number {
    this.hwm = Math.max(this.clock.now() * 1000, this.hwm + 1);
    return this.hwm;
  }

  /**
   * Stores a batch in one transaction (the caller's). Returns each object's outcome in input
   * order; nothing is written for a failure.
   */
  async add(trx: Trx, collectionId: string, items: readonly Incoming[], prov: Provenance, prefetched?: Prefetched): Promise<AddResult> {
    const result: AddResult = { successes: [], failures: [] };
    if (items.length === 0) return result;
    // Another process on the same store (a CLI verb beside the running node, another node process)
    // may have added since. The mark is read by writing it: from here to the commit this
    // transaction holds its row, so on PostgreSQL a writer that overlaps with another waits for it
    // and is run again (40001) rather than hand out the same date_added. A writers' transaction
    // took it at its start, and `hwm` is at least the mark and every date_added handed out since:
    // all the prefetched lookups need to know (whether anything was stored after them).
    const held = this.holding.has(trx);
    const stored = held ? this.hwm : await this.holdMark(trx);
    const key = await this.keyOf(trx, collectionId);
    const byId = await versionsNow(trx, key, items, stored, prefetched);
    const rows: StixObjectsTable[] = [];
    const pendingCompare: { item: Incoming; version: number; detail: StatusDetail }[] = [];
    for (const item of items) {
      const o = item.object;
      const stamp = typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : null;
      let versions = byId.get(o.id);
      if (versions === undefined) byId.set(o.id, (versions = new Map()));
      if (stamp !== null) {
        const v = parseMicros(stamp);
        const known = versions.get(v);
        if (known !== undefined) {
          const detail: StatusDetail = { id: o.id, version: stamp };
          if (known.fresh) {
            const same = sameObject(known.text ?? '', item.text);
            (same ? result.successes : result.failures).push({ ...detail, message: same ? 'already stored' : CONFLICT });
          } else {
            pendingCompare.push({ item, version: v, detail });
          }
          continue;
        }
        rows.push(this.row(key, item, prov, v, 1, versions));
        result.successes.push({ id: o.id, version: stamp });
      } else {
        // No modified/created (SCOs): a new version only when it differs from the latest one.
        const latest = maxOf(versions.values());
        const latestText = latest?.text ?? (latest === undefined ? undefined : await this.textOf(trx, key, o.id, latest.version));
        if (latest !== undefined && latestText !== undefined && sameObject(latestText, item.text)) {
          result.successes.push({ id: o.id, version: formatMicros(latest.version), message: 'already stored' });
          continue;
        }
        const r = this.row(key, item, prov, null, 0, versions);
        rows.push(r);
        result.successes.push({ id: o.id, version: formatMicros(r.version) });
      }
    }
    for (const p of pendingCompare) {
      const text = await this.textOf(trx, key, p.item.object.id, p.version);
      if (text !== undefined && sameObject(text, p.item.text)) result.successes.push({ ...p.detail, message: 'already stored' });
      else result.failures.push({ ...p.detail, message: CONFLICT });
    }
    if (rows.length === 0) return result;
    await this.settleFlags(trx, key, byId, rows);
    if (dialectOf(trx) === 'postgres') {
      await this.copyRows(trx, rows);
      if (!held) await this.writeMark(trx);
      return result;
    }
    for (let i = 0; i < rows.length;) {
      const n = pieceOf(rows.length - i, SQLITE_INSERT_CHUNK);
      const parameters: unknown[] = [];
      for (let k = i; k < i + n; k++) for (const c of COLUMNS) parameters.push(rows[k]![c]);
      await trx.executeQuery({ ...this.insertOf(trx, n), parameters });
      i += n;
    }
    if (!held) await this.writeMark(trx);
    return result;
  }

  /**
   * Reads the stored high-water mark by writing its row (unchanged): the transaction holds the row
   * to its commit. Returns it.
   */
  private async holdMark(trx: Trx): Promise<number> {
    const stored = await trx.insertInto('taxii_meta').values({ key: MARKS.hwm, value: '0' })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: (eb) => eb.ref('taxii_meta.value') }))
      .returning('value').executeTakeFirstOrThrow();
    this.hwm = Math.max(this.hwm, Number(stored.value));
    return Number(stored.value);
  }

  /** Stores the high-water mark of `date_added` (after {@link holdMark}: never lower than the stored one), or another mark at it. */
  private async writeMark(trx: Trx, name: string = MARKS.hwm): Promise<void> {
    await trx.insertInto('taxii_meta').values({ key: name, value: String(this.hwm) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(this.hwm) })).execute();
  }

  /**
   * A batch's lookups of stored versions, done before its {@link transaction} so that they overlap
   * the writer before it (PostgreSQL; undefined on SQLite): pass the result to {@link add} with the
   * same `items`. Never wrong, only sometimes wasted: `add` reads what changed since (taxii.lookups.ts).
   */
  async prefetch(db: Trx, collectionId: string, items: readonly Incoming[]): Promise<Prefetched | undefined> {
    if (dialectOf(db) !== 'postgres' || items.length === 0) return undefined;
    return prefetchVersions(db, await this.keyOf(db, collectionId), items);
  }

  /**
   * Deletes the given versions (by `date_added`) of one object and re-marks the earliest and
   * latest of those left.
   */
  async remove(trx: Trx, collectionId: string, objectId: string, dateAdded: readonly number[]): Promise<void> {
    if (dateAdded.length === 0) return;
    // Every writer of stix_objects writes this row: on PostgreSQL, overlapping writers conflict (see transaction()).
    // A removal moves the mark on, and sets removed_mark to it: a batch's lookups made before then
    // are read afresh (taxii.lookups.ts versionsNow).
    const held = this.holding.has(trx);
    if (!held) await this.holdMark(trx);
    this.nextDateAdded();
    if (!held) await this.writeMark(trx);
    await this.writeMark(trx, MARKS.removed);
    const key = await this.keyOf(trx, collectionId);
    await trx.deleteFrom('stix_objects').where('collection_key', '=', key).where('date_added', 'in', [...dateAdded]).execute();
    const left = await trx.selectFrom('stix_objects').select(['version']).where('collection_key', '=', key)
      .where('id_hash', '=', idHash(objectId)).where('object_id', '=', objectId).orderBy('version').execute();
    if (left.length === 0) return;
    const base = trx.updateTable('stix_objects').where('collection_key', '=', key).where('id_hash', '=', idHash(objectId)).where('object_id', '=', objectId);
    await base.set({ is_first: 1 }).where('version', '=', left[0]!.version).execute();
    await base.set({ is_last: 1 }).where('version', '=', left[left.length - 1]!.version).execute();
  }

  private row(collectionKey: number, item: Incoming, prov: Provenance, version: number | null, hasVersion: number, versions: Map<number, VersionRow>): StixObjectsTable {
    const dateAdded = this.nextDateAdded();
    const v = version ?? dateAdded;
    versions.set(v, { version: v, date_added: dateAdded, fresh: true, text: item.text });
    const o = item.object;
    return {
      collection_key: collectionKey, date_added: dateAdded, object_id: o.id, id_hash: idHash(o.id), type: o.type, version: v, has_version: hasVersion,
      spec_version: typeof o.spec_version === 'string' ? o.spec_version : '2.1', is_first: 0, is_last: 0, tlp: item.tlp,
      source: prov.source, added_by: prov.added_by, recipients: prov.recipients === null ? null : JSON.stringify(prov.recipients),
      message_id: prov.message_id, object: item.text,
    };
  }

  /** Marks the earliest and latest version of each touched object, in the new rows and in the stored ones. */
  private async settleFlags(trx: Trx, collectionKey: number, byId: Map<string, Map<number, VersionRow>>, rows: StixObjectsTable[]): Promise<void> {
    const fresh = new Map(rows.map((r) => [r.date_added, r]));
    const cleared = { is_first: [] as [string, number][], is_last: [] as [string, number][] };
    for (const id of new Set(rows.map((r) => r.object_id))) {
      const versions = [...byId.get(id)!.values()];
      const stored = versions.filter((v) => !v.fresh);
      const min = minOf(versions)!;
      const max = maxOf(versions)!;
      for (const v of versions) {
        if (!v.fresh) continue;
        const r = fresh.get(v.date_added!)!;
        r.is_first = v === min ? 1 : 0;
        r.is_last = v === max ? 1 : 0;
      }
      if (stored.length === 0) continue;
      const oldMin = minOf(stored)!;
      const oldMax = maxOf(stored)!;
      if (oldMin !== min) cleared.is_first.push([id, oldMin.version]);
      if (oldMax !== max) cleared.is_last.push([id, oldMax.version]);
    }
    for (const flag of ['is_first', 'is_last'] as const) await this.clearFlag(trx, collectionKey, flag, cleared[flag]);
  }

  /**
   * Clears `flag` on stored versions (object id, version) that a batch's new versions now
   * precede or follow. On PostgreSQL one statement for all of them: an envelope of the TAXII
   * bench revises most of its 48 malware families, and made an UPDATE for each, a round trip in
   * the writers' turn (121 of its 431 ms: docs/benchmarks.md). SQLite runs them in this process,
   * one statement each.
   */
  private async clearFlag(trx: Trx, collectionKey: number, flag: 'is_first' | 'is_last', versions: readonly [string, number][]): Promise<void> {
    if (versions.length === 0) return;
    if (dialectOf(trx) === 'postgres') {
      await trx.executeQuery(Compiled.raw(unflag(flag), [collectionKey, versions.map((v) => v[0]), versions.map((v) => idHash(v[0])), versions.map((v) => v[1])]));
      return;
    }
    for (const [id, version] of versions) {
      await trx.updateTable('stix_objects').set({ [flag]: 0 })
        .where('collection_key', '=', collectionKey).where('id_hash', '=', idHash(id)).where('object_id', '=', id).where('version', '=', version).execute();
    }
  }

  /** A batch's rows, one statement (PostgreSQL: {@link PG_COPY}). */
  private async copyRows(trx: Trx, rows: readonly StixObjectsTable[]): Promise<void> {
    await trx.executeQuery(Compiled.raw(PG_COPY, [copyData(rows.map((r) => COLUMNS.map((c) => r[c])))]));
  }

  /** `INSERT INTO stix_objects` of `n` rows, compiled once. */
  private insertOf(trx: Trx, n: number): CompiledQuery {
    const key = `insert:${n}`;
    let q = this.compiled.get(key);
    if (q === undefined) {
      // Placeholder values, never null: Kysely binds every value as a parameter then.
      const row = Object.fromEntries(COLUMNS.map((c) => [c, 0])) as unknown as StixObjectsTable;
      q = trx.insertInto('stix_objects').values(Array.from({ length: n }, () => row)).compile();
      if (q.parameters.length !== n * COLUMNS.length) throw new Error(`stix_objects INSERT binds ${q.parameters.length} values, not ${n * COLUMNS.length}`);
      this.compiled.set(key, q);
    }
    return q;
  }

  private async textOf(trx: Trx, collectionKey: number, objectId: string, version: number): Promise<string | undefined> {
    const r = await trx.selectFrom('stix_objects').select('object').where('collection_key', '=', collectionKey)
      .where('id_hash', '=', idHash(objectId)).where('object_id', '=', objectId).where('version', '=', version).executeTakeFirst();
    return r?.object;
  }
}

function minOf(versions: Iterable<VersionRow>): VersionRow | undefined {
  let m: VersionRow | undefined;
  for (const v of versions) if (m === undefined || v.version < m.version) m = v;
  return m;
}

function maxOf(versions: Iterable<VersionRow>): VersionRow | undefined {
  let m: VersionRow | undefined;
  for (const v of versions) if (m === undefined || v.version > m.version) m = v;
  return m;
}

const CONFLICT = 'a different object with this id and version is already stored; a new version needs a later "modified"';

/** Two JSON texts of the same object, whatever their key order and spacing. */
function sameObject(a: string, b: string): boolean {
  return a === b || sameJson(JSON.parse(a), JSON.parse(b));
}
