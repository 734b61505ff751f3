import type { FederationTables } from '../../modules/federation/federation.tables.js';

/** The whole database, composed from each module's own tables. */
export type Database = FederationTables;
