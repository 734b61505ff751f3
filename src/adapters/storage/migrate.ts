import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { HotlineError } from '../../shared/errors.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

const { Migrator, sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Applies the store's pending migrations (both dialects; a migration that must differ asks
 * `dialectOf`). On PostgreSQL the migrator's own tables are named in the store's schema (the
 * first of its search_path): without it, Kysely takes a `kysely_migration_lock` in ANY schema of
 * the database for this one's and fails (two stores in one database, `store.schema`).
 */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const dialect = dialectOf(db);
  const schema = dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new HotlineError('storage_error', `Could not apply the store's migrations: ${String(error)}`);
  }
}
