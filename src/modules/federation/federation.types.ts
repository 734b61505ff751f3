/** Protocol v1 vocabulary and wire types. docs/protocol.md is the normative description. */

export const PROTOCOL_VERSION = 1 as const;

export const KINDS = [
  'notification', 'inquiry', 'assistance', 'response', 'crisis-alert', 'preservation-request',
  'preservation-response', 'ping', 'pong', 'ack', 'indicators', 'directory-update', 'key-change', 'case-close',
] as const;
export const CHANNELS = ['crisis', 'cert', 'law'] as const;
export const PRIORITIES = ['flash', 'immediate', 'priority', 'routine'] as const;
export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;

export type Kind = (typeof KINDS)[number];
export type Channel = (typeof CHANNELS)[number];
export type Priority = (typeof PRIORITIES)[number];
export type Tlp = (typeof TLPS)[number];

/** Default acknowledgement deadlines in minutes; a pair of peers may agree others. */
export const DEFAULT_ACK_DEADLINES_MIN: Readonly<Record<Priority, number>> = {
  flash: 10,
  immediate: 60,
  priority: 24 * 60,
  routine: 72 * 60,
};

/** The `prev` of the first envelope on a link. */
export const GENESIS_HASH = '0'.repeat(64);

export interface Attachment {
  name: string;
  media_type: string;
  size: number;
  sha256: string;
  /** base64 (RFC 4648 section 4) of the bytes. */
  content: string;
}

/** A signed envelope as it travels. `sig` covers the JCS form of every other field. */
export interface Envelope {
  v: typeof PROTOCOL_VERSION;
  id: string;
  from: string;
  to: string;
  seq: number;
  prev: string;
  sent_at: string;
  kind: Kind;
  channel: Channel;
  case: string;
  in_reply_to: string | null;
  priority: Priority;
  tlp: Tlp;
  body: Record<string, unknown>;
  attachments?: Attachment[];
  sig: string;
}

export type UnsignedEnvelope = Omit<Envelope, 'sig'>;

/** Signed by the receiving node once it has stored an envelope durably. */
export interface Receipt {
  v: typeof PROTOCOL_VERSION;
  type: 'receipt';
  /** The receipted envelope's id and seq. */
  id: string;
  seq: number;
  /** The receiver (signer) and the envelope's sender. */
  from: string;
  to: string;
  /** SHA-256 of the envelope's canonical bytes, as the receiver computed it. */
  envelope_hash: string;
  /** The receiver's head of the link after storing it: equal to envelope_hash when in order. */
  link_hash: string;
  received_at: string;
  sig: string;
}

/** Per-envelope answer to a batch: a receipt, or a refusal with a stable code. */
export type EnvelopeResult =
  | { id: string | null; ok: true; receipt: Receipt }
  | { id: string | null; ok: false; error: { code: string; message: string; expected_seq?: number } };

/** Limits a node enforces on what it receives (and on what it lets its users send). */
export interface Limits {
  maxEnvelopeBytes: number;
  maxBodyBytes: number;
  maxBatchEnvelopes: number;
  maxBatchBytes: number;
  maxClockSkewMs: number;
  maxEnvelopeAgeMs: number;
  maxAttachments: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxEnvelopeBytes: 1024 * 1024,
  maxBodyBytes: 64 * 1024,
  maxBatchEnvelopes: 500,
  maxBatchBytes: 16 * 1024 * 1024,
  maxClockSkewMs: 5 * 60 * 1000,
  maxEnvelopeAgeMs: 30 * 24 * 60 * 60 * 1000,
  maxAttachments: 16,
};

/** This node, as the rest of the code needs to know it. */
export interface Self {
  party: string;
  name: string;
  url: string;
  channels: readonly Channel[];
}

export const PARTY_ID = /^[a-z][a-z0-9-]{1,31}$/;

/**
 * The deepest an envelope may nest objects and arrays, the envelope itself being level 1 (its
 * `body` level 2). Fixed by the protocol (docs/protocol.md section 15); deeper is `invalid_envelope`.
 */
export const MAX_ENVELOPE_DEPTH = 64;

/**
 * The stable code in front of a link's `last_error` ("redirect_refused: ru answered HTTP 307 ..."),
 * or null when there is none. Every error delivery records starts with one.
 */
export function lastErrorCode(lastError: string | null | undefined): string | null {
  return /^([a-z][a-z0-9_]*): /.exec(lastError ?? '')?.[1] ?? null;
}

/** How the node delivers its outbox (`delivery` in hotline.json; federation.delivery.ts). */
export interface DeliveryOptions {
  batchSize: number;
  maxBatchBytes: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How often an idle node looks for work queued by another process (the CLI). */
  pollMs: number;
  /** Most links delivered at once; each link has at most one batch in flight. */
  concurrency: number;
  /** How long one batch's HTTP request may take before the attempt fails. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: Readonly<DeliveryOptions> = {
  batchSize: 256,
  maxBatchBytes: 8 * 1024 * 1024,
  backoffBaseMs: 500,
  backoffMaxMs: 60_000,
  pollMs: 200,
  concurrency: 8,
  timeoutMs: 30_000,
};
