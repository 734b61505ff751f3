/**
 * A case transcript: everything one node holds about one case, signed by that node, in a file a
 * third party can check without either node (docs/protocol.md section 13.1).
 */
import type { Envelope, Receipt } from '../federation/federation.types.js';

/** The transcript file's format tag and version. */
export const TRANSCRIPT_FORMAT = 'hotline-transcript' as const;
/** Version 2 (issue 12) adds each key's validity (`valid_from`, `revoked_since`) and `key_changes`; version 1 files still verify. */
export const TRANSCRIPT_VERSION = 2 as const;

/** A public key that signed something in the transcript, as the exporting node holds it. */
export interface TranscriptKey {
  party: string;
  /** Raw Ed25519 public key, base64url without padding (43 characters). */
  public_key: string;
  /** `fingerprint(public_key)`: what a person compares out of band. */
  fingerprint: string;
  /** RFC 3339 UTC start of the key's validity, or null: since before the exporter knew it. */
  valid_from: string | null;
  /** RFC 3339 UTC end of the key's rotation overlap (or its re-pin), or null while it is current. */
  valid_until: string | null;
  /** RFC 3339 UTC instant from which the key is compromised, or null: what it signed from then on does not verify. */
  revoked_since: string | null;
}

/** One envelope of the case with its receipt: the one the exporter gave (inbound) or got (outbound). */
export interface TranscriptMessage {
  /** The envelope exactly as signed (its stored canonical text, parsed). */
  envelope: Envelope;
  /** Null only for an outbound envelope the peer has not receipted yet. */
  receipt: Receipt | null;
}

/** Why an envelope of the case is not in the file. */
export type WithheldReason = 'tlp-red';

/** An envelope of the case left out of the file, listed so that the gap is visible. */
export interface Withheld {
  id: string;
  from: string;
  to: string;
  seq: number;
  sent_at: string;
  kind: string;
  channel: string;
  priority: string;
  tlp: string;
  /** The envelope hash (section 8): lets a reader check the link chain around the gap. */
  hash: string;
  reason: WithheldReason;
}

/** The transcript file. Members are written in this order; `sig` covers the JCS of all the others. */
export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  v: typeof TRANSCRIPT_VERSION;
  case: string;
  /** The exporting node's party, which signs the transcript. */
  exported_by: string;
  /** The user the transcript was made for (TLP:RED is decided for this user). */
  exported_for: string;
  exported_at: string;
  /** The exporter's key that made `sig`; it is also listed in `keys`. */
  exporter_key: string;
  keys: TranscriptKey[];
  /** The key-change envelopes (docs/protocol.md section 18) that link each party's keys, as signed: the evidence for `keys`. */
  key_changes: Envelope[];
  /** In order of `sent_at`, then sender and `seq`. */
  messages: TranscriptMessage[];
  withheld: Withheld[];
  sig: string;
}

/** Stable codes of what a transcript verification can find wrong. */
export type TranscriptProblemCode =
  | 'invalid_transcript' | 'layout_changed' | 'bad_signature' | 'unknown_key' | 'fingerprint_mismatch'
  | 'invalid_envelope' | 'wrong_case' | 'not_exporters_link' | 'duplicate' | 'prev_mismatch'
  | 'bad_receipt' | 'missing_receipt'
  | 'key_expired' | 'key_revoked' | 'key_not_yet_valid' | 'key_change_invalid';

/** One thing wrong, and where in the file: e.g. `messages[3] (ru→us seq 2, id 0190…)`. */
export interface TranscriptProblem {
  where: string;
  code: TranscriptProblemCode;
  message: string;
}

/** One line of the human timeline: who said what, and when. */
export interface TimelineEntry {
  id: string;
  sent_at: string;
  from: string;
  to: string;
  seq: number;
  kind: string;
  channel: string;
  priority: string;
  tlp: string;
  in_reply_to: string | null;
  /** When the receiver stored it, by the receiver's signed receipt; null if not receipted. */
  received_at: string | null;
  /** Text snippet of the body. */
  text: string;
  /** The envelope's signature, and its receipt if any, verified. */
  verified: boolean;
  /** Verified, but signed by a key that was declared compromised after it signed this. */
  later_revoked: boolean;
}

/** A key listed in the file, with the outcome of `--expect-fingerprint` for its party. */
export interface CheckedKey extends TranscriptKey {
  /** `matches` or `differs` when a fingerprint was expected for the party; `unchecked` otherwise. */
  expected: 'matches' | 'differs' | 'unchecked';
}

/** The outcome of verifying a transcript: `ok` when no problem was found. */
export interface TranscriptReport {
  ok: boolean;
  case: string | null;
  exported_by: string | null;
  exported_for: string | null;
  exported_at: string | null;
  exporter_fingerprint: string | null;
  keys: CheckedKey[];
  timeline: TimelineEntry[];
  withheld: Withheld[];
  problems: TranscriptProblem[];
}
