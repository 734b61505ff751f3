import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Schema migrations, portable across SQLite and PostgreSQL (Kysely's schema builder only).
 * Append new migrations; never edit one that has shipped.
 */
const migrations: Record<string, Migration> = {
  '0001_federation': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('peers')
        .addColumn('party', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('keys', 'text', (c) => c.notNull())
        .addColumn('channels', 'text', (c) => c.notNull())
        .addColumn('deadlines', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('links')
        .addColumn('from_party', 'text', (c) => c.notNull())
        .addColumn('to_party', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('head_hash', 'text', (c) => c.notNull())
        .addColumn('acked_seq', 'bigint', (c) => c.notNull())
        .addColumn('send_from_seq', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        .addPrimaryKeyConstraint('links_pk', ['from_party', 'to_party'])
        .execute();
      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('from_party', 'text', (c) => c.notNull())
        .addColumn('to_party', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('in_reply_to', 'text')
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('tlp', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text', (c) => c.notNull())
        .addColumn('envelope', 'text', (c) => c.notNull())
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .addColumn('receipt', 'text')
        .addColumn('receipted_at', 'bigint')
        .addUniqueConstraint('messages_link_seq', ['from_party', 'to_party', 'seq'])
        .execute();
      await db.schema.createIndex('messages_direction_stored').on('messages').columns(['direction', 'stored_at']).execute();
      await db.schema.createIndex('messages_case').on('messages').columns(['case_id', 'stored_at']).execute();
    },
  },
  '0003_users': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('channels', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_name', 'text', (c) => c.notNull().references('users.name'))
        .addColumn('secret_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('tokens_user').on('tokens').columns(['user_name', 'created_at']).execute();
    },
  },
  '0004_directory': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('directory_contacts')
        .addColumn('party', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('function', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('languages', 'text', (c) => c.notNull())
        .addColumn('hours', 'text')
        .addColumn('phone', 'text')
        .addColumn('email', 'text')
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('directory_contacts_pk', ['party', 'id'])
        .execute();
      await db.schema
        .createTable('directory_rota')
        .addColumn('party', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('position', 'text', (c) => c.notNull())
        .addColumn('contact_id', 'text', (c) => c.notNull())
        .addColumn('notify_webhook', 'text')
        .addColumn('notify_email', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('directory_rota_pk', ['party', 'channel', 'position'])
        .execute();
      await db.schema
        .createTable('directory_parties')
        .addColumn('party', 'text', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('message_id', 'text')
        .execute();
      await db.schema
        .createTable('directory_pings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('peer', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('answered_at', 'bigint')
        .addColumn('pong_id', 'text')
        .addColumn('officer', 'text')
        .execute();
      await db.schema.createIndex('directory_pings_peer').on('directory_pings').columns(['direction', 'peer', 'channel', 'sent_at']).execute();
    },
  },
  '0002_cases': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('peer', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('last_message_id', 'text', (c) => c.notNull())
        .addColumn('closed_by', 'text')
        .addColumn('closed_at', 'bigint')
        .execute();
      await db.schema.createIndex('cases_updated').on('cases').columns(['updated_at', 'id']).execute();
      await db.schema.createIndex('cases_state_updated').on('cases').columns(['state', 'updated_at']).execute();
      await db.schema
        .createTable('acks')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('officer', 'text', (c) => c.notNull())
        .addColumn('acked_at', 'bigint', (c) => c.notNull())
        .addColumn('ack_message_id', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006_law': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('preservations')
        .addColumn('case_id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('requesting_party', 'text', (c) => c.notNull())
        .addColumn('responding_party', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reference', 'text')
        .addColumn('outcome', 'text')
        .addColumn('reason', 'text')
        .addColumn('response_id', 'text')
        .addColumn('preserved_at', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('extensions', 'text', (c) => c.notNull())
        .addColumn('mla_reference', 'text')
        .addColumn('mla_sent_at', 'bigint')
        .addColumn('mla_message_id', 'text')
        .addColumn('reminded_at', 'bigint')
        .addColumn('reminded_for', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('preservations_state_expires').on('preservations').columns(['state', 'expires_at']).execute();
    },
  },
  '0005_deadlines': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('deadlines')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('peer', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('next_step', 'text')
        .addColumn('next_at', 'bigint')
        .addColumn('acked_at', 'bigint')
        .addColumn('ack_message_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deadlines_next_at').on('deadlines').columns(['next_at']).execute();
      await db.schema.createIndex('deadlines_open_due').on('deadlines').columns(['direction', 'acked_at', 'due_at']).execute();
      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('notifications_message_step', ['message_id', 'step'])
        .execute();
      await db.schema
        .createTable('notification_deliveries')
        .addColumn('notification_id', 'text', (c) => c.notNull())
        .addColumn('sink', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('sent_at', 'bigint')
        .addPrimaryKeyConstraint('notification_deliveries_pk', ['notification_id', 'sink', 'target'])
        .execute();
      await db.schema.createIndex('notification_deliveries_due').on('notification_deliveries').columns(['state', 'next_attempt_at']).execute();
    },
  },
  '0007_taxii': {
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
      // The walks of taxii.query.ts: every version by the primary key, the latest ones (of a type) by these.
      await db.schema.createIndex('stix_objects_version').on('stix_objects').columns(['collection_id', 'object_id', 'version']).unique().execute();
      await db.schema.createIndex('stix_objects_last').on('stix_objects').columns(['collection_id', 'is_last', 'date_added']).execute();
      await db.schema.createIndex('stix_objects_type_last').on('stix_objects').columns(['collection_id', 'type', 'is_last', 'date_added']).execute();
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
  },
  '0008_feeds': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('feed_jurisdictions')
        .addColumn('party', 'text', (c) => c.primaryKey())
        .addColumn('countries', 'text', (c) => c.notNull())
        .addColumn('asns', 'text', (c) => c.notNull())
        .addColumn('prefixes', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('feed_seen')
        .addColumn('hi', 'integer', (c) => c.notNull())
        .addColumn('lo', 'integer', (c) => c.notNull())
        .addColumn('seen_min', 'integer', (c) => c.notNull())
        .addColumn('stored_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('feed_seen_pk', ['hi', 'lo'])
        .execute();
      await db.schema.createIndex('feed_seen_stored').on('feed_seen').columns(['stored_at']).execute();
      await db.schema
        .createTable('feed_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('input', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('feed_runs_started').on('feed_runs').columns(['started_at']).execute();
    },
  },
  // A user's display name ("Ivan Petrov"), which an acknowledgement carries; null: the user name.
  '0010_users_display_name': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('users').addColumn('display_name', 'text').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
