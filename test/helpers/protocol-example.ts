/**
 * The worked example of docs/protocol.md, built deterministically with the real code: fixed
 * Ed25519 keys (from 32-byte seeds), fixed ids and times. Ed25519 signatures are deterministic,
 * so every signature, canonical text and hash below is a constant that the document prints and
 * test/protocol-example.test.ts checks.
 */
import { createPrivateKey } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../../src/shared/canonical.js';
import { envelopeHash, signEnvelope, signingInput, signReceipt } from '../../src/modules/federation/federation.envelope.js';
import { makeDescriptor, parseDescriptor, PeerRepository, type Descriptor } from '../../src/modules/federation/federation.peers.js';
import type { CarriageDeps } from '../../src/modules/federation/federation.carriage.js';
import {
  DEFAULT_LIMITS, GENESIS_HASH, type Envelope, type Receipt, type Self, type UnsignedEnvelope,
} from '../../src/modules/federation/federation.types.js';
import { fingerprint, loadKeys, type NodeKeys } from '../../src/modules/identity/identity.keys.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openTestStore } from './pg.js';
import { storeDialect } from './stores.js';

/** DER prefix that turns a 32-byte Ed25519 seed into a PKCS#8 private key (RFC 8410). */
export const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';

/** A node's keys from its 32-byte seed (hex), through the same loader a node uses for its key file. */
export function keysFromSeed(seedHex: string): NodeKeys {
  const der = Buffer.concat([Buffer.from(PKCS8_ED25519_PREFIX, 'hex'), Buffer.from(seedHex, 'hex')]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return loadKeys(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

/** RFC 8032 section 7.1, TEST 1 and TEST 2: published keys. Never use them for a real node. */
export const SENDER_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
export const RECEIVER_SEED = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';

export const SENDER: Self = { party: 'us', name: 'US example node', url: 'https://hotline.us.example', channels: ['crisis', 'cert'] };
export const RECEIVER: Self = { party: 'ru', name: 'RU example node', url: 'https://hotline.ru.example', channels: ['crisis', 'cert', 'law'] };

/** When the example envelope was written, and when the receiver stored it (HTTP scenario). */
export const SENT_AT = '2026-01-15T09:30:00.000Z';
export const RECEIVED_AT = '2026-01-15T09:30:00.412Z';
/** The carriage scenario: exported by the sender, imported by the receiver hours later. */
export const EXPORTED_AT = '2026-01-15T10:05:00.000Z';
export const IMPORTED_AT = '2026-01-15T14:20:00.000Z';

/** A UUIDv7 whose 48-bit time is SENT_AT (0x019bc0fd89c0 ms) with fixed "random" bits. */
export const ENVELOPE_ID = '019bc0fd-89c0-7c3e-9d2a-5b7e1f08c4a1';

const ATTACHMENT_BYTES = Buffer.from('192.0.2.10\n192.0.2.77\n', 'utf8');

export const UNSIGNED: UnsignedEnvelope = {
  v: 1,
  id: ENVELOPE_ID,
  from: 'us',
  to: 'ru',
  seq: 1,
  prev: GENESIS_HASH,
  sent_at: SENT_AT,
  kind: 'notification',
  channel: 'crisis',
  case: ENVELOPE_ID,
  in_reply_to: null,
  priority: 'flash',
  tlp: 'amber',
  body: { lang: 'en', text: 'Scanning of 192.0.2.0/24 from your networks since 08:55 UTC — please confirm receipt.' },
  attachments: [{
    name: 'hosts.txt',
    media_type: 'text/plain',
    size: ATTACHMENT_BYTES.length,
    sha256: sha256Hex(ATTACHMENT_BYTES),
    content: ATTACHMENT_BYTES.toString('base64'),
  }],
};

export interface Example {
  sender: NodeKeys;
  receiver: NodeKeys;
  senderFingerprint: string;
  receiverFingerprint: string;
  envelope: Envelope;
  signingInput: string;
  canonical: string;
  hash: string;
  receipt: Receipt;
  receiptSigningInput: string;
}

export function buildExample(): Example {
  const sender = keysFromSeed(SENDER_SEED);
  const receiver = keysFromSeed(RECEIVER_SEED);
  const envelope = signEnvelope(UNSIGNED, sender.privateKey);
  const hash = envelopeHash(envelope);
  const unsignedReceipt = {
    v: 1 as const, type: 'receipt' as const, id: envelope.id, seq: envelope.seq, from: RECEIVER.party, to: SENDER.party,
    envelope_hash: hash, link_hash: hash, received_at: RECEIVED_AT,
  };
  return {
    sender,
    receiver,
    senderFingerprint: fingerprint(sender.publicKeyB64),
    receiverFingerprint: fingerprint(receiver.publicKeyB64),
    envelope,
    signingInput: signingInput(envelope),
    canonical: canonicalJson(envelope),
    hash,
    receipt: signReceipt(unsignedReceipt, receiver.privateKey),
    receiptSigningInput: canonicalJson(unsignedReceipt),
  };
}

/** The sender's peer descriptor, as `hotline descriptor` prints it. */
export function senderDescriptor(): Descriptor {
  return makeDescriptor(SENDER, keysFromSeed(SENDER_SEED));
}

/** Ids of the sender's next two envelopes on the link (seq 2 and 3), used to show a gap. */
export const SECOND_ID = '019bc0fd-8db0-7a11-8b22-0c33d44e5f02';
export const THIRD_ID = '019bc0fd-8db0-7a11-8b22-0c33d44e5f03';

/** A node on a fresh store (SQLite in memory, or a PostgreSQL schema: `storeDialect()`) with a fake clock, pinning `peer` as `hotline peer add` would. */
export async function exampleNode(self: Self, keys: NodeKeys, at: string, peer: Descriptor, expectFingerprint: string): Promise<CarriageDeps & { clock: FakeClock }> {
  const db = await openTestStore(storeDialect());
  const clock = new FakeClock(Date.parse(at));
  const peers = new PeerRepository({ db, clock, self });
  await peers.add(parseDescriptor(JSON.parse(JSON.stringify(peer))), { expectFingerprint });
  return { db, keys, self, clock, limits: { ...DEFAULT_LIMITS }, peers, log: silentLogger };
}

/** The receiver's descriptor (pinned by the sender in the carriage scenario). */
export function receiverDescriptor(): Descriptor {
  return makeDescriptor(RECEIVER, keysFromSeed(RECEIVER_SEED));
}

/** The sender's next envelopes on the link, pings chained on the example: seq 2 on `prevHash`, seq 3 on seq 2. */
export function followUps(prevHash: string): { second: Envelope; third: Envelope } {
  const key = keysFromSeed(SENDER_SEED).privateKey;
  const { attachments: _none, ...first } = UNSIGNED;
  const base = { ...first, kind: 'ping' as const, priority: 'routine' as const, tlp: 'clear' as const, body: {}, sent_at: '2026-01-15T09:30:01.000Z' };
  const second = signEnvelope({ ...base, id: SECOND_ID, case: SECOND_ID, seq: 2, prev: prevHash }, key);
  const third = signEnvelope({ ...base, id: THIRD_ID, case: THIRD_ID, seq: 3, prev: envelopeHash(second) }, key);
  return { second, third };
}

/**
 * Puts a signed envelope in the sender's store as the outbox does when it is queued (message row
 * with its canonical text and hash, link head moved), so that `exportEnvelopes` finds it.
 */
export async function storeOutbound(node: CarriageDeps, env: Envelope): Promise<void> {
  const text = canonicalJson(env);
  const hash = sha256Hex(text);
  const now = node.clock.now();
  await node.db.insertInto('messages').values({
    id: env.id, direction: 'out', from_party: env.from, to_party: env.to, seq: env.seq, hash, kind: env.kind, channel: env.channel,
    case_id: env.case, in_reply_to: env.in_reply_to, priority: env.priority, tlp: env.tlp, sent_at: env.sent_at,
    envelope: text, stored_at: now, receipt: null, receipted_at: null,
  }).execute();
  await node.db.insertInto('links').values({
    from_party: env.from, to_party: env.to, last_seq: env.seq, head_hash: hash, acked_seq: 0, send_from_seq: 1,
    attempts: 0, next_attempt_at: now, last_attempt_at: null, last_error: null, epoch_start_seq: 1,
  }).execute();
}
