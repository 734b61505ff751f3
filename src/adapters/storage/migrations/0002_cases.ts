import type { Kysely, Migration } from 'kysely';

/** Cases and acknowledgements. Released in 8759030: never edit it (index.ts). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('cases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('peer', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('opened_by', 'text', (c) => c.notNull())
      .addColumn('opened_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('last_message_id', 'text', (c) => c.notNull())
      .addColumn('closed_by', 'text')
      .addColumn('closed_at', 'bigint')
      .execute();
    await db.schema.createIndex('cases_updated').on('cases').columns(['updated_at', 'id']).execute();
    await db.schema.createIndex('cases_state_updated').on('cases').columns(['state', 'updated_at']).execute();
    await db.schema
      .createTable('acks')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('officer', 'text', (c) => c.notNull())
      .addColumn('acked_at', 'bigint', (c) => c.notNull())
      .addColumn('ack_message_id', 'text', (c) => c.notNull())
      .execute();
  },
};
