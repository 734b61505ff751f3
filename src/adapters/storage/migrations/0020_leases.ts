import type { Kysely, Migration } from 'kysely';

/**
 * Several processes of one node on one PostgreSQL store (issue 13, item 3): who holds a piece of
 * background work now. A lease names the work (`link:<party>`, `sink:<sink> <target>`), the process
 * that holds it (`holder`: host, pid and a random part, new at every start) and when it lapses unless
 * renewed (`expires_at`, ms). A killed process's leases lapse and another process takes the work over.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
