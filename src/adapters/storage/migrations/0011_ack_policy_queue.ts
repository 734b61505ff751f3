import type { Kysely, Migration } from 'kysely';

/**
 * Issue 10. `ack_policy_overrides`: what a pair of peers agreed otherwise than templates/ack-policy.json
 * (per peer and kind: `person` or `none`); the deadlines module's. `deadlines_queue`: the duty
 * officer's queue reads open received deadlines priority by priority, earliest due first.
 * Before the policy, pings and indicators got deadlines too: their open ones (no peer could have
 * agreed otherwise yet) are dropped, so that they stop escalating and leave `overdue`.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('ack_policy_overrides')
      .addColumn('peer', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('ack_policy_overrides_pk', ['peer', 'kind'])
      .execute();
    await (db as Kysely<{ deadlines: { kind: string; acked_at: number | null } }>).deleteFrom('deadlines')
      .where('kind', 'in', ['ping', 'indicators']).where('acked_at', 'is', null).execute();
    await db.schema.createIndex('deadlines_queue').on('deadlines').columns(['direction', 'acked_at', 'priority', 'due_at']).execute();
  },
};
