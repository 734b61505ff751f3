import { createRequire } from 'node:module';
import SqliteDatabase from 'better-sqlite3';
import type { Kysely, SqliteDatabase as KyselySqlite, SqliteStatement } from 'kysely';
import { HotlineError } from '../../shared/errors.js';
import { migrationProvider } from './migrations.js';
import type { Database, Store } from './schema.js';

// Kysely's CommonJS build: its ~260 files load about twice as fast through require as through
// the ES module loader, which is most of what a one-shot CLI verb spends starting (bench:cli).
// Only this file uses Kysely's values; everything else imports its types.
const { Kysely: KyselyDb, Migrator, SqliteDialect } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Opens (creating if needed) a SQLite store in WAL mode with full fsync on commit, and applies
 * pending migrations. `:memory:` works for unit tests.
 */
export async function openSqlite(path: string): Promise<Store> {
  const raw = new SqliteDatabase(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('busy_timeout = 10000');
  raw.pragma('foreign_keys = ON');
  // Checkpoint the WAL every ~40 MB instead of every 4 MB (SQLite's default), and keep 64 MB of
  // pages in memory: bulk writes (TAXII POSTs, feed runs) otherwise pay a checkpoint per commit
  // and re-read their indexes from disk (docs/benchmarks.md, TAXII). Both are upper bounds.
  raw.pragma('wal_autocheckpoint = 10000');
  raw.pragma('cache_size = -65536');
  const db = new KyselyDb<Database>({ dialect: new SqliteDialect({ database: cachingStatements(raw) }) });
  await migrate(db);
  // One handle, typed as the whole database and as each module's view of it (schema.ts).
  return db as Store;
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new HotlineError('storage_error', `Could not apply the store's migrations: ${String(error)}`);
  }
}

/** Most prepared statements kept; Kysely's queries have a small fixed set of SQL texts. */
const STATEMENT_CACHE_MAX = 256;

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and preparing one
 * costs more than running it. Keep them by SQL text (the connection is used by one query at a time).
 */
function cachingStatements(raw: SqliteDatabase.Database): KyselySqlite {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
        stmt = raw.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
