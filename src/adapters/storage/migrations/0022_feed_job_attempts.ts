import type { Kysely, Migration } from 'kysely';

/**
 * How many times a feed job was taken over from a process that stopped while running it (killed,
 * out of memory, its worker ended unrecorded): feeds.jobs.ts `claimJob` stops resuming a job after
 * `MAX_TAKEOVERS` of them, so that a job that ends every process that runs it does not go
 * from process to process for ever.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('feed_runs').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
