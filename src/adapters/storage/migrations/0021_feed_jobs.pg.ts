import type { Kysely, Migration } from 'kysely';
import { up } from './0021_feed_jobs.js';

/** 0021 on PostgreSQL: the same change, the chunks' bytes as bytea (SQLite: blob). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await up(db, 'bytea');
  },
};
