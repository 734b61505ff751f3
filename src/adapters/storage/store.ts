import type { GateTurn } from './gate.js';
import type { Store } from './schema.js';
import type { TransactionObserver } from './sqlite.js';

/** Where a PostgreSQL store is, from hotline.json (`store`, or `database_url`). */
export interface PostgresLocation {
  /** postgres://user@host:port/database (no password: it comes from `passwordFile` or PGPASSWORD). */
  readonly url: string;
  /** A file holding the password (its first line), e.g. a systemd credential or a mounted secret. */
  readonly passwordFile: string | null;
  /** Connections this process keeps open at most. */
  readonly maxConnections: number;
  /** The schema the store's tables are in (`store.schema`; default: the user's search_path, normally `public`). */
  readonly schema?: string;
  /**
   * How long the server lets one of this process's sessions sit idle, in a transaction or not,
   * before it ends it (default {@link PG_SESSION_TIMEOUT_MS}; tests shorten it): a hung process
   * never holds a transaction's locks, or a link's, for longer.
   */
  readonly sessionTimeoutMs?: number;
}

/** What `sessionTimeoutMs` is unless a caller says otherwise: a minute. */
export const PG_SESSION_TIMEOUT_MS = 60_000;

export const DEFAULT_PG_CONNECTIONS = 10;

/** Where a node's store is: an SQLite file (the default) or a PostgreSQL database. */
export type StoreLocation =
  | { readonly driver: 'sqlite'; readonly path: string }
  | ({ readonly driver: 'postgres' } & PostgresLocation);

/**
 * Opens the store a node's configuration names, applying pending migrations. Each driver is
 * loaded only when used: a node on SQLite never loads pg. `turn`: SQLite, a node's main thread or
 * its feed worker, which give way to each other at the write lock (gate.ts).
 */
export async function openStore(location: StoreLocation, tx: TransactionObserver = {}, turn?: GateTurn): Promise<Store> {
  if (location.driver === 'postgres') {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(location);
  }
  const { openSqlite } = await import('./sqlite.js');
  return openSqlite(location.path, tx, turn);
}

/** The store as a person reads it: the SQLite file, or the PostgreSQL URL (which never holds the password). */
export function storeName(location: StoreLocation): string {
  return location.driver === 'sqlite' ? location.path : location.url;
}
