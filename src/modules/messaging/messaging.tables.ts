/**
 * The messaging module's own table, as Kysely sees it. Created by the migration
 * `0012_message_search` in `adapters/storage/migrations/`.
 */

/**
 * The inbox's full-text index (SQLite FTS5; PostgreSQL: a tsvector of `content`): one row per stored message (empty content when it has nothing to search)
 * (messaging.search.ts). `id` is the message's (not indexed); `content` its free text and its
 * fields rendered with their labels in every template language (PostgreSQL: cut into words, messaging.search.ts searchWords).
 */
export interface MessageSearchTable {
  /** The message's rowid in `messages`: the index is filled in that order. */
  rowid: number;
  id: string;
  content: string;
}

/** A type alias, not an interface, so that it fits Kysely's `withTables<T>()` constraint. */
export type MessagingTables = {
  message_search: MessageSearchTable;
};
