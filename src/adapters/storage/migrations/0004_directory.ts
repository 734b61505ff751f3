import type { Kysely, Migration } from 'kysely';

/** Points of contact, rota, directory versions, ping tests. Released in 8759030: never edit it (index.ts). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('directory_contacts')
      .addColumn('party', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('function', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('languages', 'text', (c) => c.notNull())
      .addColumn('hours', 'text')
      .addColumn('phone', 'text')
      .addColumn('email', 'text')
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('directory_contacts_pk', ['party', 'id'])
      .execute();
    await db.schema
      .createTable('directory_rota')
      .addColumn('party', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('position', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('notify_webhook', 'text')
      .addColumn('notify_email', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('directory_rota_pk', ['party', 'channel', 'position'])
      .execute();
    await db.schema
      .createTable('directory_parties')
      .addColumn('party', 'text', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .execute();
    await db.schema
      .createTable('directory_pings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('peer', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('case_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .addColumn('answered_at', 'bigint')
      .addColumn('pong_id', 'text')
      .addColumn('officer', 'text')
      .execute();
    await db.schema.createIndex('directory_pings_peer').on('directory_pings').columns(['direction', 'peer', 'channel', 'sent_at']).execute();
  },
};
