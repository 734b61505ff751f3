import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import type { ObjectFilter } from './taxii.filters.js';
import { idHash } from './taxii.lookups.js';
import type { StixObjectsTable, TaxiiTables } from './taxii.tables.js';

// Kysely's CommonJS build, the one the store is opened with (federation.hooks.ts says why).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** A stored version as the read path needs it. */
export type StoredVersion = Pick<StixObjectsTable, 'date_added' | 'object_id' | 'version' | 'has_version' | 'object' | 'tlp' | 'source' | 'added_by' | 'recipients'>;

export interface Page {
  rows: StoredVersion[];
  /** True when there may be more (then `position` is where the next page starts). */
  more: boolean;
  /** The `date_added` up to which this walk has handled everything. */
  position: number;
}

/** Spec versions this node stores (the validator refuses others). */
const STORED_SPEC_VERSIONS = ['2.1'];

/** A stored version as a walk reads it (with the flags a filter may test). */
type WalkRow = StoredVersion & Pick<StixObjectsTable, 'is_first' | 'is_last'>;

/**
 * One index-ordered walk: rows with date_added > after, in date_added order, at most n; and what
 * of them the filter keeps (a row it does not keep counts against the page's bound, like one the
 * reader may not see).
 */
interface Stream {
  fetch(after: number, n: number): Promise<WalkRow[]>;
  keep(r: WalkRow): boolean;
}

/** Versions of one object read in one go, texts and all; past it, a page's versions are picked first (planStreams). */
const FEW_VERSIONS = 64;

const COLUMNS = ['date_added', 'object_id', 'version', 'has_version', 'object', 'tlp', 'source', 'added_by', 'recipients', 'is_first', 'is_last'] as const;

/**
 * One page of a collection in `date_added` order, by cursor over indexes, never by offset: the
 * filters choose index walks (taxii.query.ts planStreams; the indexes of migration 0023), the walks
 * are merged, and a page examines at most `limit` matching versions plus a bounded number it
 * passes over (versions the reader may not see, or a walk reads but the filter does not keep), so
 * that the cost of a page does not grow with the collection. When that bound is reached before
 * the page is full, the page is shorter and `more` is true (TAXII 2.1 section 3.5 allows both).
 */
export async function queryPage(
  db: Kysely<TaxiiTables>, collectionKey: number, filter: ObjectFilter, after: number, limit: number,
  visible: (r: StoredVersion) => boolean,
): Promise<Page> {
  if (dialectOf(db) === 'sqlite') return walkPage(db, collectionKey, filter, after, limit, visible);
  // PostgreSQL: a page is one read-only snapshot (repeatable read: no predicate locks, which a
  // serializable read would take on every index page it walks), and each walk is the index scan
  // in date_added order, never a scan of the collection then a sort: the planner's estimates can
  // choose that (no statistics yet after a bulk load, a new collection), and its cost grows with
  // the collection. With sorting priced out, the only plan left is the composite index's.
  return db.transaction().execute(async (trx) => {
    await sql`set transaction isolation level repeatable read, read only`.execute(trx);
    await sql`select set_config('enable_sort', 'off', true)`.execute(trx);
    return walkPage(trx, collectionKey, filter, after, limit, visible);
  });
}

async function walkPage(
  db: Kysely<TaxiiTables>, collectionKey: number, filter: ObjectFilter, after: number, limit: number,
  visible: (r: StoredVersion) => boolean,
): Promise<Page> {
  const streams = planStreams(db, collectionKey, filter);
  const maxExamined = Math.max(2000, limit * 4);
  const heads: { rows: WalkRow[]; at: number; pos: number; done: boolean }[] = streams.map(() => ({ rows: [], at: 0, pos: after, done: false }));
  const chunk = limit + 1;
  const refill = async (i: number): Promise<void> => {
    const h = heads[i]!;
    h.rows = await streams[i]!.fetch(h.pos, chunk);
    h.at = 0;
    if (h.rows.length < chunk) h.done = true;
    if (h.rows.length > 0) h.pos = Number(h.rows[h.rows.length - 1]!.date_added);
  };
  await Promise.all(heads.map((_h, i) => refill(i)));
  const rows: StoredVersion[] = [];
  let position = after;
  let examined = 0;
  for (;;) {
    let best = -1;
    let bestAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (h.at >= h.rows.length) {
        if (h.done) continue;
        await refill(i);
        if (h.rows.length === 0) continue;
      }
      const da = Number(h.rows[h.at]!.date_added);
      if (da < bestAt) {
        bestAt = da;
        best = i;
      }
    }
    if (best < 0) return { rows, more: false, position };
    const r = heads[best]!.rows[heads[best]!.at]!;
    // The same version can head several walks (e.g. an object's only version is both first and last).
    let kept = false;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (h.at < h.rows.length && Number(h.rows[h.at]!.date_added) === bestAt) kept ||= streams[i]!.keep(h.rows[h.at]!);
    }
    if (kept && visible(r)) {
      if (rows.length === limit) return { rows, more: true, position };
      rows.push(r);
    } else if (++examined >= maxExamined) {
      return { rows, more: true, position: bestAt };
    }
    position = bestAt;
    for (const h of heads) if (h.at < h.rows.length && Number(h.rows[h.at]!.date_added) === bestAt) h.at++;
  }
}

/**
 * The walks for a filter. `match[id]`: one per id over the index of lookups by object (an object's versions are
 * few). Otherwise per `match[type]` value (or none): the latest versions alone walk
 * `(collection, [type,] is_last, date_added)`; any other `match[version]` walks every version —
 * `(collection, date_added)`, or both halves of the type index — and keeps those it names.
 */
function planStreams(db: Kysely<TaxiiTables>, collectionKey: number, f: ObjectFilter): Stream[] {
  if (f.specVersions !== null && !f.specVersions.some((v) => STORED_SPEC_VERSIONS.includes(v))) return [];
  const v = f.versions;
  const keep = (r: WalkRow): boolean => v.all || (v.first && r.is_first === 1) || (v.last && r.is_last === 1) || (v.at.length > 0 && v.at.includes(Number(r.version)));
  if (f.ids !== null) {
    // Read by (collection, id hash) — the index of lookups by object, which SQLite would not
    // choose if the query also ordered by date_added — and ordered here.
    return f.ids.filter((id) => f.types === null || f.types.includes(id.slice(0, id.indexOf('--')))).map((id) => ({
      keep,
      fetch: async (after, n) => {
        const byId = db.selectFrom('stix_objects').where('collection_key', '=', collectionKey).where('id_hash', '=', idHash(id)).where('object_id', '=', id);
        const inOrder = (rows: WalkRow[]): WalkRow[] => rows.filter((r) => Number(r.date_added) > after).sort((x, y) => Number(x.date_added) - Number(y.date_added)).slice(0, n);
        // Most objects have a few versions: all of them at once.
        const few = await byId.select(COLUMNS).limit(FEW_VERSIONS + 1).execute();
        if (few.length <= FEW_VERSIONS) return inOrder(few);
        // An object revised for years has thousands: when each was added, then the whole rows of
        // this page's alone, by the primary key (reading every version's text for each page of them
        // cost 16 ms a page at 4,200 versions, 10 ms this way: docs/benchmarks.md). Ordered here
        // too: with sorting off (queryPage) PostgreSQL would rather walk the whole collection in
        // date_added order than probe the primary key for each.
        const added = (await byId.select('date_added').execute()).map((r) => Number(r.date_added)).filter((d) => d > after).sort((x, y) => x - y).slice(0, n);
        if (added.length === 0) return [];
        return inOrder(await db.selectFrom('stix_objects').select(COLUMNS).where('collection_key', '=', collectionKey).where('date_added', 'in', added).execute());
      },
    }));
  }
  const onlyLast = !v.all && !v.first && v.at.length === 0;
  const walk = (type: string | null, isLast: number | null): Stream => ({
    keep: onlyLast ? () => true : keep,
    fetch: (after, n) => {
      let q = db.selectFrom('stix_objects').select(COLUMNS).where('collection_key', '=', collectionKey);
      if (type !== null) q = q.where('type', '=', type);
      if (isLast !== null) q = q.where('is_last', '=', isLast);
      return q.where('date_added', '>', after).orderBy('date_added').limit(n).execute();
    },
  });
  const streams: Stream[] = [];
  for (const type of f.types ?? [null]) {
    if (onlyLast) streams.push(walk(type, 1));
    else if (type === null) streams.push(walk(null, null));
    else streams.push(walk(type, 0), walk(type, 1));
  }
  return streams;
}
