import type { Kysely } from 'kysely';
import type { CasesTables } from '../../modules/cases/cases.tables.js';
import type { DeadlinesTables } from '../../modules/deadlines/deadlines.tables.js';
import type { DirectoryTables } from '../../modules/directory/directory.tables.js';
import type { FederationTables } from '../../modules/federation/federation.tables.js';
import type { LawTables } from '../../modules/law/law.tables.js';
import type { TaxiiTables } from '../../modules/taxii/taxii.tables.js';
import type { FeedsTables } from '../../modules/feeds/feeds.tables.js';
import type { UsersTables } from '../../modules/users/users.tables.js';
import type { AlertsTables } from '../../modules/alerts/alerts.tables.js';
import type { AuditTables } from '../../modules/audit/audit.tables.js';
import type { MessagingTables } from '../../modules/messaging/messaging.tables.js';
import type { LeasesTables } from '../../shared/leases.js';

/** The whole database, composed from each module's own tables. */
export type Database = FederationTables & UsersTables & DirectoryTables & CasesTables & LawTables & DeadlinesTables & TaxiiTables & FeedsTables & AlertsTables & AuditTables & MessagingTables & LeasesTables;

/**
 * The store handle adapters hold (NodeContext.db, openSqlite). Kysely is invariant in its tables
 * type, so a `Kysely<Database>` cannot be passed where a module asks for `Kysely<ItsTables>`; this
 * type is the whole database and also each module's view of it. When you add `& YourTables` to
 * Database, add `& Kysely<YourTables>` here.
 */
export type Store = Kysely<Database> & Kysely<FederationTables> & Kysely<UsersTables> & Kysely<DirectoryTables> & Kysely<CasesTables> & Kysely<LawTables> & Kysely<DeadlinesTables> & Kysely<TaxiiTables> & Kysely<FeedsTables> & Kysely<AlertsTables> & Kysely<AuditTables> & Kysely<MessagingTables> & Kysely<LeasesTables>;
