import type { Kysely, Migration } from 'kysely';
import { migration as sqlite } from './0013_rota.js';

/**
 * 0013 on PostgreSQL (0013_rota.ts is SQLite's): the same tables, with the times (milliseconds
 * since the epoch: `created_at`, `from_at`, `until_at`) as `bigint`. 0013_rota.ts declares them
 * `integer`, which SQLite stores in 64 bits but PostgreSQL in 32 (too small for a time in ms); the
 * SQLite file stays as released (migrations.test.ts compares a released store's schema).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sqlite.up(db);
    for (const [table, columns] of [['directory_shifts', ['created_at']], ['directory_overrides', ['from_at', 'until_at', 'created_at']]] as const) {
      for (const column of columns) await db.schema.alterTable(table).alterColumn(column, (c) => c.setDataType('bigint')).execute();
    }
  },
};
