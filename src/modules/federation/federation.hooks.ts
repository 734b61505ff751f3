import type { Transaction } from 'kysely';
import type { FederationTables } from './federation.tables.js';
import type { Envelope } from './federation.types.js';

/** A message as it is being stored, inbound (received from a peer) or outbound (queued by us). */
export interface StoredMessage {
  env: Envelope;
  direction: 'in' | 'out';
  hash: string;
  storedAt: number;
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
   * send fails). Runs after the envelope's own checks, before anything is written for it.
   */
  check?(trx: Transaction<FederationTables>, env: Envelope, direction: 'in' | 'out'): Promise<void>;
  /**
   * Applies a message that is being stored. The `messages` row may not be written yet (rows are
   * inserted in bulk at the end of the transaction): use `m.env`, not a query on `messages`.
   */
  apply?(trx: Transaction<FederationTables>, m: StoredMessage): Promise<void>;
}

/** Runs every hook's check, then (if all passed) is followed by {@link applyHooks}. */
export async function checkHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  for (const h of hooks ?? []) await h.check?.(trx, env, direction);
}

export async function applyHooks(hooks: readonly MessageHook[] | undefined, trx: Transaction<FederationTables>, m: StoredMessage): Promise<void> {
  for (const h of hooks ?? []) await h.apply?.(trx, m);
}
