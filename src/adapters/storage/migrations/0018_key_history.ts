import { createRequire } from 'node:module';
import type { Kysely, Migration } from 'kysely';

const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Every key a party (a peer, and this node itself) ever had, with its validity interval
 * (modules/federation/federation.keys.ts): the evidence `hotline verify` and transcripts check
 * each signature against. Filled from the peers' pinned key lists (peers.keys), which it replaces
 * as the record of a peer's keys; this node's own key is added when the node is next opened.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('key_history')
      .addColumn('party', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('valid_from', 'bigint')
      .addColumn('valid_until', 'bigint')
      .addColumn('revoked_since', 'bigint')
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('statement_id', 'text')
      .addPrimaryKeyConstraint('key_history_pk', ['party', 'public_key'])
      .execute();
    const rows = await sql<{ party: string; keys: string }>`select party, keys from peers`.execute(db);
    for (const r of rows.rows) {
      for (const k of JSON.parse(r.keys) as { key: string; fingerprint: string; added_at: number; valid_until: number | null }[]) {
        await sql`insert into key_history (party, public_key, fingerprint, valid_from, valid_until, revoked_since, added_at, origin, statement_id)
          values (${r.party}, ${k.key}, ${k.fingerprint}, ${null}, ${k.valid_until}, ${null}, ${k.added_at}, ${'pinned'}, ${null})`.execute(db);
      }
    }
  },
};
