/**
 * Wire primitives of the Hotline protocol, from docs/protocol.md sections 2, 5, 7, 8 and 10 alone:
 * keys from seeds, base64url, fingerprints, signing, hashing, UUIDv7 and the shape checks.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from './jcs.js';

export const GENESIS = '0'.repeat(64);
export const PARTY_RE = /^[a-z][a-z0-9-]{1,31}$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const HEX64_RE = /^[0-9a-f]{64}$/;
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** RFC 8410 PKCS#8 prefix for a raw Ed25519 seed (section 2.2). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** base64url without padding (RFC 4648 section 5). */
export function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** Decodes base64url text, or null if it is not the canonical unpadded encoding (sections 2.2 and 7). */
export function fromB64url(text: string): Buffer | null {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return b64url(bytes) === text ? bytes : null;
}

export interface KeyPair {
  privateKey: KeyObject;
  publicRaw: Buffer;
  publicKey: string;
}

/** The node key from a 32-byte seed (section 2.2). */
export function keyFromSeed(seed: Buffer): KeyPair {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicRaw = Buffer.from(String(jwk.x), 'base64url');
  return { privateKey, publicRaw, publicKey: b64url(publicRaw) };
}

/** A public key object from its 43-character base64url text, or null if it is not a valid key text. */
export function publicKeyFrom(text: string): KeyObject | null {
  if (text.length !== 43) return null;
  const raw = fromB64url(text);
  if (raw === null || raw.length !== 32) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** Section 2.3: eight groups of five digits from the first 40 bytes of SHA-512(raw key). */
export function fingerprint(publicRaw: Buffer): string {
  const d = createHash('sha512').update(publicRaw).digest();
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    let n = 0n;
    for (let j = 0; j < 5; j++) n = (n << 8n) | BigInt(d[5 * i + j]!);
    groups.push((n % 100000n).toString().padStart(5, '0'));
  }
  return groups.join(' ');
}

/** Removes `sig` (signing input of section 7). */
export function withoutSig<T extends { sig?: unknown }>(obj: T): Omit<T, 'sig'> {
  const { sig: _sig, ...rest } = obj;
  return rest;
}

/** Section 7: Ed25519 over the UTF-8 JCS form of the object without `sig`, base64url unpadded. */
export function signObject(obj: object, key: KeyObject): string {
  return b64url(sign(null, canonicalBytes(withoutSig(obj as { sig?: unknown })), key));
}

/** Verifies `obj.sig` with any of the keys; the sig text must be canonical base64url of 64 bytes. */
export function verifyObject(obj: { sig?: unknown }, keys: KeyObject[]): boolean {
  if (typeof obj.sig !== 'string' || obj.sig.length !== 86) return false;
  const raw = fromB64url(obj.sig);
  if (raw === null || raw.length !== 64) return false;
  const input = canonicalBytes(withoutSig(obj));
  return keys.some((k) => verify(null, input, k, raw));
}

/** Section 8: lower-case hex SHA-256 of the UTF-8 JCS form of the whole object. */
export function hashOf(obj: unknown): string {
  return createHash('sha256').update(canonicalBytes(obj)).digest('hex');
}

/** A lower-case UUIDv7 (RFC 9562) for time `ms`. */
export function uuidv7(ms: number = Date.now()): string {
  const b = randomBytes(16);
  const t = BigInt(ms);
  for (let i = 0; i < 6; i++) b[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A real calendar instant in the form of section 5.1 (no `:60`, no 31 February). */
export function isTimestamp(v: unknown): v is string {
  if (typeof v !== 'string' || !TIME_RE.test(v)) return false;
  const [date, time] = v.slice(0, 19).split('T') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
  const dt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d && dt.getUTCHours() === h && dt.getUTCMinutes() === mi && dt.getUTCSeconds() === s;
}

export interface Receipt {
  v: 1;
  type: 'receipt';
  id: string;
  seq: number;
  from: string;
  to: string;
  envelope_hash: string;
  link_hash: string;
  received_at: string;
  sig: string;
}

const RECEIPT_MEMBERS = ['v', 'type', 'id', 'seq', 'from', 'to', 'envelope_hash', 'link_hash', 'received_at', 'sig'];

/** Section 10.3 check 1: the receipt's shape. Returns what is wrong, or null. */
export function receiptShapeProblem(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not an object';
  const o = r as Record<string, unknown>;
  const names = Object.keys(o);
  if (names.length !== RECEIPT_MEMBERS.length || !RECEIPT_MEMBERS.every((m) => names.includes(m))) return `members ${names.join(',')}`;
  if (o.v !== 1 || o.type !== 'receipt') return 'v/type';
  if (typeof o.id !== 'string' || !UUID_RE.test(o.id)) return 'id';
  if (!Number.isSafeInteger(o.seq)) return 'seq';
  if (typeof o.from !== 'string' || typeof o.to !== 'string') return 'from/to';
  if (typeof o.envelope_hash !== 'string' || !HEX64_RE.test(o.envelope_hash)) return 'envelope_hash';
  if (typeof o.link_hash !== 'string' || !HEX64_RE.test(o.link_hash)) return 'link_hash';
  if (!isTimestamp(o.received_at)) return 'received_at';
  if (typeof o.sig !== 'string') return 'sig';
  return null;
}
