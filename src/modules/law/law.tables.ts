/**
 * The law-enforcement channel's table: expedited preservations (Budapest Convention Art. 29), as
 * Kysely sees it. Times are integer milliseconds since the epoch; created by the migration
 * `0006_law` in `adapters/storage/migrations/`.
 */

/** One preservation: the preservation-request that opened a case, and what became of it. */
export interface PreservationsTable {
  /** The case, and the id of the preservation-request that opened it. */
  case_id: string;
  request_id: string;
  /** Who asked (the party whose authority wants the data kept) and who keeps the data. */
  requesting_party: string;
  responding_party: string;
  /** `out`: this node asked; `in`: the peer asked this node. */
  direction: 'in' | 'out';
  /** requested | preserved | refused | expired | released */
  state: string;
  /** The responder's reference for the preservation (when preserved). */
  reference: string | null;
  /** The response's outcome code (preservation_outcome), once answered. */
  outcome: string | null;
  /** Art. 29(6): why it could not (all) be preserved. */
  reason: string | null;
  /** The preservation-response that answered the request. */
  response_id: string | null;
  /** When the data was preserved (the response's `fields.preserved_at`). */
  preserved_at: number | null;
  /** At least preserved_at + 60 days (Art. 29(7)); moved by answered extensions. */
  expires_at: number | null;
  /** JSON list of {@link ExtensionRecord}: each extension asked for and what became of it. */
  extensions: string;
  /** The follow-up mutual-assistance request, once recorded. */
  mla_reference: string | null;
  mla_sent_at: number | null;
  /** The `notification` that told the peer (or told this node) about it. */
  mla_message_id: string | null;
  /** When this node last reminded of the coming expiry, and for which expiry. */
  reminded_at: number | null;
  reminded_for: number | null;
  created_at: number;
  updated_at: number;
}

/** A type alias, not an interface, so that it fits Kysely's `withTables<T>()` constraint. */
export type LawTables = {
  preservations: PreservationsTable;
};
