import { createRequire } from 'node:module';
import type { Kysely, Migration } from 'kysely';

// Kysely's CommonJS build, as the store is opened with (sqlite.ts).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Issue 10: the inbox's full-text search (messaging.search.ts), an SQLite FTS5 table: one row per
 * stored message with a body worth searching, its free text and its fields rendered with their
 * labels in every template language. `id` is the message's, not indexed. SQLite only (FTS5); a
 * PostgreSQL store would need its own (tsvector) migration. Messages stored before this migration
 * are not indexed. `messages_in_reply_to` (partial: only answers) finds whether a message was
 * answered (`--state answered`).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('messages_in_reply_to').on('messages').columns(['in_reply_to']).where(sql.ref('in_reply_to'), 'is not', null).execute();
    // columnsize=0: results are never ranked, so the sizes ranking needs are not kept (less work per
    // message stored). Positions are: a typed word such as an address ("198.51.100.7") is a phrase.
    await sql`create virtual table message_search using fts5(id unindexed, content, tokenize = 'unicode61 remove_diacritics 2', columnsize = 0)`.execute(db);
  },
};
