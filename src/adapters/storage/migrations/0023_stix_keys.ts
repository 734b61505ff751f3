import { createRequire } from 'node:module';
import type { Kysely, Migration } from 'kysely';

const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/**
 * Smaller indexes for `stix_objects` (issues 9 and 13: TAXII POST was bound by them). Each of its
 * four indexes began with the collection's id, a 36-character text, and the lookup by object
 * (collection, object id, version) held each id's text: at 1,000,000 objects every new object
 * dirtied a random page of an index of ~100-byte entries. Now:
 *   - a collection has a small integer `key` (taxii_collections.key, numbered in creation order),
 *     and `stix_objects.collection_key` replaces `collection_id`;
 *   - `id_hash` is 48 bits of the object id (its last 12 hex digits: random in the UUIDs of STIX
 *     ids), and the lookup index is (collection_key, id_hash, version); a lookup also compares
 *     `object_id` on the row, so ids that share the bits are told apart (taxii.lookups.ts idHash).
 * The table is rebuilt (SQLite cannot change a primary key in place): rows are copied with their
 * `date_added`, so cursors and paging are unchanged. On a large store this migration takes a while
 * once (minutes at millions of objects). PostgreSQL's version, 0023_stix_keys.pg.ts, differs only
 * in how the 48 bits are read from the hex digits.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await up(db, sqliteIdHash('s.object_id'));
  },
};

/** The SQL of taxii.lookups.ts `idHash` on SQLite (no hex parsing there): the last 12 characters, each its hex digit's value, base 16. */
function sqliteIdHash(column: string): string {
  const digits = Array.from({ length: 12 }, (_, i) => `(instr('0123456789abcdef', lower(substr(${column}, -${12 - i}, 1))) - 1) * ${16 ** (11 - i)}`);
  return digits.join(' + ');
}

export async function up(db: Kysely<unknown>, idHash: string): Promise<void> {
  await db.schema.alterTable('taxii_collections').addColumn('key', 'integer').execute();
  await sql`update taxii_collections set "key" = (select count(*) from taxii_collections c where c.created_at < taxii_collections.created_at
    or (c.created_at = taxii_collections.created_at and c.id <= taxii_collections.id))`.execute(db);
  await db.schema.createIndex('taxii_collections_key').on('taxii_collections').column('key').unique().execute();
  await db.schema.alterTable('stix_objects').renameTo('stix_objects_0022').execute();
  await db.schema
    .createTable('stix_objects')
    .addColumn('collection_key', 'integer', (c) => c.notNull())
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('id_hash', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('has_version', 'integer', (c) => c.notNull())
    .addColumn('spec_version', 'text', (c) => c.notNull())
    .addColumn('is_first', 'integer', (c) => c.notNull())
    .addColumn('is_last', 'integer', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('added_by', 'text', (c) => c.notNull())
    .addColumn('recipients', 'text')
    .addColumn('message_id', 'text')
    .addColumn('object', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('stix_objects_key_pk', ['collection_key', 'date_added'])
    .execute();
  const kept = 'date_added, object_id, type, version, has_version, spec_version, is_first, is_last, tlp, source, added_by, recipients, message_id, object';
  await sql.raw(`insert into stix_objects (collection_key, id_hash, ${kept})
    select c."key", ${idHash}, ${kept.split(', ').map((k) => `s.${k}`).join(', ')}
    from stix_objects_0022 s join taxii_collections c on c.id = s.collection_id order by s.date_added`).execute(db);
  await db.schema.dropTable('stix_objects_0022').execute();
  // The walks of taxii.query.ts, as before, by the collection's key.
  await db.schema.createIndex('stix_objects_object').on('stix_objects').columns(['collection_key', 'id_hash', 'version']).execute();
  await db.schema.createIndex('stix_objects_last').on('stix_objects').columns(['collection_key', 'is_last', 'date_added']).execute();
  await db.schema.createIndex('stix_objects_type_last').on('stix_objects').columns(['collection_key', 'type', 'is_last', 'date_added']).execute();
}
