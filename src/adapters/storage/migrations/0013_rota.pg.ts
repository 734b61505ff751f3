import type { Kysely, Migration } from 'kysely';

/**
 * 0013 on PostgreSQL: the same tables, with the times in milliseconds (`created_at`, `from_at`,
 * `until_at`) as bigint: 0013_rota.ts declared them `integer`, which SQLite stores in 64 bits and
 * PostgreSQL in 32 (an override until 2026 would not fit).
 *
 * The rota is people and time: a contact may be linked to a user of this node (`user_name`); a
 * rota has shifts (weekdays and hours in the node's time zone) and overrides (someone takes a
 * position until a given time); a peer's directory says which of its users may receive TLP:RED
 * on each channel (`red_recipients`, JSON).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('directory_contacts').addColumn('user_name', 'text').execute();
    await db.schema.alterTable('directory_parties').addColumn('red_recipients', 'text').execute();
    await db.schema.createTable('directory_shifts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('position', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('days', 'text', (c) => c.notNull())
      .addColumn('start_min', 'integer', (c) => c.notNull())
      .addColumn('end_min', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('directory_overrides')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('position', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('from_at', 'bigint', (c) => c.notNull())
      .addColumn('until_at', 'bigint', (c) => c.notNull())
      .addColumn('taken_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('directory_overrides_until').on('directory_overrides').columns(['channel', 'until_at']).execute();
  },
};
