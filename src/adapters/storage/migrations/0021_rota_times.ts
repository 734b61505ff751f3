import type { Migration } from 'kysely';

/**
 * Nothing on SQLite (an INTEGER holds 64 bits there). PostgreSQL's version (0021_rota_times.pg.ts)
 * widens the rota's times, which 0013 made `integer` (32 bits on PostgreSQL), to bigint.
 */
export const migration: Migration = {
  async up(): Promise<void> {},
};
