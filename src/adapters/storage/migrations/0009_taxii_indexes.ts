import type { Kysely, Migration } from 'kysely';

/**
 * 0007 as first released made six indexes on stix_objects; a later commit edited 0007 in place to
 * make three, so stores made before and after that edit differ. This brings both to today's
 * schema: the three indexes the queries no longer use are dropped where they exist. It also
 * indexes TAXII statuses by request time, which retention prunes by (issue 9).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const name of ['stix_objects_first', 'stix_objects_type', 'stix_objects_at_version']) {
      await db.schema.dropIndex(name).ifExists().execute();
    }
    await db.schema.createIndex('taxii_status_requested').on('taxii_status').columns(['request_timestamp']).execute();
  },
};
