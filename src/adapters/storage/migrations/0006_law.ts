import type { Kysely, Migration } from 'kysely';

/** Expedited preservations. Released in 8759030: never edit it (index.ts). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('preservations')
      .addColumn('case_id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('requesting_party', 'text', (c) => c.notNull())
      .addColumn('responding_party', 'text', (c) => c.notNull())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reference', 'text')
      .addColumn('outcome', 'text')
      .addColumn('reason', 'text')
      .addColumn('response_id', 'text')
      .addColumn('preserved_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addColumn('extensions', 'text', (c) => c.notNull())
      .addColumn('mla_reference', 'text')
      .addColumn('mla_sent_at', 'bigint')
      .addColumn('mla_message_id', 'text')
      .addColumn('reminded_at', 'bigint')
      .addColumn('reminded_for', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('preservations_state_expires').on('preservations').columns(['state', 'expires_at']).execute();
  },
};
