import type { Kysely, Migration } from 'kysely';

/**
 * The due deadlines in the order they are claimed (deadlines.round.ts: `next_at <= now ORDER BY
 * next_at, message_id LIMIT n`), straight from the index: on `next_at` alone, every round read and
 * sorted every due row to return its first n, so deciding a backlog cost the square of its size
 * (20,000 steps due at once on PostgreSQL: 800 rounds of 8.6 ms each in that one statement).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('deadlines_next_at').execute();
    await db.schema.createIndex('deadlines_next_at').on('deadlines').columns(['next_at', 'message_id']).execute();
  },
};
