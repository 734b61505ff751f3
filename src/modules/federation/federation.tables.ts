/**
 * The tables this module owns, as Kysely sees them. Times are integer milliseconds since the
 * epoch; JSON columns are text. `adapters/storage` creates them (migrations) and composes the
 * whole database type from each module's tables.
 */
export interface PeersTable {
  party: string;
  name: string;
  url: string;
  /** JSON: PinnedKey[] */
  keys: string;
  /** JSON: Channel[] agreed with this peer */
  channels: string;
  /** JSON: Record<Priority, minutes> */
  deadlines: string;
  added_at: number;
  updated_at: number;
  /** Lifecycle (issue 12): 'active', 'suspended' (no delivery) or 'removed' (no traffic either way; kept as evidence). */
  state: string;
  /** When `state` last changed (ms), null if never. */
  state_changed_at: number | null;
}

/** One row per direction of a link (from → to): its hash chain head and, for ours, delivery state. */
export interface LinksTable {
  from_party: string;
  to_party: string;
  last_seq: number;
  head_hash: string;
  /** Outbound only: highest seq with a receipt (receipts arrive in order). */
  acked_seq: number;
  /** Outbound only: the next seq to transmit (reset backwards when the peer reports a gap). */
  send_from_seq: number;
  attempts: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_error: string | null;
  /**
   * Where the link's current epoch begins (docs/protocol.md section 4.1): 1 for the first; after a
   * peer is removed and added again, the seq of the new epoch's first envelope, whose `prev` is the
   * epoch's genesis hash instead of the previous envelope's hash.
   */
  epoch_start_seq: number;
}

export interface MessagesTable {
  id: string;
  direction: 'in' | 'out';
  from_party: string;
  to_party: string;
  seq: number;
  hash: string;
  kind: string;
  channel: string;
  case_id: string;
  in_reply_to: string | null;
  priority: string;
  tlp: string;
  sent_at: string;
  /** Canonical JSON of the whole signed envelope: the authoritative record. */
  envelope: string;
  stored_at: number;
  /** JSON of the receipt: the one we got (out) or the one we gave (in). */
  receipt: string | null;
  receipted_at: number | null;
}

/**
 * Every key a party (a peer or this node) ever had, with its validity (federation.keys.ts).
 * Times are ms since the epoch; null `valid_from` is "since before we knew it", null
 * `valid_until` "still valid", `revoked_since` the instant from which it is compromised.
 */
export interface KeyHistoryTable {
  party: string;
  public_key: string;
  fingerprint: string;
  valid_from: number | null;
  valid_until: number | null;
  revoked_since: number | null;
  added_at: number;
  /** How it came: pinned, repinned, key-change (a peer's rotation), init, rotate, revoke (ours). */
  origin: string;
  /** The key-change envelope that announced it, when one did. */
  statement_id: string | null;
}

export interface FederationTables {
  key_history: KeyHistoryTable;
  peers: PeersTable;
  links: LinksTable;
  messages: MessagesTable;
}
