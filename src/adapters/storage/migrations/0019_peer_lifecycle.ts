import type { Kysely, Migration } from 'kysely';

/**
 * Peers that change (issue 12, item 4): a pinned peer's lifecycle state (`active`, `suspended`,
 * `removed`) and when it last changed; and on each link where its current epoch begins
 * (`epoch_start_seq`: 1 for the first, docs/protocol.md section 4.1).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('peers').addColumn('state', 'text', (c) => c.notNull().defaultTo('active')).execute();
    await db.schema.alterTable('peers').addColumn('state_changed_at', 'bigint').execute();
    await db.schema.alterTable('links').addColumn('epoch_start_seq', 'bigint', (c) => c.notNull().defaultTo(1)).execute();
  },
};
