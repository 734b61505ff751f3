import { createRequire } from 'node:module';
import type { Transaction } from 'kysely';
import type { FederationTables } from './federation.tables.js';
import type { Envelope } from './federation.types.js';
import type { Actor } from '../audit/audit.types.js';
import { HotlineError } from '../../shared/errors.js';

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
  /**
   * Writes what `apply` kept back for this transaction to write in one statement (rows of many
   * messages in one multi-row INSERT: on PostgreSQL every statement is a round trip). Called once
   * the transaction has stored its last message, before its `messages` rows are inserted, and, in
   * `savepoint` scope, after each message inside its savepoint. A hook that keeps rows back must
   * read them where it would read its table within the same transaction.
   */
  flush?(trx: Transaction<FederationTables>): Promise<void>;
  /** Forgets what `apply` kept back for this transaction: the message was refused (savepoint scope). */
  discard?(trx: Transaction<FederationTables>): void;
}

/**
 * How a transaction that stores several messages isolates one message's hooks from the others':
 * - `savepoint`: each message's hooks run in a savepoint; a refusal rolls back only that message's
 *   writes and the transaction goes on with the next message;
 * - `batch`: no savepoints (two statements per message fewer: on PostgreSQL, two round trips); a
 *   refusal throws {@link HookRefusal}, which must end the whole transaction (rolled back), and
 *   the caller runs it again in `savepoint` scope ({@link hookScoped}). Honest traffic is almost
 *   never refused by a hook, so the batch scope is the one that commits.
 */
export type HookScope = 'savepoint' | 'batch';

/** A hook refused a message in `batch` scope: the transaction must roll back (not a HotlineError, so nothing catches it as a per-message refusal). */
export class HookRefusal extends Error {
  constructor(readonly refusal: Error) {
    super(`a message hook refused a message in a batch: ${refusal.message}`);
  }
}

/**
 * Runs `transaction` (which opens and commits a transaction storing messages) in `batch` scope,
 * and once more in `savepoint` scope when a hook refused a message: the result is the one the
 * savepoint scope gives, at the cost of one rolled-back attempt when a hook refuses.
 */
export async function hookScoped<T>(transaction: (scope: HookScope) => Promise<T>): Promise<T> {
  try {
    return await transaction('batch');
  } catch (e) {
    if (!(e instanceof HookRefusal)) throw e;
    return transaction('savepoint');
  }
}

/**
 * Runs one message's hooks, check then apply. In `savepoint` scope, inside a savepoint of the
 * storing transaction: when a hook refuses (throws), everything the hooks wrote for this message
 * is rolled back and the error rethrown, and the transaction goes on with the next message. In
 * `batch` scope a refusal throws {@link HookRefusal} instead (see {@link HookScope}). The caller
 * records the message (its row, its link's head) only after this resolves, so a refused message
 * leaves no row, no effect and no gap in the chain. Without hooks nothing is written here.
 */
export async function runHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, m: StoredMessage, scope: HookScope): Promise<void> {
  if (hooks === undefined || hooks.length === 0) return;
  if (scope === 'batch') {
    try {
      await checkHooks(hooks, trx, m.env, m.direction);
      await applyHooks(hooks, trx, m);
    } catch (e) {
      throw e instanceof HotlineError ? new HookRefusal(e) : e;
    }
    return;
  }
  try {
    await inSavepoint(trx, async () => {
      await checkHooks(hooks, trx, m.env, m.direction);
      await applyHooks(hooks, trx, m);
      await flushHooks(hooks, trx);
    });
  } catch (e) {
    for (const h of hooks) h.discard?.(trx);
    throw e;
  }
}

/** Has every hook write what it kept back in this transaction (see {@link MessageHook.flush}): the storing code calls it after its last message. */
export async function flushHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>): Promise<void> {
  for (const h of hooks ?? []) await h.flush?.(trx);
}

/**
 * Runs `f` inside a savepoint of `trx`: when it throws, what it wrote is rolled back and the error
 * rethrown; the transaction itself goes on. One name for every level: savepoints nest, and
 * ROLLBACK TO / RELEASE act on the innermost one of that name (SQLite and PostgreSQL).
 */
export async function inSavepoint<T>(trx: Transaction<FederationTables>, f: () => Promise<T>): Promise<T> {
  await sql`savepoint hotline_step`.execute(trx);
  let r: T;
  try {
    r = await f();
  } catch (e) {
    await sql`rollback to savepoint hotline_step`.execute(trx);
    await sql`release savepoint hotline_step`.execute(trx);
    throw e;
  }
  await sql`release savepoint hotline_step`.execute(trx);
  return r;
}

/** Every hook's check (only through {@link runHooks}: a savepoint around both). */
async function checkHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  for (const h of hooks ?? []) await h.check?.(trx, env, direction);
}

/** Every hook's apply, after every check passed (only through {@link runHooks}). */
async function applyHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, m: StoredMessage): Promise<void> {
  for (const h of hooks ?? []) await h.apply?.(trx, m);
}
