import type { Kysely, Migration } from 'kysely';

/** A user's display name ("Ivan Petrov"), which an acknowledgement carries; null: the user name. */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('users').addColumn('display_name', 'text').execute();
  },
};
