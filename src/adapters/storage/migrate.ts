import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { HotlineError } from '../../shared/errors.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

const { Migrator, sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** Applies the store's pending migrations (both dialects; a migration that must differ asks `dialectOf`). */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const dialect = dialectOf(db);
  // PostgreSQL: Kysely's Migrator looks for its own tables in every schema of the database unless
  // told which, so a second store in another schema of the same database would think they exist
  // and fail ("kysely_migration_lock" does not exist). They are in the store's schema (search_path).
  const schema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new HotlineError('storage_error', `Could not apply the store's migrations: ${String(error)}`);
  }
}
