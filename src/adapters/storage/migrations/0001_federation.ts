import type { Kysely, Migration } from 'kysely';

/** Peers, links (hash chains) and messages. Released in 3e30c1f: never edit it (index.ts). */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('peers')
      .addColumn('party', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('keys', 'text', (c) => c.notNull())
      .addColumn('channels', 'text', (c) => c.notNull())
      .addColumn('deadlines', 'text', (c) => c.notNull())
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('links')
      .addColumn('from_party', 'text', (c) => c.notNull())
      .addColumn('to_party', 'text', (c) => c.notNull())
      .addColumn('last_seq', 'bigint', (c) => c.notNull())
      .addColumn('head_hash', 'text', (c) => c.notNull())
      .addColumn('acked_seq', 'bigint', (c) => c.notNull())
      .addColumn('send_from_seq', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('last_attempt_at', 'bigint')
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('links_pk', ['from_party', 'to_party'])
      .execute();
    await db.schema
      .createTable('messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('from_party', 'text', (c) => c.notNull())
      .addColumn('to_party', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('case_id', 'text', (c) => c.notNull())
      .addColumn('in_reply_to', 'text')
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('tlp', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'text', (c) => c.notNull())
      .addColumn('envelope', 'text', (c) => c.notNull())
      .addColumn('stored_at', 'bigint', (c) => c.notNull())
      .addColumn('receipt', 'text')
      .addColumn('receipted_at', 'bigint')
      .addUniqueConstraint('messages_link_seq', ['from_party', 'to_party', 'seq'])
      .execute();
    await db.schema.createIndex('messages_direction_stored').on('messages').columns(['direction', 'stored_at']).execute();
    await db.schema.createIndex('messages_case').on('messages').columns(['case_id', 'stored_at']).execute();
  },
};
