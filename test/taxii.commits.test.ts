/**
 * A TAXII POST costs one durable commit per batch, its status included: a small POST (up to
 * INGEST_BATCH objects) is one commit, not one for the status and one for the objects; POSTs that
 * arrive together share one (StixStore.transaction, shared/grouped.ts). Counted at
 * the SQLite connection: every COMMIT, and every write run outside a transaction (autocommit).
 */
import { generateKeyPairSync } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase as KyselySqlite } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../src/adapters/storage/migrate.js';
import type { Database, Store } from '../src/adapters/storage/schema.js';
import { FakeClock } from '../src/shared/clock.js';
import { NODE_ADMIN } from '../src/modules/users/users.types.js';
import { CollectionRepository } from '../src/modules/taxii/taxii.collections.js';
import { CursorCodec } from '../src/modules/taxii/taxii.cursor.js';
import { TaxiiService } from '../src/modules/taxii/taxii.service.js';
import { INGEST_BATCH } from '../src/modules/taxii/taxii.store.js';
import { StixStore } from '../src/modules/taxii/taxii.store.js';
import { indicator, ipv4 } from './helpers/taxii.js';

let raw: SqliteDatabase.Database;
let db: Kysely<Database>;
let commits = 0;
let taxii: TaxiiService;

/** better-sqlite3 as Kysely sees it, counting durable commits. */
function counting(d: SqliteDatabase.Database): KyselySqlite {
  let inTransaction = false;
  return {
    close: () => d.close(),
    prepare(sql: string) {
      const stmt = d.prepare(sql);
      const verb = sql.trim().split(/\s+/)[0]!.toLowerCase();
      return {
        reader: stmt.reader,
        all: (p: readonly unknown[]) => stmt.all(...p),
        iterate: (p: readonly unknown[]) => stmt.iterate(...p),
        run: (p: readonly unknown[]) => {
          if (verb === 'begin') inTransaction = true;
          else if (verb === 'commit' || verb === 'rollback') {
            if (verb === 'commit') commits++;
            inTransaction = false;
          } else if (!inTransaction) commits++;
          return stmt.run(...p);
        },
      };
    },
  };
}

beforeEach(async () => {
  raw = new SqliteDatabase(':memory:');
  db = new Kysely<Database>({ dialect: new SqliteDialect({ database: counting(raw) }) });
  await migrate(db);
  const store = db as Store;
  const clock = new FakeClock(Date.UTC(2026, 11, 1));
  const collections = new CollectionRepository({ db: store, clock });
  await collections.add({ alias: 'c' });
  taxii = new TaxiiService({
    db: store, clock, collections, store: await StixStore.open(store, clock), cursors: new CursorCodec(generateKeyPairSync('ed25519').privateKey),
    limits: { maxPage: 1000, defaultPage: 100 },
  });
  commits = 0;
});
afterEach(async () => db.destroy());

describe('TAXII POST commits', () => {
  it('a POST of 100 objects is one commit: the status and the objects together', async () => {
    const objects = [...Array.from({ length: 99 }, () => indicator()), { type: 'indicator', id: 'not-an-id' }];
    const s = await taxii.add(NODE_ADMIN, 'c', { objects });
    expect(commits).toBe(1);
    expect(s).toMatchObject({ status: 'complete', total_count: 100, success_count: 99, failure_count: 1, pending_count: 0 });
    expect((raw.prepare('select count(*) as n from stix_objects').get() as { n: number }).n).toBe(99);
  });

  it('a POST larger than one batch commits once per batch, the status with the first', async () => {
    const objects = Array.from({ length: INGEST_BATCH.sqlite + 5 }, (_, i) => ipv4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    const s = await taxii.add(NODE_ADMIN, 'c', { objects });
    expect(commits).toBe(2);
    expect(s).toMatchObject({ status: 'complete', total_count: INGEST_BATCH.sqlite + 5, success_count: INGEST_BATCH.sqlite + 5, failure_count: 0 });
    expect(s.successes).toHaveLength(INGEST_BATCH.sqlite + 5);
  });

  it('POSTs that arrive together share one commit, each with its own status and outcome', async () => {
    const sent = Array.from({ length: 8 }, (_, i) => ({ objects: [...Array.from({ length: 50 }, () => indicator()), ...(i === 3 ? [{ type: 'indicator', id: 'not-an-id' }] : [])] }));
    const statuses = await Promise.all(sent.map((e) => taxii.add(NODE_ADMIN, 'c', e)));
    expect(commits).toBe(1);
    statuses.forEach((s, i) => {
      expect(s).toMatchObject({ status: 'complete', total_count: i === 3 ? 51 : 50, success_count: 50, failure_count: i === 3 ? 1 : 0 });
      expect(s.successes?.map((o) => o.id)).toEqual(sent[i]!.objects.slice(0, 50).map((o) => o.id));
    });
    expect(new Set(statuses.map((s) => s.id)).size).toBe(8);
    expect((raw.prepare('select count(*) as n from stix_objects').get() as { n: number }).n).toBe(400);
  });

  it('objects stored in one POST are recognised in the next (the compiled lookups and inserts), versions flagged', async () => {
    const first = indicator();
    const later = { ...first, modified: '2026-12-01T10:00:00.000Z' };
    const others = Array.from({ length: 130 }, () => indicator());
    await taxii.add(NODE_ADMIN, 'c', { objects: [first, ...others] });
    const s = await taxii.add(NODE_ADMIN, 'c', { objects: [later, ...others.slice(0, 3), { ...others[3]!, name: 'changed' }] });
    expect(s.success_count).toBe(4);
    expect(s.failures?.map((f) => f.id)).toEqual([others[3]!.id]);
    const rows = raw.prepare('select version, is_first, is_last from stix_objects where object_id = ? order by version').all(first.id as string);
    expect(rows).toEqual([{ version: expect.any(Number), is_first: 1, is_last: 0 }, { version: expect.any(Number), is_first: 0, is_last: 1 }]);
    expect((raw.prepare('select count(*) as n from stix_objects').get() as { n: number }).n).toBe(132);
  });
});
