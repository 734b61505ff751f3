import type { Kysely, Migration } from 'kysely';

/**
 * The rota's times (ms since the epoch) on PostgreSQL: 0013 made them `integer`, 32 bits there, so
 * deciding an escalation step (rotaFor reads overrides `until_at > now`) failed with "value out of
 * range for type integer" (found by the several-processes test, issue 13). Widened to bigint; a
 * no-op where they are bigint already.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('directory_shifts').alterColumn('created_at', (c) => c.setDataType('bigint')).execute();
    for (const column of ['from_at', 'until_at', 'created_at']) {
      await db.schema.alterTable('directory_overrides').alterColumn(column, (c) => c.setDataType('bigint')).execute();
    }
  },
};
