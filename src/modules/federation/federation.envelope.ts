import type { KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../../shared/canonical.js';
import { parseIsoTime } from '../../shared/clock.js';
import { fail, isHotlineError } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { signText, verifyText } from '../identity/identity.keys.js';
import {
  CHANNELS, KINDS, MAX_ENVELOPE_DEPTH, PARTY_ID, PRIORITIES, PROTOCOL_VERSION, TLPS,
  type Envelope, type Limits, type Receipt, type UnsignedEnvelope,
} from './federation.types.js';

/** Every member an envelope must have (`attachments` is the one optional member). */
const REQUIRED_FIELDS = [
  'v', 'id', 'from', 'to', 'seq', 'prev', 'sent_at', 'kind', 'channel', 'case', 'in_reply_to',
  'priority', 'tlp', 'body', 'sig',
] as const;
const ENVELOPE_FIELDS = new Set<string>([...REQUIRED_FIELDS, 'attachments']);
const ATTACHMENT_FIELDS = ['name', 'media_type', 'size', 'sha256', 'content'] as const;
const HEX64 = /^[0-9a-f]{64}$/;
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): never {
  return fail('invalid_envelope', message);
}

/**
 * Checks that a parsed value is a well-formed v1 envelope within the limits, and returns it typed.
 * Throws a {@link HotlineError} with the most specific code (e.g. `unknown_kind`, `body_too_large`).
 * Does not check the signature or the link; see `receive`.
 */
export function parseEnvelope(value: unknown, limits: Limits): Envelope {
  return readEnvelope(value, limits).env;
}

/**
 * {@link parseEnvelope}, also returning the envelope's canonical text (what is stored and hashed):
 * the envelope is canonicalised once, and the body's size and the signing input are read from that
 * text (see {@link verifyEnvelopeText}) instead of canonicalising them again.
 */
export function readEnvelope(value: unknown, limits: Limits): { env: Envelope; text: string } {
  if (!isRecord(value)) bad('An envelope must be a JSON object');
  const canonical = writable(value);
  const envelopeBytes = utf8Length(canonical);
  if (envelopeBytes > limits.maxEnvelopeBytes) {
    fail('envelope_too_large', `The envelope is ${envelopeBytes} bytes; the limit is ${limits.maxEnvelopeBytes}`);
  }
  for (const k of Object.keys(value)) if (!ENVELOPE_FIELDS.has(k)) bad(`Unknown envelope member ${JSON.stringify(k)}`);
  for (const k of REQUIRED_FIELDS) if (!Object.hasOwn(value, k)) bad(`missing member "${k}"`);
  const e = value;
  if (e.v !== PROTOCOL_VERSION) bad(`Unsupported protocol version ${JSON.stringify(e.v)}; this node speaks v${PROTOCOL_VERSION}`);
  if (!isUuid(e.id)) bad('"id" must be a lower-case UUID');
  if (typeof e.from !== 'string' || !PARTY_ID.test(e.from)) bad('"from" must be a party id (a-z, 0-9, -; 2 to 32 characters)');
  if (typeof e.to !== 'string' || !PARTY_ID.test(e.to)) bad('"to" must be a party id (a-z, 0-9, -; 2 to 32 characters)');
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) bad('"seq" must be an integer of at least 1');
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) bad('"prev" must be 64 lower-case hex digits');
  if (typeof e.sent_at !== 'string' || Number.isNaN(parseIsoTime(e.sent_at))) bad('"sent_at" must be an RFC 3339 UTC timestamp');
  if (!(KINDS as readonly unknown[]).includes(e.kind)) fail('unknown_kind', `Unknown kind ${JSON.stringify(e.kind)}; known: ${KINDS.join(', ')}`);
  if (!(CHANNELS as readonly unknown[]).includes(e.channel)) fail('unknown_channel', `Unknown channel ${JSON.stringify(e.channel)}; known: ${CHANNELS.join(', ')}`);
  if (!(PRIORITIES as readonly unknown[]).includes(e.priority)) fail('unknown_priority', `Unknown priority ${JSON.stringify(e.priority)}; known: ${PRIORITIES.join(', ')}`);
  if (!(TLPS as readonly unknown[]).includes(e.tlp)) fail('unknown_tlp', `Unknown TLP ${JSON.stringify(e.tlp)}; known: ${TLPS.join(', ')}`);
  if (!isUuid(e.case)) bad('"case" must be a lower-case UUID');
  if (e.in_reply_to !== null && !isUuid(e.in_reply_to)) bad('"in_reply_to" must be null or a lower-case UUID');
  if (!isRecord(e.body)) bad('"body" must be a JSON object');
  const bodyBytes = utf8Length(bodyText(canonical, e));
  if (bodyBytes > limits.maxBodyBytes) fail('body_too_large', `The body is ${bodyBytes} bytes; the limit is ${limits.maxBodyBytes}`);
  if (e.attachments !== undefined) checkAttachments(e.attachments, limits);
  if (typeof e.sig !== 'string' || e.sig.length !== 86) bad('"sig" must be a 64-byte Ed25519 signature in base64url (86 characters)');
  return { env: e as unknown as Envelope, text: canonical };
}

/**
 * The body's canonical text, cut from the envelope's: members are sorted, so without attachments
 * the text opens with `{"body":`, and the body ends at the last `,"case":` (a quote inside a JSON
 * string is escaped, so that sequence is structure, and after the top-level one only flat members
 * follow). With attachments (rare), the body is canonicalised on its own.
 */
function bodyText(canonical: string, e: Record<string, unknown>): string {
  const open = '{"body":';
  const end = canonical.lastIndexOf(',"case":');
  if (e.attachments !== undefined || !canonical.startsWith(open) || end < open.length) return canonicalJson(e.body);
  return canonical.slice(open.length, end);
}

/**
 * The envelope's JCS text, or a refusal: `invalid_unicode` for a lone surrogate, `invalid_envelope`
 * for what JCS cannot write (a number that is not finite, nesting deeper than
 * {@link MAX_ENVELOPE_DEPTH}). The message names the place, e.g. `$.body.n`.
 */
function writable(value: Record<string, unknown>): string {
  try {
    return canonicalJson(value, MAX_ENVELOPE_DEPTH);
  } catch (e) {
    if (isHotlineError(e) && e.code === 'invalid_argument') bad(`The envelope is not I-JSON: ${e.message}`);
    throw e;
  }
}

function checkAttachments(list: unknown, limits: Limits): void {
  if (!Array.isArray(list)) bad('"attachments" must be an array');
  if (list.length > limits.maxAttachments) bad(`At most ${limits.maxAttachments} attachments are allowed`);
  for (const [i, a] of list.entries()) {
    const where = `attachments[${i}]`;
    if (!isRecord(a)) bad(`${where} must be an object`);
    for (const k of Object.keys(a)) if (!(ATTACHMENT_FIELDS as readonly string[]).includes(k)) bad(`${where}: unknown member ${JSON.stringify(k)}`);
    for (const k of ATTACHMENT_FIELDS) if (!Object.hasOwn(a, k)) bad(`${where}: missing member "${k}"`);
    if (typeof a.name !== 'string' || a.name.length === 0 || a.name.length > 255) bad(`${where}.name must be 1 to 255 characters`);
    if (typeof a.media_type !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(a.media_type)) bad(`${where}.media_type must be a media type`);
    if (!Number.isSafeInteger(a.size) || (a.size as number) < 0) bad(`${where}.size must be a non-negative integer`);
    const bytes = base64Content(a.content, where);
    if (a.size !== bytes.length) bad(`${where}.size is ${String(a.size)} but the content has ${bytes.length} bytes`);
    if (a.sha256 !== sha256Hex(bytes)) bad(`${where}.sha256 does not match the content`);
  }
}

/**
 * Decodes an attachment's `content`: standard base64 (RFC 4648 section 4), padded with `=`, in
 * its one canonical spelling (what `Buffer.toString('base64')` writes), or a refusal that says which rule failed.
 */
function base64Content(content: unknown, where: string): Buffer {
  if (typeof content !== 'string') bad(`${where}.content must be a base64 string`);
  if (!BASE64_ALPHABET.test(content)) bad(`${where}.content is not base64: only A-Z a-z 0-9 + / and final = padding are allowed (no line breaks, not base64url)`);
  if (content.length % 4 !== 0) bad(`${where}.content is not padded base64: its length, ${content.length}, is not a multiple of 4 (add "=" padding)`);
  const bytes = Buffer.from(content, 'base64');
  if (bytes.toString('base64') !== content) bad(`${where}.content is not canonical base64: the unused bits of its last character must be zero`);
  return bytes;
}

/** The exact bytes that are signed: JCS of the envelope without `sig`. */
export function signingInput(e: UnsignedEnvelope | Envelope): string {
  const { sig: _sig, ...rest } = e as Envelope;
  return canonicalJson(rest);
}

export function signEnvelope(e: UnsignedEnvelope, key: KeyObject): Envelope {
  return { ...e, sig: signText(key, signingInput(e)) };
}

export function verifyEnvelope(e: Envelope, keys: readonly KeyObject[]): boolean {
  const input = signingInput(e);
  return keys.some((k) => verifyText(k, input, e.sig));
}

/**
 * {@link verifyEnvelope} given the envelope's canonical text (from {@link readEnvelope}): the
 * signing input is that text without its `sig` member, which is the last `,"sig":"…"` in it (only
 * `tlp`, `to` and `v`, checked flat values, sort after it), so nothing is canonicalised again.
 */
export function verifyEnvelopeText(e: Envelope, text: string, keys: readonly KeyObject[]): boolean {
  const member = `,"sig":${JSON.stringify(e.sig)}`;
  const at = text.lastIndexOf(member);
  const input = at < 0 ? signingInput(e) : text.slice(0, at) + text.slice(at + member.length);
  return keys.some((k) => verifyText(k, input, e.sig));
}

/** The envelope's canonical text (with `sig`): what is stored, sent and hashed. */
export function envelopeText(e: Envelope): string {
  return canonicalJson(e);
}

/** SHA-256 of the envelope's canonical text with `sig`: the link's chain value. */
export function envelopeHash(e: Envelope): string {
  return sha256Hex(canonicalJson(e));
}

export function signReceipt(r: Omit<Receipt, 'sig'>, key: KeyObject): Receipt {
  return { ...r, sig: signText(key, canonicalJson(r)) };
}

export function verifyReceipt(r: Receipt, keys: readonly KeyObject[]): boolean {
  const { sig, ...rest } = r;
  const input = canonicalJson(rest);
  return keys.some((k) => verifyText(k, input, sig));
}

const RECEIPT_FIELDS = 'envelope_hash,from,id,link_hash,received_at,seq,sig,to,type,v';

/** Shape check for a receipt that came back from a peer or from a carriage file. */
export function parseReceipt(value: unknown): Receipt {
  if (!isRecord(value) || Object.keys(value).sort().join(',') !== RECEIPT_FIELDS) {
    return fail('bad_receipt', `A receipt must have exactly the fields ${RECEIPT_FIELDS}`);
  }
  const r = value;
  const ok = r.v === PROTOCOL_VERSION && r.type === 'receipt' && isUuid(r.id) && Number.isSafeInteger(r.seq)
    && typeof r.from === 'string' && typeof r.to === 'string' && typeof r.envelope_hash === 'string' && HEX64.test(r.envelope_hash)
    && typeof r.link_hash === 'string' && HEX64.test(r.link_hash) && typeof r.received_at === 'string'
    && !Number.isNaN(parseIsoTime(r.received_at)) && typeof r.sig === 'string';
  if (!ok) fail('bad_receipt', 'The receipt is malformed');
  return r as unknown as Receipt;
}

/**
 * Why a receipt that came back for one of our envelopes is not acceptable, or undefined if it is:
 * it must name the envelope, be addressed to us, carry our hash of it, and verify.
 */
export function receiptProblem(
  value: unknown,
  expected: { self: string; peer: string; id: string; seq: number; hash: string },
  keys: readonly KeyObject[],
): string | undefined {
  return receiptCheck(value, expected, keys)?.message;
}

/**
 * As {@link receiptProblem}, with a code: `key_mismatch` when the receipt is right in every
 * way but its signature, which no pinned key of its sender verifies (the peer was reinstalled
 * with a new key, or someone else answers for it); `bad_receipt` for anything else.
 */
export function receiptCheck(
  value: unknown,
  expected: { self: string; peer: string; id: string; seq: number; hash: string },
  keys: readonly KeyObject[],
): { code: 'bad_receipt' | 'key_mismatch'; message: string } | undefined {
  const bad = (message: string): { code: 'bad_receipt'; message: string } => ({ code: 'bad_receipt', message });
  let r: Receipt;
  try {
    r = parseReceipt(value);
  } catch (e) {
    return bad(e instanceof Error ? e.message : String(e));
  }
  const { seq } = expected;
  if (r.id !== expected.id || r.seq !== seq) return bad(`receipt for seq ${seq} names another envelope`);
  if (r.to !== expected.self) return bad(`receipt for seq ${seq} is addressed to "${r.to}"`);
  if (r.from !== expected.peer) return bad(`receipt for seq ${seq} claims to come from "${r.from}", not "${expected.peer}"`);
  if (r.envelope_hash !== expected.hash || r.link_hash !== expected.hash) {
    return bad(`receipt for seq ${seq} carries hash ${r.link_hash.slice(0, 16)}…, ours is ${expected.hash.slice(0, 16)}…: the link has diverged`);
  }
  if (!verifyReceipt(r, keys)) return { code: 'key_mismatch', message: `receipt for seq ${seq} is not signed by the pinned key of its sender` };
  return undefined;
}
