import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { HotlineError } from '../../shared/errors.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

const { Migrator } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** Applies the store's pending migrations (both dialects; a migration that must differ asks `dialectOf`). */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialectOf(db)) });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new HotlineError('storage_error', `Could not apply the store's migrations: ${String(error)}`);
  }
}
