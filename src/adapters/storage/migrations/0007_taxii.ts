import type { Kysely, Migration } from 'kysely';

/**
 * TAXII collections, grants, the STIX object store, statuses; users.peer. Released in 645923c:
 * never edit it (index.ts). This is the text as released; it was once edited in place (three of
 * its indexes removed), which is undone here and done properly by 0009_taxii_indexes.
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('taxii_collections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('alias', 'text', (c) => c.notNull().unique())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('default_tlp', 'text', (c) => c.notNull())
      .addColumn('peer', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('taxii_grants')
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('can_read', 'integer', (c) => c.notNull())
      .addColumn('can_write', 'integer', (c) => c.notNull())
      .addColumn('granted_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('taxii_grants_pk', ['collection_id', 'subject'])
      .execute();
    await db.schema
      .createTable('stix_objects')
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('date_added', 'bigint', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
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
      .addPrimaryKeyConstraint('stix_objects_pk', ['collection_id', 'date_added'])
      .execute();
    // One index per way of walking a collection in date_added order (taxii.query.ts).
    await db.schema.createIndex('stix_objects_version').on('stix_objects').columns(['collection_id', 'object_id', 'version']).unique().execute();
    await db.schema.createIndex('stix_objects_last').on('stix_objects').columns(['collection_id', 'is_last', 'date_added']).execute();
    await db.schema.createIndex('stix_objects_first').on('stix_objects').columns(['collection_id', 'is_first', 'date_added']).execute();
    await db.schema.createIndex('stix_objects_type_last').on('stix_objects').columns(['collection_id', 'type', 'is_last', 'date_added']).execute();
    await db.schema.createIndex('stix_objects_type').on('stix_objects').columns(['collection_id', 'type', 'date_added']).execute();
    await db.schema.createIndex('stix_objects_at_version').on('stix_objects').columns(['collection_id', 'version', 'date_added']).execute();
    await db.schema
      .createTable('taxii_status')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('principal', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('request_timestamp', 'bigint', (c) => c.notNull())
      .addColumn('total_count', 'integer', (c) => c.notNull())
      .addColumn('success_count', 'integer', (c) => c.notNull())
      .addColumn('failure_count', 'integer', (c) => c.notNull())
      .addColumn('pending_count', 'integer', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .execute();
    await db.schema.createIndex('taxii_status_message').on('taxii_status').columns(['message_id']).execute();
    await db.schema
      .createTable('taxii_status_parts')
      .addColumn('status_id', 'text', (c) => c.notNull())
      .addColumn('part', 'integer', (c) => c.notNull())
      .addColumn('successes', 'text', (c) => c.notNull())
      .addColumn('failures', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('taxii_status_parts_pk', ['status_id', 'part'])
      .execute();
    await db.schema
      .createTable('taxii_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('users').addColumn('peer', 'text').execute();
  },
};
