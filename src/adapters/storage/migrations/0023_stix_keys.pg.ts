import type { Kysely, Migration } from 'kysely';
import { up } from './0023_stix_keys.js';

/** 0023 on PostgreSQL: the same change; the 48 bits of an object id read by a cast of its last 12 hex digits. */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await up(db, `('x' || lower(right(s.object_id, 12)))::bit(48)::bigint`);
  },
};
