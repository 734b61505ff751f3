import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../../../shared/dialect.js';
import { migration as m0001 } from './0001_federation.js';
import { migration as m0002 } from './0002_cases.js';
import { migration as m0003 } from './0003_users.js';
import { migration as m0004 } from './0004_directory.js';
import { migration as m0005 } from './0005_deadlines.js';
import { migration as m0006 } from './0006_law.js';
import { migration as m0007 } from './0007_taxii.js';
import { migration as m0008 } from './0008_feeds.js';
import { migration as m0009 } from './0009_taxii_indexes.js';
import { migration as m0010 } from './0010_users_display_name.js';
import { migration as m0011 } from './0011_ack_policy_queue.js';
import { migration as m0012 } from './0012_message_search.js';
import { migration as m0012pg } from './0012_message_search.pg.js';
import { migration as m0013 } from './0013_rota.js';
import { migration as m0013pg } from './0013_rota.pg.js';
import { migration as m0014 } from './0014_sinks.js';
import { migration as m0016 } from './0016_audit.js';
import { migration as m0017 } from './0017_console.js';
import { migration as m0018 } from './0018_key_history.js';
import { migration as m0019 } from './0019_peer_lifecycle.js';
import { migration as m0020 } from './0020_leases.js';
import { migration as m0021 } from './0021_feed_jobs.js';
import { migration as m0021pg } from './0021_feed_jobs.pg.js';
import { migration as m0022 } from './0022_feed_job_attempts.js';
import { migration as m0023 } from './0023_stix_keys.js';
import { migration as m0023pg } from './0023_stix_keys.pg.js';
import { migration as m0024 } from './0024_deadlines_due_order.js';

/**
 * The store's schema migrations, one file per change, portable across SQLite and PostgreSQL
 * (Kysely's schema builder) except where the two must differ: then PostgreSQL's version of that
 * change is its own file, `NNNN_what.pg.ts`, listed in `postgresMigrations` under the same name.
 * Kysely's Migrator applies them in name order, once each, and records their names in
 * `kysely_migration`.
 *
 * To change the schema, add a migration; never edit one that has been released (committed on
 * main): a store that ran it keeps what it made, and an edit makes stores made before and after
 * it differ (0007 was edited once; 0009 repairs that). To add one:
 *   1. Write `NNNN_what.ts` with the next number, exporting `migration: Migration` (copy 0009).
 *   2. Add it at the end of the list below.
 *   3. Run `npx vitest run src/adapters/storage/migrations.test.ts`: a store made by the released
 *      migrations (test/fixtures/store-released-*.sql), migrated to the latest, must have the same
 *      schema as a fresh store. After a release, add a dump of a store at that release there
 *      (`sqlite3 <store> .dump`).
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001_federation': m0001,
  '0002_cases': m0002,
  '0003_users': m0003,
  '0004_directory': m0004,
  '0005_deadlines': m0005,
  '0006_law': m0006,
  '0007_taxii': m0007,
  '0008_feeds': m0008,
  '0009_taxii_indexes': m0009,
  '0010_users_display_name': m0010,
  '0011_ack_policy_queue': m0011,
  '0012_message_search': m0012,
  '0013_rota': m0013,
  '0014_sinks': m0014,
  '0016_audit': m0016,
  '0017_console': m0017,
  '0018_key_history': m0018,
  '0019_peer_lifecycle': m0019,
  '0020_leases': m0020,
  '0021_feed_jobs': m0021,
  '0022_feed_job_attempts': m0022,
  '0023_stix_keys': m0023,
  '0024_deadlines_due_order': m0024,
};

/** PostgreSQL's own version of the changes that cannot be written once for both dialects. */
export const postgresMigrations: Readonly<Record<string, Migration>> = {
  '0012_message_search': m0012pg,
  '0013_rota': m0013pg,
  '0021_feed_jobs': m0021pg,
  '0023_stix_keys': m0023pg,
};

/** The migrations for Kysely's Migrator in a dialect (migrate.ts). */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const list = dialect === 'postgres' ? { ...migrations, ...postgresMigrations } : { ...migrations };
  return { getMigrations: () => Promise.resolve(list) };
}
