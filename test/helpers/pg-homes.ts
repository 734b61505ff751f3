import { sql } from 'kysely';
import type { ConfigFile } from '../../src/config.js';
import type { Dialect } from '../../src/shared/dialect.js';
import { makeHome, peerAll, tempDir, type TestHome } from './nodes.js';
import { openTestStore, PG_ADMIN_URL } from './pg.js';

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
