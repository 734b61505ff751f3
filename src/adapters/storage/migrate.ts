import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { HotlineError } from '../../shared/errors.js';
import type { Database } from './schema.js';

const { Migrator, sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Applies the store's pending migrations (both dialects; a migration that must differ asks
 * `dialectOf`). On PostgreSQL the migrator's own tables are named in the store's schema (the
 * first of its search_path): without it, Kysely takes a `kysely_migration_lock` in ANY schema of
 * the database for this one's and fails (two stores in one database, `store.schema`).
 */
export async function migrate(db: Kysely<Database>): Promise<void> {
  if (await upToDate(db)) return;
  // Loaded only when there may be something to apply: the migrations are ~20 modules a CLI verb's start would pay for.
  const { migrationProvider } = await import('./migrations/index.js');
  const dialect = dialectOf(db);
  const schema = dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new HotlineError('storage_error', `Could not apply the store's migrations: ${String(error)}`);
  }
}

/**
 * The migrations' names, from their files in migrations/ (`NNNN_what.js`, or `.ts` under the tests;
 * PostgreSQL's `NNNN_what.pg.*` share their name). migrations.test.ts checks that these are the
 * names migrations/index.ts lists.
 */
export function migrationNames(): string[] {
  const dir = fileURLToPath(new URL('./migrations/', import.meta.url));
  return readdirSync(dir).flatMap((f) => /^(\d{4}_[a-z0-9_]+)\.(js|ts)$/.exec(f)?.[1] ?? []).sort();
}

/**
 * True when the store has applied exactly the migrations this code has (one read of
 * `kysely_migration`, no lock): then there is nothing for the Migrator to do. Anything else (a new
 * store, a pending migration, a store a newer version migrated) goes through the Migrator, which
 * takes its lock, applies what is pending or refuses what it does not know. A name is recorded in
 * the transaction that applies its migration, so a recorded name is a committed migration.
 */
async function upToDate(db: Kysely<Database>): Promise<boolean> {
  let applied: string[];
  try {
    applied = (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((r) => r.name).sort();
  } catch {
    return false; // no kysely_migration yet: a new store
  }
  const names = migrationNames();
  return applied.length === names.length && applied.every((n, i) => n === names[i]);
}
