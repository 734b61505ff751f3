import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describePg, type TestDatabase } from '../../../test/helpers/pg.js';
import { FakeClock } from '../../shared/clock.js';
import type { Dialect } from '../../shared/dialect.js';
import { idHash } from '../../modules/taxii/taxii.lookups.js';
import { StixStore } from '../../modules/taxii/taxii.store.js';
import type { StixObject } from '../../modules/stix/stix.types.js';
import type { TaxiiTables } from '../../modules/taxii/taxii.tables.js';
import { migrationProvider } from './migrations/index.js';
import type { Store } from './schema.js';
import { openSqlite } from './sqlite.js';
import { openStore } from './store.js';

/**
 * Migration 0023 (stix_objects by collection key and id hash) on a store that holds objects: every
 * row is kept as it was, each collection gets its key in creation order, and the 48 bits the SQL
 * computed for each row are what taxii.lookups.ts idHash computes, so the store finds the rows the
 * migration copied (a new version of a copied object re-marks the copied latest one).
 */
const BEFORE = '0022_feed_job_attempts';
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface OldRow {
  collection_id: string; date_added: number; object_id: string; type: string; version: number; has_version: number; spec_version: string;
  is_first: number; is_last: number; tlp: string; source: string; added_by: string; recipients: string | null; message_id: string | null; object: string;
}

const COLLECTIONS = [
  // Made second, listed first: keys follow created_at, not insertion order.
  { id: 'bbbbbbbb-0000-4000-8000-000000000002', alias: 'later', title: 'later', description: null, channel: 'cert', default_tlp: 'amber', peer: null, created_at: 2000 },
  { id: 'aaaaaaaa-0000-4000-8000-000000000001', alias: 'earlier', title: 'earlier', description: null, channel: 'cert', default_tlp: 'amber', peer: null, created_at: 1000 },
];
const MODIFIED = '2026-11-30T10:00:00.000Z';
const V1 = Date.parse(MODIFIED) * 1000;

function indicatorText(id: string, modified: string): string {
  return JSON.stringify({
    type: 'indicator', spec_version: '2.1', id, created: MODIFIED, modified, name: 'C2', pattern: "[ipv4-addr:value = '198.51.100.7']",
    pattern_type: 'stix', valid_from: '2026-11-30T10:00:00Z',
  });
}

function oldRows(): OldRow[] {
  // Digits of every kind at the end, upper-case ones included (STIX allows them; the hash reads them as hex).
  const ids = [
    'indicator--11111111-2222-4333-8444-0123456789ab', 'indicator--11111111-2222-4333-8444-CDEFcdef0123', 'indicator--ffffffff-ffff-4fff-bfff-ffffffffffff',
    'ipv4-addr--00000000-0000-5000-8000-000000000000', 'indicator--9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  ];
  return ids.map((id, i) => ({
    collection_id: COLLECTIONS[i % 2]!.id, date_added: 1_700_000_000_000_000 + i, object_id: id, type: id.slice(0, id.indexOf('--')),
    version: V1, has_version: 1, spec_version: '2.1', is_first: 1, is_last: 1, tlp: 'amber', source: 'local', added_by: 'alice',
    recipients: i === 2 ? '["bob"]' : null, message_id: i === 3 ? 'msg-1' : null, object: indicatorText(id, MODIFIED),
  }));
}

/** A store of `dialect` migrated up to 0022, holding the rows; then opened as the node opens it (migrating the rest). */
async function migratedStore(dialect: Dialect): Promise<Store> {
  let db: Kysely<unknown>;
  let open: () => Promise<Store>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-0023-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'store.sqlite');
    db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
    open = () => openSqlite(path);
  } else {
    const t: TestDatabase = await createTestDatabase();
    cleanups.push(() => t.drop());
    db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url, max: 1 }) }) });
    open = () => openStore({ driver: 'postgres', url: t.url, passwordFile: null, maxConnections: 2 });
  }
  const { error } = await new Migrator({ db, provider: migrationProvider(dialect) }).migrateTo(BEFORE);
  expect(error).toBeUndefined();
  const old = db as unknown as Kysely<{ taxii_collections: (typeof COLLECTIONS)[number]; stix_objects: OldRow }>;
  await old.insertInto('taxii_collections').values(COLLECTIONS).execute();
  await old.insertInto('stix_objects').values(oldRows()).execute();
  await db.destroy();
  const store = await open();
  cleanups.unshift(() => store.destroy());
  return store;
}

function check(dialect: Dialect): void {
  it('keeps every row, keys collections in creation order, and hashes each id as the store does', async () => {
    const db = (await migratedStore(dialect)) as unknown as Kysely<TaxiiTables>;
    const keys = await db.selectFrom('taxii_collections').select(['id', 'key']).orderBy('key').execute();
    expect(keys.map((k) => [k.id, Number(k.key)])).toEqual([[COLLECTIONS[1]!.id, 1], [COLLECTIONS[0]!.id, 2]]);
    const keyOf = new Map(keys.map((k) => [k.id, Number(k.key)]));
    const rows = await db.selectFrom('stix_objects').selectAll().orderBy('date_added').execute();
    const want = oldRows();
    expect(rows).toHaveLength(want.length);
    rows.forEach((r, i) => {
      const { collection_id, ...rest } = want[i]!;
      expect({ ...r, date_added: Number(r.date_added), version: Number(r.version), id_hash: Number(r.id_hash), collection_key: Number(r.collection_key) })
        .toEqual({ ...rest, collection_key: keyOf.get(collection_id), id_hash: idHash(r.object_id) });
    });
    // Not a constant: the five ids hash to five values, one of them the largest 48 bits can hold.
    expect(new Set(rows.map((r) => Number(r.id_hash))).size).toBe(5);
    expect(Number(rows[2]!.id_hash)).toBe(2 ** 48 - 1);
  });

  it('lets the store find the copied rows: a new version of a copied object re-marks it, the same one is "already stored"', async () => {
    const db = (await migratedStore(dialect)) as unknown as Kysely<TaxiiTables>;
    const store = await StixStore.open(db, new FakeClock(Date.UTC(2026, 11, 6)));
    const copied = oldRows()[1]!;
    const newer = JSON.parse(indicatorText(copied.object_id, '2026-12-01T10:00:00.000Z')) as StixObject;
    const same = JSON.parse(copied.object) as StixObject;
    const r = await db.transaction().execute((trx) => store.add(trx, copied.collection_id, [
      { object: newer, text: JSON.stringify(newer), tlp: 'amber' }, { object: same, text: copied.object, tlp: 'amber' },
    ], { source: 'local', added_by: 'alice', recipients: null, message_id: null }));
    expect(r.failures).toEqual([]);
    expect(r.successes.map((s) => s.message ?? 'new')).toEqual(['new', 'already stored']);
    const versions = await db.selectFrom('stix_objects').select(['version', 'is_first', 'is_last']).where('object_id', '=', copied.object_id).orderBy('version').execute();
    expect(versions.map((v) => [v.is_first, v.is_last])).toEqual([[1, 0], [0, 1]]);
  });
}

describePg('migration 0023 on PostgreSQL', () => check('postgres'));
describe('migration 0023 on SQLite', () => check('sqlite'));
