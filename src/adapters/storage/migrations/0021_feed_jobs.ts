import type { Kysely, Migration } from 'kysely';

/**
 * Feed runs as jobs any process of the node can run (issue 13): an upload is spooled into the
 * store (`feed_inputs`, its bytes in chunks, in order of `seq`) instead of onto one machine's disk.
 * A run records the options it was started with (`options`, JSON; null for a run of the CLI, which
 * is not a job), the process holding it (`holder`, as leases.ts names processes) and how far its
 * committed work reached (`resume_line`: every record on a line before it is written), where
 * another process resumes it. PostgreSQL's version (bytea for the chunks) is 0021_feed_jobs.pg.ts.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await up(db, 'blob');
  },
};

export async function up(db: Kysely<unknown>, bytes: 'blob' | 'bytea'): Promise<void> {
  await db.schema.alterTable('feed_runs').addColumn('options', 'text').execute();
  await db.schema.alterTable('feed_runs').addColumn('holder', 'text').execute();
  await db.schema.alterTable('feed_runs').addColumn('resume_line', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createTable('feed_inputs')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('feed_inputs_pk', ['run_id', 'seq'])
    .execute();
}
