import type { Kysely, Transaction } from 'kysely';

/**
 * The method by which a store begins a transaction only once it holds named locks: the PostgreSQL
 * store has it (adapters/storage/postgres.ts); SQLite does not need it (one writer at a time).
 */
export const LOCKED_TRANSACTION = Symbol.for('hotline.lockedTransaction');


/**
 * Runs `f` in a transaction, as `db.transaction().execute(f)` does, that on PostgreSQL begins only
 * once the caller holds every lock named in `locks` (held across the node's processes, released
 * after the commit or rollback). For rows that every writer of a kind updates, such as a link's
 * chain head: under serializable isolation a transaction that waited for such a row inside the
 * transaction is refused (40001: its snapshot predates the other's commit) and runs again, over and
 * over when several processes write the same link; one that waited before it began is not.
 * Correctness never rests on these locks (serializable isolation keeps it); they only turn
 * conflicts into waits. Never call it inside a transaction of the same store: it needs a second
 * connection and may wait for the lock its own caller holds.
 */
export function lockedTransaction<DB, T>(db: Kysely<DB>, locks: readonly string[], f: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  const locker = (db as unknown as { [LOCKED_TRANSACTION]?: (locks: readonly string[], f: (trx: Transaction<DB>) => Promise<T>) => Promise<T> })[LOCKED_TRANSACTION];
  return locker === undefined ? db.transaction().execute(f) : locker.call(db, locks, f);
}

