import type { Kysely, Migration } from 'kysely';

/**
 * The due deadlines in the order they are claimed (deadlines.round.ts: `next_at <= now ORDER BY
 * next_at, message_id LIMIT n`), straight from the index. On `next_at` alone, the rows sharing a
 * `next_at` (messages of one millisecond: a group commit, a peer's carriage file) came off it
 * unordered, and every round read and sorted all of them to return its first n: thousands due
 * together cost the square of their number (20,000 at one moment on PostgreSQL: 800 rounds of
 * 8.6 ms each in that one statement).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('deadlines_next_at').execute();
    await db.schema.createIndex('deadlines_next_at').on('deadlines').columns(['next_at', 'message_id']).execute();
  },
};
