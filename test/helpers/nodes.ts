import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigFile } from '../../src/config.js';
import { withNode } from '../../src/adapters/cli/home.js';
import { freePort } from '../../src/adapters/cli/commands/demo.js';
import { initHome } from '../../src/adapters/cli/commands/init.js';
import { startNode, type RunningNode, type StartOptions } from '../../src/main.js';
import { makeDescriptor, parseDescriptor, type Descriptor } from '../../src/modules/federation/federation.peers.js';
import { silentLogger } from '../../src/shared/logger.js';
import { afterAll } from 'vitest';
import type { TestDatabase } from './pg.js';

/** Which store a test node keeps: an SQLite file in its home (the default), or a PostgreSQL database of its own. */
export type TestStore = 'sqlite' | 'postgres';

/** How a test home is built beyond its config: `store: 'postgres'` makes a database for it (dropped after the file's tests, or by `cleanup()`). */
export interface HomeOptions {
  store?: TestStore;
}

/** A node home made for a test: real config, key and store (an SQLite file, or a PostgreSQL database) in a fresh temp directory. */
export interface TestHome {
  party: string;
  home: string;
  url: string;
  port: number;
  token: string;
  fingerprint: string;
  descriptor: Descriptor;
  /** Where its store is: `sqlite` (home/hotline.db) or `postgres` (`database`). */
  store: TestStore;
  database?: TestDatabase;
  start(opts?: StartOptions): Promise<RunningNode>;
  /** Drops its PostgreSQL database (nothing for SQLite); also done after the file's tests for any not dropped. */
  cleanup(): Promise<void>;
}

const databases: TestDatabase[] = [];

// Registered when a test file loads this module (a hook registered while a test runs is never
// called): drops the databases of the file's PostgreSQL homes that were not cleaned up.
afterAll(async () => {
  await Promise.all(databases.splice(0).map((d) => d.drop().catch(() => undefined)));
});

/** A database for a home, dropped by the home's cleanup or, at the latest, after this test file's tests. */
async function homeDatabase(): Promise<TestDatabase> {
  // Loaded only here: pg.ts probes the server when loaded, which SQLite-only test files need not wait for.
  const { createTestDatabase } = await import('./pg.js');
  const db = await createTestDatabase('hotline_node');
  databases.push(db);
  return db;
}

export function tempDir(prefix = 'hotline-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Creates a node home on a free loopback port. `extra` overrides config sections (limits, delivery).
 * `opts.store: 'postgres'` gives it its own PostgreSQL database; with HOTLINE_TEST_STORE=postgres (and
 * no `store` in `extra`) its store is a fresh PostgreSQL schema of the test file's database
 * (test/helpers/pg-homes.ts): any real-node test runs on PostgreSQL.
 */
export async function makeHome(party: string, extra: Partial<ConfigFile> = {}, dir = tempDir(), opts: HomeOptions = {}): Promise<TestHome> {
  const port = await freePort();
  if (process.env.HOTLINE_TEST_STORE === 'postgres' && extra.store === undefined) extra = { ...extra, ...(await (await import('./pg-homes.js')).pgStoreConfig()) };
  const home = join(dir, party);
  const store = opts.store ?? 'sqlite';
  const database = store === 'postgres' ? await homeDatabase() : undefined;
  const r = await initHome({ home, party, name: `${party.toUpperCase()} test node`, listen: `127.0.0.1:${port}`, extra, ...(database === undefined ? {} : { database: database.url }) });
  const descriptor = await withNode(home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
  return {
    party, home, url: r.url, port, token: r.token, fingerprint: r.fingerprint, descriptor, store,
    ...(database === undefined ? {} : { database }),
    start: (o = {}) => startNode(loadConfig(home), { log: silentLogger, ...o }),
    cleanup: async () => {
      if (database === undefined) return;
      const i = databases.indexOf(database);
      if (i >= 0) databases.splice(i, 1);
      await database.drop();
    },
  };
}

/** Pins each home's descriptor on every other one (as `hotline peer add` would). */
export async function peerAll(...homes: TestHome[]): Promise<void> {
  for (const a of homes) {
    for (const b of homes) {
      if (a === b) continue;
      await withNode(a.home, (ctx) => ctx.peers.add(parseDescriptor(b.descriptor), { expectFingerprint: b.fingerprint }));
    }
  }
}

/** Two peered homes, `us` and `ru` (each on its own PostgreSQL database with `store: 'postgres'`). */
export async function makePair(extra: Partial<ConfigFile> = {}, opts: HomeOptions = {}): Promise<[TestHome, TestHome]> {
  const dir = tempDir();
  const us = await makeHome('us', extra, dir, opts);
  const ru = await makeHome('ru', extra, dir, opts);
  await peerAll(us, ru);
  return [us, ru];
}

/** Polls `check` until it returns a value other than undefined (bounded by `tries`, not by a clock limit on the test). */
export async function eventually<T>(check: () => Promise<T | undefined>, tries = 2400, everyMs = 50): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met after ${tries} tries`);
}

/**
 * A request that may safely be sent twice (a GET), sent once more on a new connection when the
 * kept-alive one it reused was reset. The other end may have closed that connection just as the
 * request was written: a process killed with -9 and started again on the same address, or a
 * server closing a connection idle for its keep-alive timeout (5 s) while this process's event
 * loop stalled (seen in full runs on a busy machine, where the test's process also runs nodes).
 * Browsers retry such a request by themselves; fetch does not.
 */
export async function fetchIdempotent(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    if ((e as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw e;
    return fetch(url, init);
  }
}
