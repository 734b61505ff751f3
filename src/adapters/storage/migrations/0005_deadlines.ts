import type { Kysely, Migration } from 'kysely';

/** Acknowledgement deadlines and the notifications outbox. Released in 8759030: never edit it (index.ts). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('deadlines')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('peer', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('case_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addColumn('next_step', 'text')
      .addColumn('next_at', 'bigint')
      .addColumn('acked_at', 'bigint')
      .addColumn('ack_message_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('deadlines_next_at').on('deadlines').columns(['next_at']).execute();
    await db.schema.createIndex('deadlines_open_due').on('deadlines').columns(['direction', 'acked_at', 'due_at']).execute();
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('notifications_message_step', ['message_id', 'step'])
      .execute();
    await db.schema
      .createTable('notification_deliveries')
      .addColumn('notification_id', 'text', (c) => c.notNull())
      .addColumn('sink', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('sent_at', 'bigint')
      .addPrimaryKeyConstraint('notification_deliveries_pk', ['notification_id', 'sink', 'target'])
      .execute();
    await db.schema.createIndex('notification_deliveries_due').on('notification_deliveries').columns(['state', 'next_attempt_at']).execute();
  },
};
