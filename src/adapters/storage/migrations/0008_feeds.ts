import type { Kysely, Migration } from 'kysely';

/** Feed jurisdictions, deduplication keys, feed runs. Released in 8922327: never edit it (index.ts). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('feed_jurisdictions')
      .addColumn('party', 'text', (c) => c.primaryKey())
      .addColumn('countries', 'text', (c) => c.notNull())
      .addColumn('asns', 'text', (c) => c.notNull())
      .addColumn('prefixes', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('feed_seen')
      .addColumn('hi', 'integer', (c) => c.notNull())
      .addColumn('lo', 'integer', (c) => c.notNull())
      .addColumn('seen_min', 'integer', (c) => c.notNull())
      .addColumn('stored_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('feed_seen_pk', ['hi', 'lo'])
      .execute();
    await db.schema.createIndex('feed_seen_stored').on('feed_seen').columns(['stored_at']).execute();
    await db.schema
      .createTable('feed_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('report', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .execute();
    await db.schema.createIndex('feed_runs_started').on('feed_runs').columns(['started_at']).execute();
  },
};
