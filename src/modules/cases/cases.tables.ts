/**
 * The tables of cases and human acknowledgements, as Kysely sees them. Times are integer
 * milliseconds since the epoch (this node's clock, except `acked_at`); created by the migration
 * `0002_cases` in `adapters/storage/migrations/`.
 */

/** One case (a thread of messages about one matter, with one peer on one channel) as this node holds it. */
export interface CasesTable {
  /** The id of the message that opened the case (the envelopes' `case`). */
  id: string;
  channel: string;
  /** The other party of the case. */
  peer: string;
  /** The kind of the opening message: it chooses the state machine (cases.machine.ts). */
  kind: string;
  /** The opening message's priority. */
  priority: string;
  /** open | acknowledged | answered | closed */
  state: string;
  /** Who opened it: `out` this node, `in` the peer. */
  opened_by: 'in' | 'out';
  opened_at: number;
  updated_at: number;
  /** The opening message's text, shortened; null when it has none or is TLP:RED. */
  subject: string | null;
  last_message_id: string;
  /** The `case-close` that closed it, and when this node stored it. */
  closed_by: string | null;
  closed_at: number | null;
}

/**
 * Human acknowledgements: a message's first `ack`. For a message this node sent, the peer's
 * officer acknowledged it; for one it received, this node's officer did.
 */
export interface AcksTable {
  /** The acknowledged message. */
  message_id: string;
  officer: string;
  /** The ack's `sent_at` (the acknowledging node's clock), in ms. */
  acked_at: number;
  /** The `ack` message. */
  ack_message_id: string;
}

/** A type alias, not an interface, so that it fits Kysely's `withTables<T>()` constraint. */
export type CasesTables = {
  cases: CasesTable;
  acks: AcksTable;
};
