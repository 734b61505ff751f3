/**
 * PostgreSQL for tests (issue 13). `.ci/run` starts the server and sets HOTLINE_REQUIRE_POSTGRES=1:
 * there a server that does not answer fails the suite. A plain `npm test` on a machine without
 * one skips the PostgreSQL tests and says so (describePg prints why).
 *
 * Each test file makes its own database (createTestDatabase) and drops it at the end, so files
 * running in parallel never see each other's rows; `openTestStore('postgres')` gives each store a
 * fresh schema in the worker's database, which is much cheaper than a database per store.
 *
 *   describePg('several processes', () => { ... });
 *   describeEachStore('the outbox', (open) => { it('...', async () => { const db = await open(); ... }); });
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, describe } from 'vitest';
import type { Store } from '../../src/adapters/storage/schema.js';
import { openStore } from '../../src/adapters/storage/store.js';
import { openSqlite } from '../../src/adapters/storage/sqlite.js';
import type { Dialect } from '../../src/shared/dialect.js';

const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');

/** The server tests use: a database the user may create databases from (trust auth on this machine). */
export const PG_ADMIN_URL = process.env.HOTLINE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRED = process.env.HOTLINE_REQUIRE_POSTGRES === '1';

function probe(): string | null {
  const r = spawnSync('psql', [PG_ADMIN_URL, '-Atc', 'select 1'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined) return `psql could not run (${r.error.message})`;
  return r.status === 0 && r.stdout.trim() === '1' ? null : `PostgreSQL at ${PG_ADMIN_URL} did not answer: ${r.stderr.trim()}`;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export const PG_MISSING: string | null = probe();
let told = false;

/** `describe`, or (no server, not required) a skipped describe with the reason printed once. */
export function describePg(name: string, body: () => void): void {
  if (PG_MISSING === null) { describe(name, body); return; }
  if (REQUIRED) {
    describe(name, () => { throw new Error(`PostgreSQL is required (HOTLINE_REQUIRE_POSTGRES=1) but ${PG_MISSING}. Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`); });
    return;
  }
  if (!told) {
    told = true;
    console.warn(`[hotline] PostgreSQL tests SKIPPED: ${PG_MISSING} (CI sets HOTLINE_REQUIRE_POSTGRES=1 and fails instead)`);
  }
  describe.skip(name, body);
}

/** The dialects this machine can test: SQLite always; PostgreSQL when its server answers (or is required). */
export const TEST_DIALECTS: readonly Dialect[] = PG_MISSING === null || REQUIRED ? ['sqlite', 'postgres'] : ['sqlite'];

async function admin<T>(f: (c: InstanceType<typeof Client>) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  /** postgres://... of the new database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database with the collation Hotline needs (dropped by `drop()`, even with connections open). */
export async function createTestDatabase(prefix = 'hotline_t'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}" template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`));
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return { url: u.toString(), name, drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined) };
}

let workerDb: Promise<TestDatabase> | undefined;
let opened: Store[] = [];

// Registered when a test file loads this module: a hook registered while a test runs (where the
// first store is opened) is never called, which left every file's database behind.
afterAll(async () => {
  const stores = opened;
  opened = [];
  await Promise.all(stores.map((s) => s.destroy().catch(() => undefined)));
  const db = workerDb;
  workerDb = undefined;
  if (db !== undefined) await (await db).drop();
});

/**
 * A fresh, migrated store in a dialect: SQLite in memory, or PostgreSQL in a new schema of this
 * test file's database (made on first use, dropped after the file's tests).
 */
export async function openTestStore(dialect: Dialect, opts: { sessionTimeoutMs?: number } = {}): Promise<Store> {
  if (dialect === 'sqlite') return openSqlite(':memory:');
  workerDb ??= createTestDatabase();
  const db = await workerDb;
  const schema = `s_${randomBytes(5).toString('hex')}`;
  const u = new URL(db.url);
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(`create schema ${schema}`);
  } finally {
    await c.end();
  }
  const store = await openStore({ driver: 'postgres', url: u.toString(), passwordFile: null, maxConnections: 4, schema, ...opts });
  opened.push(store);
  return store;
}

/**
 * The same tests once per dialect this machine can test (`describe.each` over TEST_DIALECTS), each
 * given `open()` for a fresh store of that dialect. PostgreSQL is skipped, with the reason printed,
 * when there is no server and CI did not require one.
 */
export function describeEachStore(name: string, body: (open: () => Promise<Store>, dialect: Dialect) => void): void {
  describe(`${name} (SQLite)`, () => body(() => openTestStore('sqlite'), 'sqlite'));
  describePg(`${name} (PostgreSQL)`, () => body(() => openTestStore('postgres'), 'postgres'));
}
