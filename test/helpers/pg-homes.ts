import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig, type ConfigFile } from '../../src/config.js';
import { freePort } from '../../src/adapters/cli/commands/demo.js';
import { initHome } from '../../src/adapters/cli/commands/init.js';
import { withNode } from '../../src/adapters/cli/home.js';
import { startNode } from '../../src/main.js';
import { makeDescriptor } from '../../src/modules/federation/federation.peers.js';
import type { Dialect } from '../../src/shared/dialect.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeHome, peerAll, tempDir, type TestHome } from './nodes.js';
import { openTestStore, PG_ADMIN_URL } from './pg.js';

/**
 * A node home whose store is the PostgreSQL database at `database` (`hotline init --database URL`),
 * in `o.dir` (default a fresh temp directory); `o.url` is what peers deliver to (e.g. a load
 * balancer's or a proxy's). `start()` runs it in this process; several processes of it are
 * started with `hotline start --listen` (multiproc.ts). The database is the test's to drop.
 */
export async function makePgHome(party: string, database: string, o: { dir?: string; url?: string; extra?: Partial<ConfigFile> } = {}): Promise<TestHome> {
  const port = await freePort();
  const home = join(o.dir ?? tempDir(), party);
  const r = await initHome({
    home, party, name: `${party.toUpperCase()} test node`, listen: `127.0.0.1:${port}`, database, extra: o.extra ?? {},
    ...(o.url === undefined ? {} : { url: o.url }),
  });
  const descriptor = await withNode(home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
  return {
    party, home, url: r.url, port, token: r.token, fingerprint: r.fingerprint, descriptor, store: 'postgres',
    start: (opts = {}) => startNode(loadConfig(home), { log: silentLogger, ...opts }),
    cleanup: () => Promise.resolve(),
  };
}

/**
 * Config for a node home whose store is a fresh PostgreSQL schema of the test file's own database
 * (test/helpers/pg.ts), migrated: `makeHome(party, await pgStoreConfig())`.
 */
export async function pgStoreConfig(): Promise<Partial<ConfigFile>> {
  const db = await openTestStore('postgres');
  try {
    const r = await sql<{ schema: string; database: string }>`select current_schema() as schema, current_database() as database`.execute(db);
    const { schema, database } = r.rows[0]!;
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${database}`;
    return { store: { driver: 'postgres', url: u.toString(), schema, max_connections: 4 } };
  } finally {
    await db.destroy();
  }
}

/** Config for a home's store in `dialect`: none for SQLite (the file in the home), a fresh schema for PostgreSQL. */
export async function storeConfig(dialect: Dialect): Promise<Partial<ConfigFile>> {
  return dialect === 'postgres' ? pgStoreConfig() : {};
}

/** Two peered homes, `us` and `ru` (as makePair), each with its own store in `dialect`. */
export async function makeStorePairHomes(dialect: Dialect, extra: Partial<ConfigFile> = {}): Promise<[TestHome, TestHome]> {
  const dir = tempDir();
  const us = await makeHome('us', { ...extra, ...(await storeConfig(dialect)) }, dir);
  const ru = await makeHome('ru', { ...extra, ...(await storeConfig(dialect)) }, dir);
  await peerAll(us, ru);
  return [us, ru];
}
