import { createRequire } from 'node:module';
import type { Transaction } from 'kysely';
import type { FederationTables } from './federation.tables.js';
import type { Envelope } from './federation.types.js';
import type { Actor } from '../audit/audit.types.js';

// Kysely's CommonJS build, the one the store is opened with (adapters/storage/sqlite.ts): importing
// its ES build here would load Kysely's ~260 files a second time in every CLI verb (bench:cli).
const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');

/** A message as it is being stored, inbound (received from a peer) or outbound (queued by us). */
export interface StoredMessage {
  env: Envelope;
  direction: 'in' | 'out';
  hash: string;
  storedAt: number;
  /** Outbound, queued by a person: who and from where (the audit hook records it). Never set inbound. */
  actor?: Actor;
}

/**
 * How other modules (cases, acknowledgements, directory, ...) take part in storing a message,
 * inside the same transaction, so that a message and everything it causes are applied exactly
 * once or not at all. The transaction is typed with the federation's tables; a module reaches
 * its own with `trx.withTables<ItsTables>()`.
 */
export interface MessageHook {
  readonly name: string;
  /**
   * Refuses a message by throwing a HotlineError (inbound: a per-envelope refusal; outbound: the
   * send fails). Runs after the envelope's own checks, inside the message's savepoint: whatever
   * any hook wrote for this message is rolled back with the refusal.
   */
  check?(trx: Transaction<FederationTables>, env: Envelope, direction: 'in' | 'out'): Promise<void>;
  /**
   * Applies a message that is being stored. The `messages` row may not be written yet (rows are
   * inserted in bulk at the end of the transaction): use `m.env`, not a query on `messages`.
   * Throwing a HotlineError refuses the message like `check` does, and rolls back every hook's
   * writes for it (the savepoint of {@link runHooks}).
   */
  apply?(trx: Transaction<FederationTables>, m: StoredMessage): Promise<void>;
}

/**
 * Runs one message's hooks, check then apply, inside a savepoint of the storing transaction: when
 * a hook refuses (throws), everything the hooks wrote for this message is rolled back and the
 * error rethrown, and the transaction goes on with the next message. The caller records the
 * message (its row, its link's head) only after this resolves, so a refused message leaves no
 * row, no effect and no gap in the chain. Without hooks nothing is written here: no savepoint.
 */
export async function runHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, m: StoredMessage): Promise<void> {
  if (hooks === undefined || hooks.length === 0) return;
  // One name for every level: savepoints nest (an outbox append inside a hook takes its own),
  // and ROLLBACK TO / RELEASE act on the innermost one of that name (SQLite and PostgreSQL).
  await sql`savepoint hotline_message`.execute(trx);
  try {
    await checkHooks(hooks, trx, m.env, m.direction);
    await applyHooks(hooks, trx, m);
  } catch (e) {
    await sql`rollback to savepoint hotline_message`.execute(trx);
    await sql`release savepoint hotline_message`.execute(trx);
    throw e;
  }
  await sql`release savepoint hotline_message`.execute(trx);
}

/** Every hook's check (only through {@link runHooks}: a savepoint around both). */
async function checkHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  for (const h of hooks ?? []) await h.check?.(trx, env, direction);
}

/** Every hook's apply, after every check passed (only through {@link runHooks}). */
async function applyHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, m: StoredMessage): Promise<void> {
  for (const h of hooks ?? []) await h.apply?.(trx, m);
}
