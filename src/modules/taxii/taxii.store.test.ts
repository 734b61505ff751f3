import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/pg.js';
import { FakeClock } from '../../shared/clock.js';
import type { StixObject } from '../stix/stix.types.js';
import type { Principal } from '../users/users.types.js';
import { CollectionRepository } from './taxii.collections.js';
import { ALL_VERSIONS, type ObjectFilter } from './taxii.filters.js';
import { queryPage, type StoredVersion } from './taxii.query.js';
import { statuses } from './taxii.status.js';
import { StixStore, type Incoming, type Provenance } from './taxii.store.js';
import type { TaxiiTables } from './taxii.tables.js';

/**
 * The STIX object store, its paging and statuses, on every dialect (test/helpers/pg.ts): the
 * same tests against SQLite and PostgreSQL.
 */

const PROV: Provenance = { source: 'local', added_by: 'alice', recipients: null, message_id: null };
const ADMIN: Principal = { user: 'admin', role: 'admin', channels: ['cert'] };
const LAST: ObjectFilter = { addedAfter: null, ids: null, types: null, versions: { all: false, first: false, last: true, at: [] }, specVersions: null };

function indicator(n: number, modified = '2026-11-30T10:00:00.000Z', over: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${randomUUID()}`, created: '2026-11-30T10:00:00.000Z', modified,
    name: `C2 ${n}`, pattern: `[ipv4-addr:value = '198.51.${(n >> 8) & 255}.${n & 255}']`, pattern_type: 'stix', valid_from: '2026-11-30T10:00:00Z', ...over,
  } as StixObject;
}

function incoming(o: StixObject, tlp: Incoming['tlp'] = 'green'): Incoming {
  return { object: o, text: JSON.stringify(o), tlp };
}

async function setup(open: () => Promise<unknown>): Promise<{ db: Kysely<TaxiiTables>; clock: FakeClock; store: StixStore; collection: string }> {
  const db = (await open()) as Kysely<TaxiiTables>;
  const clock = new FakeClock(Date.UTC(2026, 11, 1));
  const collections = new CollectionRepository({ db, clock });
  const c = await collections.add({ alias: 'c2', tlp: 'green' });
  return { db, clock, store: await StixStore.open(db, clock), collection: c.id };
}

/** Every row of a walk, `limit` at a time, following the position as `next` does. */
async function walkAll(db: Kysely<TaxiiTables>, collection: string, filter: ObjectFilter, limit: number): Promise<{ rows: StoredVersion[]; pages: number }> {
  const rows: StoredVersion[] = [];
  let after = 0;
  let pages = 0;
  const key = Number((await db.selectFrom('taxii_collections').select('key').where('id', '=', collection).executeTakeFirstOrThrow()).key);
  for (;;) {
    const page = await queryPage(db, key, filter, after, limit, () => true);
    pages++;
    rows.push(...page.rows);
    if (!page.more) return { rows, pages };
    after = page.position;
  }
}

describeEachStore('the STIX object store', (open, dialect) => {
  it('stores a batch larger than one INSERT and one id lookup, and pages over it in date_added order without gaps or repeats', async () => {
    const { db, store, collection } = await setup(open);
    const objects = Array.from({ length: 3001 }, (_, i) => indicator(i));
    const r = await db.transaction().execute((trx) => store.add(trx, collection, objects.map((o) => incoming(o)), PROV));
    expect(r.failures).toEqual([]);
    expect(r.successes).toHaveLength(3001);
    const { rows, pages } = await walkAll(db, collection, LAST, 700);
    expect(pages).toBe(5);
    expect(rows.map((x) => x.object_id)).toEqual(objects.map((o) => o.id));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.date_added).toBeGreaterThan(rows[i - 1]!.date_added);
    expect(typeof rows[0]!.date_added).toBe('number');
    expect(JSON.parse(rows[5]!.object)).toEqual(objects[5]);
  });

  it('keeps each object\'s text byte for byte, whatever it holds, on the row of its own id', async () => {
    const { db, store, collection } = await setup(open);
    const odd = ['"quoted"', 'back\\slash \\" \\\\', '\u0001\u001f\t\n\r', 'Кириллица', 'عربي', '中文', '😀 \u{1F1FA}\u{1F1F8}', '{"a":[1,2]}', '\u2028\u2029', 'NULL', ''];
    const objects = Array.from({ length: 1500 }, (_, i) => indicator(i, undefined, { description: `${odd[i % odd.length]!}${i}${odd[(i * 7) % odd.length]!}` }));
    // The text as a client sent it (spaced, members in its own order), not as we would write it.
    const texts = objects.map((o, i) => (i % 2 === 0 ? JSON.stringify(o) : JSON.stringify(o, null, 1)));
    const r = await db.transaction().execute((trx) => store.add(trx, collection, objects.map((o, i) => ({ object: o, text: texts[i]!, tlp: 'green' as const })), PROV));
    expect(r.failures).toEqual([]);
    const { rows } = await walkAll(db, collection, LAST, 1000);
    expect(rows.map((x) => x.object_id)).toEqual(objects.map((o) => o.id));
    expect(rows.map((x) => x.object)).toEqual(texts);
  });

  it('stores every text and provenance as it is, whatever characters it holds (COPY\'s escapes on PostgreSQL)', async () => {
    const { db, store, collection } = await setup(open);
    const odd = ['back\\slash \\N and \\t', 'tab\there', 'line\nbreak\r\nand CR', 'record\u001eseparator', '\\N', '', 'ünï ☃ 𝄞'];
    const batch = [incoming(indicator(1)), ...odd.map((text, i) => ({ ...incoming(indicator(2 + i)), text }))];
    const prov: Provenance = { source: 'ru\tpeer', added_by: 'al\\ice\n', recipients: ['a\\b', 'c\td'], message_id: 'm\\1' };
    const r = await db.transaction().execute((trx) => store.add(trx, collection, batch, prov));
    expect(r.failures).toEqual([]);
    const rows = await db.selectFrom('stix_objects').select(['object', 'source', 'added_by', 'recipients', 'message_id']).orderBy('date_added').execute();
    expect(rows.map((x) => x.object)).toEqual(batch.map((b) => b.text));
    for (const x of rows) expect(x).toMatchObject({ source: prov.source, added_by: prov.added_by, recipients: JSON.stringify(prov.recipients), message_id: prov.message_id });
  });

  it('stores nothing of a batch the server refuses part of', async () => {
    const { db, store, collection } = await setup(open);
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(indicator(1))], PROV));
    // A text PostgreSQL cannot hold (NUL) in the middle of a batch; SQLite holds it.
    const batch = [incoming(indicator(2)), { ...incoming(indicator(3)), text: 'nul\u0000inside' }, incoming(indicator(4))];
    const add = db.transaction().execute((trx) => store.add(trx, collection, batch, PROV));
    if (dialect === 'postgres') {
      await expect(add).rejects.toThrow();
      expect((await db.selectFrom('stix_objects').select('object_id').execute()).length).toBe(1);
      // The connection is fine after the refused COPY: the next batch lands.
      await db.transaction().execute((trx) => store.add(trx, collection, [incoming(indicator(5))], PROV));
      expect((await db.selectFrom('stix_objects').select('object_id').execute()).length).toBe(2);
    } else {
      await add;
      expect((await db.selectFrom('stix_objects').select('object_id').execute()).length).toBe(4);
    }
  });

  it('keeps versions: the earliest and latest are marked whatever order they arrive in, and each filter walks what it names', async () => {
    const { db, store, collection } = await setup(open);
    const base = indicator(1, '2026-11-30T12:00:00.000Z');
    const v = (modified: string): StixObject => ({ ...base, modified });
    const other = indicator(2);
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(base), incoming(other)], PROV));
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(v('2026-11-30T11:00:00.000Z'))], PROV));
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(v('2026-11-30T13:00:00.000Z')), incoming(v('2026-11-30T12:30:00.000Z'))], PROV));
    const flags = await db.selectFrom('stix_objects').select(['version', 'is_first', 'is_last']).where('object_id', '=', base.id).orderBy('version').execute();
    expect(flags.map((f) => [f.is_first, f.is_last])).toEqual([[1, 0], [0, 0], [0, 0], [0, 1]]);
    const modified = (rows: StoredVersion[]): string[] => rows.filter((x) => x.object_id === base.id).map((x) => (JSON.parse(x.object) as { modified: string }).modified);
    expect(modified((await walkAll(db, collection, LAST, 1)).rows)).toEqual(['2026-11-30T13:00:00.000Z']);
    expect(modified((await walkAll(db, collection, { ...LAST, versions: { all: false, first: true, last: false, at: [] } }, 1)).rows)).toEqual(['2026-11-30T11:00:00.000Z']);
    // match[version]=all: every version in the order they were added.
    expect(modified((await walkAll(db, collection, { ...LAST, versions: ALL_VERSIONS }, 2)).rows))
      .toEqual(['2026-11-30T12:00:00.000Z', '2026-11-30T11:00:00.000Z', '2026-11-30T13:00:00.000Z', '2026-11-30T12:30:00.000Z']);
    const byType = await walkAll(db, collection, { ...LAST, types: ['indicator'], versions: { all: false, first: true, last: true, at: [] } }, 1);
    expect(modified(byType.rows)).toEqual(['2026-11-30T11:00:00.000Z', '2026-11-30T13:00:00.000Z']);
    const byId = await walkAll(db, collection, { ...LAST, ids: [base.id], versions: ALL_VERSIONS }, 3);
    expect(byId.rows).toHaveLength(4);
    expect((await walkAll(db, collection, { ...LAST, types: ['malware'] }, 10)).rows).toEqual([]);
  });

  it('moves the earliest and latest marks of many stored objects in one batch, each on its own object', async () => {
    const { db, store, collection } = await setup(open);
    const at = (h: number): string => `2026-11-30T${String(h).padStart(2, '0')}:00:00.000Z`;
    const objects = Array.from({ length: 60 }, (_, i) => indicator(i, at(12)));
    await db.transaction().execute((trx) => store.add(trx, collection, objects.map((o) => incoming(o)), PROV));
    // One batch: a later version of every third object, an earlier one of the next, both of the
    // next; the rest untouched. The stored versions whose marks move are cleared together.
    const news: Record<number, number[]> = { 0: [13], 1: [11], 2: [10, 14] };
    const batch = objects.flatMap((o, i) => (news[i % 3] ?? []).map((h) => incoming({ ...o, modified: at(h) } as StixObject)));
    const r = await db.transaction().execute((trx) => store.add(trx, collection, batch, PROV));
    expect(r.failures).toEqual([]);
    const rows = await db.selectFrom('stix_objects').select(['object_id', 'version', 'is_first', 'is_last']).orderBy('object_id').orderBy('version').execute();
    const byId = new Map<string, string[]>();
    for (const row of rows) byId.set(row.object_id, [...(byId.get(row.object_id) ?? []), `${row.is_first}${row.is_last}`]);
    objects.forEach((o, i) => {
      const expected = { 0: ['10', '01'], 1: ['10', '01'], 2: ['10', '00', '01'] }[i % 3];
      expect(byId.get(o.id), `object ${i}`).toEqual(expected);
    });
  });

  it('recognises what is already stored, refuses a different object under a stored version, and versions objects without one by content', async () => {
    const { db, store, collection } = await setup(open);
    const a = indicator(1);
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(a)], PROV));
    const addr = { type: 'ipv4-addr', spec_version: '2.1', id: `ipv4-addr--${randomUUID()}`, value: '203.0.113.7' } as StixObject;
    const reordered = JSON.parse(JSON.stringify({ name: a.name, ...a })) as StixObject;
    const r = await db.transaction().execute((trx) => store.add(trx, collection, [
      incoming(reordered), incoming({ ...a, name: 'changed' } as StixObject), incoming(addr), incoming(addr), incoming({ ...addr, value: '203.0.113.8' } as StixObject),
    ], PROV));
    expect(r.successes.map((s) => s.message ?? 'stored')).toEqual(['stored', 'already stored', 'stored', 'already stored']);
    expect(r.failures.map((f) => f.id)).toEqual([a.id]);
    const n = await db.selectFrom('stix_objects').select((e) => e.fn.countAll<number>().as('n')).where('object_id', '=', addr.id).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(2);
  });

  it('adds to an object with hundreds of versions by reading a few of them, not its history: flags, repeats and conflicts stay right', async () => {
    const { db, store, collection } = await setup(open);
    const base = indicator(1);
    const at = (m: number): string => new Date(Date.UTC(2026, 10, 1) + m * 60_000).toISOString();
    const v = (m: number, over: Record<string, unknown> = {}): StixObject => ({ ...base, modified: at(m), ...over });
    // Versions 1..300 (every minute), in batches of 50.
    for (let b = 0; b < 6; b++) {
      await db.transaction().execute((trx) => store.add(trx, collection, Array.from({ length: 50 }, (_, i) => incoming(v(1 + b * 50 + i))), PROV));
    }
    let rows = 0;
    const counted = db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: (args) => {
        rows += args.result.rows.length;
        return Promise.resolve(args.result);
      },
    });
    // A newer version, an older one than all, one already stored (the same), one stored and different, and a new object.
    const fresh = indicator(2);
    const r = await counted.transaction().execute((trx) => store.add(trx, collection, [
      incoming(v(400)), incoming(v(0)), incoming(v(150)), incoming(v(151, { name: 'changed' })), incoming(fresh),
    ], PROV));
    expect(r.successes.map((x) => [x.version, x.message ?? '']).sort()).toEqual([[at(400), ''], [at(0), ''], [at(150), 'already stored'], [fresh.modified, '']].sort());
    expect(r.failures.map((x) => x.version)).toEqual([at(151)]);
    // The lookups read the latest and earliest stored versions and the two stored ones the batch names; the texts of those two.
    expect(rows).toBeGreaterThanOrEqual(6);
    expect(rows).toBeLessThanOrEqual(12);
    const flags = await db.selectFrom('stix_objects').select(['version', 'is_first', 'is_last']).where('collection_key', '=', await store.keyOf(db, collection))
      .where('object_id', '=', base.id).where((eb) => eb.or([eb('is_first', '=', 1), eb('is_last', '=', 1)])).execute();
    expect(flags.map((f) => [Number(f.version), f.is_first, f.is_last]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [Date.parse(at(0)) * 1000, 1, 0], [Date.parse(at(400)) * 1000, 0, 1],
    ]);
    expect(Number((await db.selectFrom('stix_objects').select((e) => e.fn.countAll<number>().as('n')).where('object_id', '=', base.id).executeTakeFirstOrThrow()).n)).toBe(302);
  });

  it('pages over the versions of one object (match[id]) in date_added order, reading only a page of their texts', async () => {
    const { db, store, collection } = await setup(open);
    const base = indicator(1);
    const at = (m: number): string => new Date(Date.UTC(2026, 10, 1) + m * 60_000).toISOString();
    // 2,500 versions, in batches that arrive out of order, between versions of other objects.
    for (const b of [3, 0, 4, 1, 2]) {
      await db.transaction().execute((trx) => store.add(trx, collection, [
        ...Array.from({ length: 500 }, (_, i) => incoming({ ...base, modified: at(b * 500 + i) } as StixObject)), incoming(indicator(10 + b)),
      ], PROV));
    }
    let texts = 0;
    const counted = db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: (args) => {
        texts += args.result.rows.filter((r) => typeof (r as { object?: unknown }).object === 'string').length;
        return Promise.resolve(args.result);
      },
    }) as Kysely<TaxiiTables>;
    const all: ObjectFilter = { ...LAST, ids: [base.id], versions: { all: true, first: false, last: false, at: [] } };
    const { rows, pages } = await walkAll(counted, collection, all, 1000);
    expect(pages).toBe(3);
    expect(rows).toHaveLength(2500);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.date_added).toBeGreaterThan(rows[i - 1]!.date_added);
    expect(new Set(rows.map((r) => Number(r.version))).size).toBe(2500);
    expect(rows.every((r) => r.object_id === base.id)).toBe(true);
    // Each page read the texts of its own versions (and one more, to know there are more), and of
    // the 65 it reads first to see whether the object has few versions: not all 2,500 (7,500 in all).
    expect(texts).toBeLessThanOrEqual(2500 + 3 + 3 * 65);
  });

  it('keeps date_added growing across a restart, even when the clock goes back', async () => {
    const { db, clock, store, collection } = await setup(open);
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(indicator(1)), incoming(indicator(2))], PROV));
    const last = await db.selectFrom('stix_objects').select('date_added').orderBy('date_added', 'desc').executeTakeFirstOrThrow();
    clock.advance(-3_600_000);
    const again = await StixStore.open(db, clock);
    await db.transaction().execute((trx) => again.add(trx, collection, [incoming(indicator(3))], PROV));
    const next = await db.selectFrom('stix_objects').select('date_added').orderBy('date_added', 'desc').executeTakeFirstOrThrow();
    expect(next.date_added).toBe(last.date_added + 1);
    const hwm = await db.selectFrom('taxii_meta').select('value').where('key', '=', 'date_added_hwm').executeTakeFirstOrThrow();
    expect(Number(hwm.value)).toBe(next.date_added);
  });

  it('removes versions and marks the earliest and latest of those left', async () => {
    const { db, store, collection } = await setup(open);
    const base = indicator(1, '2026-11-30T12:00:00.000Z');
    await db.transaction().execute((trx) => store.add(trx, collection, ['11', '12', '13'].map((h) => incoming({ ...base, modified: `2026-11-30T${h}:00:00.000Z` } as StixObject)), PROV));
    const rows = await db.selectFrom('stix_objects').select(['date_added', 'version']).where('object_id', '=', base.id).orderBy('version').execute();
    await db.transaction().execute((trx) => store.remove(trx, collection, base.id, [rows[0]!.date_added, rows[2]!.date_added]));
    const left = await db.selectFrom('stix_objects').select(['is_first', 'is_last']).where('object_id', '=', base.id).execute();
    expect(left).toEqual([{ is_first: 1, is_last: 1 }]);
  });

  it('adds from concurrent transactions in commit order: every version once, date_added unique', async () => {
    const { db, store, collection } = await setup(open);
    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 300 }, (_, i) => indicator(b * 300 + i)));
    await Promise.all(batches.map((objects) => store.transaction(db, (trx) => store.add(trx, collection, objects.map((o) => incoming(o)), PROV))));
    const { rows } = await walkAll(db, collection, LAST, 1000);
    expect(rows).toHaveLength(1800);
    expect(new Set(rows.map((r) => r.date_added)).size).toBe(1800);
    expect(rows.map((r) => r.object_id)).toEqual(batches.flat().map((o) => o.id));
  });

  it('adds from two stores on one database (two processes) without losing or repeating a version: the later writer runs again', async () => {
    const { db, clock, store, collection } = await setup(open);
    const other = await StixStore.open(db, clock);
    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 200 }, (_, i) => indicator(b * 200 + i)));
    await Promise.all(batches.map((objects, b) => (b % 2 === 0 ? store : other).transaction(db, (trx) => (b % 2 === 0 ? store : other).add(trx, collection, objects.map((o) => incoming(o)), PROV))));
    const { rows } = await walkAll(db, collection, LAST, 500);
    expect(rows).toHaveLength(1200);
    expect(new Set(rows.map((r) => r.object_id)).size).toBe(1200);
    expect(new Set(rows.map((r) => r.date_added)).size).toBe(1200);
  });

  it('uses a batch\'s lookups made before its transaction only as far as they still hold: what was stored since is read, and after a removal everything is', async () => {
    const { db, store, collection } = await setup(open);
    const at = (day: number): string => `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`;
    const a = indicator(1, at(20), { created: at(1) });
    const d = indicator(4, at(20));
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming(a), incoming(d)], PROV));
    // The batch: a newer version of a, a new object c, and d as stored; its lookups made now.
    const batch = [incoming({ ...a, modified: at(28) }), incoming(indicator(3, at(20))), incoming(d)];
    const c = batch[1]!.object;
    const pre = await store.prefetch(db, collection, batch);
    expect(pre === undefined).toBe(dialect === 'sqlite');
    // Meanwhile another writer stores a later version of a, and c with other contents; then d is removed.
    await db.transaction().execute((trx) => store.add(trx, collection, [incoming({ ...a, modified: at(25) }), incoming({ ...c, name: 'other' })], PROV));
    const dRow = await db.selectFrom('stix_objects').select('date_added').where('object_id', '=', d.id).executeTakeFirstOrThrow();
    await db.transaction().execute((trx) => store.remove(trx, collection, d.id, [Number(dRow.date_added)]));

    const r = await db.transaction().execute((trx) => store.add(trx, collection, batch, PROV, pre));
    expect(r.failures.map((f) => [f.id, f.message])).toEqual([[c.id, expect.stringMatching(/different object/)]]);
    expect(r.successes.map((x) => [x.id, x.message])).toEqual([[a.id, undefined], [d.id, undefined]]);
    const flags = await db.selectFrom('stix_objects').select(['object_id', 'version', 'is_first', 'is_last']).where('object_id', 'in', [a.id, c.id, d.id]).orderBy('object_id').orderBy('version').execute();
    expect(flags.map((f) => [f.object_id, f.is_first, f.is_last])).toEqual([
      [a.id, 1, 0], [a.id, 0, 0], [a.id, 0, 1],
      [c.id, 1, 1],
      [d.id, 1, 1],
    ].sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)));
  });

  it(`${dialect === 'postgres' ? 'trusts a batch\'s lookups made before its transaction when nothing was stored since' : 'makes no lookups before a transaction on SQLite'}`, async () => {
    const { db, store, collection } = await setup(open);
    const e = indicator(5);
    const batch = [incoming(e)];
    const pre = await store.prefetch(db, collection, batch);
    if (dialect === 'sqlite') {
      expect(pre).toBeUndefined();
      return;
    }
    // A prefetch that says e is stored at its version (it is not): trusted, the transaction reads
    // no versions, and e's text is then missing, a conflict. Shows that the lookups are not made twice.
    pre!.versions.set(e.id, new Map([[Date.parse(e.modified as string) * 1000, { version: Date.parse(e.modified as string) * 1000, fresh: false }]]));
    const r = await db.transaction().execute((trx) => store.add(trx, collection, batch, PROV, pre));
    expect(r.failures.map((f) => f.id)).toEqual([e.id]);
    // The same made for another batch (another array) is not used.
    const again = await db.transaction().execute((trx) => store.add(trx, collection, [incoming(e)], PROV, pre));
    expect(again.failures).toEqual([]);
  });

  it('records statuses in parts and finishes interrupted ones', async () => {
    const { db, store, collection } = await setup(open);
    const at = { collectionId: collection, principal: 'alice', total: 5, requestedAt: 1_796_000_000_000_000 };
    const objects = [indicator(1), indicator(2), indicator(3)];
    const id = await db.transaction().execute(async (trx) => {
      const r = await store.add(trx, collection, [incoming(objects[0]!), incoming(objects[1]!)], PROV);
      return statuses.create(trx, at, { result: r, last: false });
    });
    expect((await statuses.get(db, id))?.resource).toMatchObject({ status: 'pending', total_count: 5, success_count: 2, failure_count: 0, pending_count: 3 });
    // A later part adds to the counts (a failure among them), still pending.
    await db.transaction().execute(async (trx) => {
      const r = await store.add(trx, collection, [incoming(objects[2]!)], PROV);
      await statuses.addPart(trx, id, 1, { successes: r.successes, failures: [{ id: 'objects[4]', version: 'unknown', message: 'refused' }] }, false);
    });
    const pending = await statuses.get(db, id);
    expect(pending?.resource).toMatchObject({ status: 'pending', total_count: 5, success_count: 3, failure_count: 1, pending_count: 1, request_timestamp: '2026-11-30T00:53:20.000000Z' });
    expect(pending?.resource.successes?.map((x) => x.id)).toEqual(objects.map((o) => o.id));
    expect(await statuses.finishInterrupted(db)).toBe(1);
    expect((await statuses.get(db, id))?.resource).toMatchObject({ status: 'complete', pending_count: 1 });
    expect((await statuses.get(db, id))?.resource.x_hotline_interrupted).toMatch(/POST them again/);
  });

  it(`pages ${dialect === 'postgres' ? 'on PostgreSQL ' : ''}past versions a reader may not see, with a bounded number examined per page`, async () => {
    const { db, store, collection } = await setup(open);
    const hidden = Array.from({ length: 2500 }, (_, i) => incoming(indicator(i), 'red'));
    const shown = incoming(indicator(9999), 'green');
    await db.transaction().execute((trx) => store.add(trx, collection, [...hidden, shown], PROV));
    const see = (r: StoredVersion): boolean => r.tlp !== 'red';
    const first = await queryPage(db, await store.keyOf(db, collection), LAST, 0, 10, see);
    expect(first.rows).toEqual([]);
    expect(first.more).toBe(true);
    const second = await queryPage(db, await store.keyOf(db, collection), LAST, first.position, 10, see);
    expect(second.rows.map((r) => r.object_id)).toEqual([shown.object.id]);
    expect(second.more).toBe(false);
  });
});

describeEachStore('collections', (open) => {
  it('makes a peer\'s inbound collection once, inside a transaction, readable by cert', async () => {
    const db = (await open()) as unknown as Kysely<TaxiiTables>;
    const clock = new FakeClock();
    const collections = new CollectionRepository({ db, clock });
    const a = await db.transaction().execute((trx) => collections.inbound(trx, 'ru'));
    const b = await db.transaction().execute((trx) => collections.inbound(trx, 'ru'));
    expect(b.id).toBe(a.id);
    expect(await collections.grants('inbound-ru')).toEqual([expect.objectContaining({ subject: 'channel:cert', read: true, write: false })]);
    expect(await collections.access({ user: 'bob', role: 'officer', channels: ['cert'] } as Principal, a)).toEqual({ visible: true, read: true, write: false });
    expect(await collections.access(ADMIN, a)).toEqual({ visible: true, read: true, write: true });
    await expect(collections.add({ alias: 'inbound-ru' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await collections.add({ alias: 'mine' });
    await expect(collections.add({ alias: 'mine' })).rejects.toMatchObject({ code: 'collection_exists' });
    expect((await collections.list()).map((c) => c.alias)).toEqual(['inbound-ru', 'mine']);
  });

  it('numbers collections added at once (several connections, inbound ones in their own transactions) each with a key of its own', async () => {
    const db = (await open()) as unknown as Kysely<TaxiiTables>;
    const collections = new CollectionRepository({ db, clock: new FakeClock() });
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0
      ? collections.add({ alias: `c${i}` })
      : db.transaction().execute((trx) => collections.inbound(trx, `p${i}`)))));
    const keys = (await db.selectFrom('taxii_collections').select('key').execute()).map((r) => Number(r.key)).sort((a, b) => a - b);
    expect(keys).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
