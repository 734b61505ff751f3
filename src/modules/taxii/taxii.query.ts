import type { Kysely } from 'kysely';
import type { ObjectFilter } from './taxii.filters.js';
import type { StixObjectsTable, TaxiiTables } from './taxii.tables.js';

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

/** One index-ordered walk: rows with date_added > after, in date_added order, at most n. */
type Stream = (after: number, n: number) => Promise<StoredVersion[]>;

const COLUMNS = ['date_added', 'object_id', 'version', 'has_version', 'object', 'tlp', 'source', 'added_by', 'recipients'] as const;

/**
 * One page of a collection in `date_added` order, by cursor over indexes, never by offset: each
 * filter value is one index walk (the indexes of migration 0007), the walks are merged, and a page
 * examines at most `limit` + a bounded number of rows the reader may not see (TLP), so that the
 * cost of a page does not grow with the collection. When that bound is reached before the page is
 * full, the page is shorter and `more` is true (TAXII 2.1 section 3.5 allows both).
 */
export async function queryPage(
  db: Kysely<TaxiiTables>, collectionId: string, filter: ObjectFilter, after: number, limit: number,
  visible: (r: StoredVersion) => boolean,
): Promise<Page> {
  const streams = planStreams(db, collectionId, filter);
  const maxExamined = Math.max(2000, limit * 4);
  const heads: { rows: StoredVersion[]; at: number; pos: number; done: boolean }[] = streams.map(() => ({ rows: [], at: 0, pos: after, done: false }));
  const chunk = limit + 1;
  const refill = async (i: number): Promise<void> => {
    const h = heads[i]!;
    h.rows = await streams[i]!(h.pos, chunk);
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
    if (visible(r)) {
      if (rows.length === limit) return { rows, more: true, position };
      rows.push(r);
    } else if (++examined >= maxExamined) {
      return { rows, more: true, position: bestAt };
    }
    position = bestAt;
    // The same version can head several walks (e.g. an object's only version is both first and last).
    for (const h of heads) if (h.at < h.rows.length && Number(h.rows[h.at]!.date_added) === bestAt) h.at++;
  }
}

function planStreams(db: Kysely<TaxiiTables>, collectionId: string, f: ObjectFilter): Stream[] {
  if (f.specVersions !== null && !f.specVersions.some((v) => STORED_SPEC_VERSIONS.includes(v))) return [];
  const base = (after: number) => db.selectFrom('stix_objects').select(COLUMNS)
    .where('collection_id', '=', collectionId).where('date_added', '>', after);
  const v = f.versions;
  type Branch = 'all' | 'first' | 'last' | number;
  const branches: Branch[] = v.all ? ['all'] : [...(v.first ? ['first' as const] : []), ...(v.last ? ['last' as const] : []), ...v.at];
  const streams: Stream[] = [];
  const add = (type: string | null, b: Branch): void => {
    streams.push(async (after, n) => {
      let q = base(after);
      if (type !== null) q = q.where('type', '=', type);
      if (b === 'first') q = q.where('is_first', '=', 1);
      else if (b === 'last') q = q.where('is_last', '=', 1);
      else if (typeof b === 'number') q = q.where('version', '=', b);
      return q.orderBy('date_added').limit(n).execute();
    });
  };
  if (f.ids !== null) {
    // One object's versions are few: read them all by (collection, object id) — the unique index,
    // which SQLite would not choose if the query also ordered by date_added — and filter here.
    for (const id of f.ids) {
      const type = id.slice(0, id.indexOf('--'));
      if (f.types !== null && !f.types.includes(type)) continue;
      streams.push(async (after, n) => {
        const rows = await db.selectFrom('stix_objects').select([...COLUMNS, 'is_first', 'is_last'])
          .where('collection_id', '=', collectionId).where('object_id', '=', id).execute();
        return rows.filter((r) => Number(r.date_added) > after && branches.some((b) => b === 'all' || (b === 'first' && r.is_first === 1)
          || (b === 'last' && r.is_last === 1) || (typeof b === 'number' && Number(r.version) === b)))
          .sort((x, y) => Number(x.date_added) - Number(y.date_added)).slice(0, n);
      });
    }
    return streams;
  }
  for (const type of f.types ?? [null]) for (const b of branches) add(type, b);
  return streams;
}
