/**
 * Domain errors carry a stable `code` and a message a person can act on, never an HTTP status.
 * One table in `adapters/http/errors.ts` maps codes to statuses; the CLI maps them to exit codes.
 */
export const ERROR_CODES = [
  // input shape and transport
  'malformed_json',
  // text that is not Unicode: bytes that are not UTF-8, or a string with a lone surrogate
  'invalid_unicode',
  'unsupported_media_type',
  'invalid_envelope',
  'invalid_batch',
  'invalid_argument',
  'not_found',
  // a typed id prefix that matches several ids (a usage error: type more of it)
  'ambiguous_id',
  'unauthorized',
  'forbidden',
  'rate_limited',
  // federation
  'unknown_peer',
  'bad_signature',
  'wrong_recipient',
  'replay_mismatch',
  'seq_gap',
  'seq_rewind',
  'prev_mismatch',
  'clock_skew',
  'stale_envelope',
  'envelope_too_large',
  'batch_too_large',
  'body_too_large',
  'unknown_kind',
  'unknown_channel',
  'unknown_priority',
  'unknown_tlp',
  'channel_not_agreed',
  'bad_receipt',
  'link_diverged',
  // delivery to a peer or a notification sink (a link's or a notification's last error)
  'redirect_refused',
  'peer_unreachable',
  'peer_error',
  'sink_failed',
  // an alert sink's name is taken (hotline sink add)
  'sink_exists',
  // message templates
  'template_mismatch',
  'template_invalid',
  // directory and ping tests
  'directory_party_mismatch',
  'directory_invalid',
  'pong_without_ping',
  'ping_already_answered',
  'contact_in_rota',
  // users, tokens, TLP:RED
  'unknown_user',
  'user_exists',
  'tlp_red_needs_recipients',
  'unknown_recipient',
  // cases and human acknowledgement
  'channel_mismatch',
  'case_closed',
  'not_in_case',
  'invalid_transition',
  'ack_invalid',
  // law channel: expedited preservation (Budapest Convention Art. 29)
  'preservation_invalid',
  'preservation_state',
  // STIX 2.1 and TAXII 2.1
  'stix_invalid',
  'bundle_invalid',
  'filter_invalid',
  'cursor_invalid',
  'not_acceptable',
  'collection_exists',
  // feeds: parsing, presets, the IP database, runs
  'feed_format',
  'feed_mapping',
  'unknown_preset',
  'preset_invalid',
  'ipdb_invalid',
  // local state and configuration
  'peer_exists',
  'home_exists',
  'home_missing',
  'config_invalid',
  'carriage_invalid',
  // case transcripts: a file that is not UTF-8 JSON of a hotline-transcript (verify exits 1)
  'transcript_invalid',
  'storage_error',
  // the store is held by another process (the node, a CLI verb) beyond the busy timeout: retry
  'store_busy',
  // issue 13: the PostgreSQL store cannot be reached (server down, no such database, refused login)
  'store_unreachable',
  // issue 13: `hotline migrate --to` names a database that already holds rows (it copies into an empty one only)
  'store_not_empty',
  // feed runs: as many run as the node allows (`feeds.maxConcurrentRuns`): retry later
  'feeds_busy',
  // a feed job whose process stopped each time it was resumed (feeds.jobs.ts MAX_TAKEOVERS): not tried again
  'feed_abandoned',
  // a CLI verb stopped by Ctrl-C before it changed anything (exit status 130)
  'interrupted',
  'internal',
  // who may do what (issue 9): a kind only the node emits, sent through the generic send
  'reserved_kind',
  // issue 10: a peer's receipts no longer verify with its pinned key (a reinstalled node: a link's last error)
  'key_mismatch',
  // issue 10: a node already runs on this home or address (pid and address in the message)
  'already_running',
  // issue 10: `peer add` without --fingerprint, where nobody can confirm it (no terminal)
  'fingerprint_required',
  // issue 11: the console's sign-in and sessions (modules/users: passwords, sessions, TOTP)
  'bad_credentials',
  'totp_required',
  'totp_invalid',
  'totp_enrolment_required',
  'signin_locked',
  'csrf_failed',
  'password_too_short',
  // issue 12: an envelope signed by a peer's key after its rotation overlap ended
  'key_expired',
  // issue 12: an envelope signed by a peer's key at or after the time it was declared compromised
  'key_revoked',
  // issue 12: the node key is encrypted and no (or a wrong) passphrase was given
  'key_locked',
  // issue 12: a key-change body that is malformed or whose new-key signature does not verify
  'key_change_invalid',
  // issue 12: a removed peer's traffic (either way), or a command on a peer that was removed
  'peer_removed',
  // issue 12: `peer update` with a descriptor not signed by the peer's pinned key, or for another party
  'descriptor_not_pinned',
  // issue 12: a key-proof challenge (docs/protocol.md section 9.4) that is not well formed or not addressed to this node
  'invalid_challenge',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error with a stable machine code, a human message, and optional structured details. */
export class HotlineError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'HotlineError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Shorthand factory: `fail('unknown_peer', 'No peer "xx" is pinned')`. */
export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new HotlineError(code, message, details);
}

export function isHotlineError(e: unknown): e is HotlineError {
  return e instanceof HotlineError;
}

/**
 * Whether `e` says the store could not be used for now, not that the work was wrong: the server
 * unreachable or restarting, the connection lost, out of connections or memory, busy past the
 * retries (PostgreSQL classes 08 and 53, 57P01-57P03; the node's `store_unreachable` and
 * `store_busy`, SQLite's busy included; a refused or reset connection; pg's messages for a
 * connection it lost or closed). Work that stopped on it is worth doing again later.
 */
export function isStoreUnavailable(e: unknown): boolean {
  if (isHotlineError(e)) return e.code === 'store_unreachable' || e.code === 'store_busy';
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^(08|53)/.test(code) || /^57P0[123]$/.test(code) || /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)$/.test(code))) return true;
  // pg's own messages for a lost connection (they carry no code).
  return e instanceof Error && /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable)/.test(e.message);
}
