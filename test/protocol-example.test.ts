/**
 * Keeps docs/protocol.md honest: every block of its worked example (section 20) that is marked
 * `<!-- example:NAME -->` is recomputed here with the real code and compared byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../src/shared/canonical.js';
import { exportEnvelopes, importCarriage } from '../src/modules/federation/federation.carriage.js';
import {
  envelopeHash, parseEnvelope, receiptProblem, signingInput, verifyEnvelope, verifyReceipt,
} from '../src/modules/federation/federation.envelope.js';
import { parseDescriptor, type Descriptor } from '../src/modules/federation/federation.peers.js';
import { receiveBatch } from '../src/modules/federation/federation.receive.js';
import { DEFAULT_LIMITS, GENESIS_HASH, type Envelope, type EnvelopeResult, type Receipt } from '../src/modules/federation/federation.types.js';
import { fingerprint, publicKeyFromB64 } from '../src/modules/identity/identity.keys.js';
import {
  buildExample, exampleNode, EXPORTED_AT, followUps, IMPORTED_AT, keysFromSeed, RECEIVED_AT, RECEIVER, RECEIVER_SEED,
  receiverDescriptor, SENDER, SENDER_SEED, senderDescriptor, SENT_AT, storeOutbound,
} from './helpers/protocol-example.js';
import { describeEachDialect } from './helpers/stores.js';

const DOC_PATH = new URL('../docs/protocol.md', import.meta.url);

/**
 * The fenced blocks of the document introduced by `<!-- example:NAME -->` on the line before the
 * fence, by name, without the fence lines and without the final newline.
 */
function exampleBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const re = /^<!-- example:([a-z0-9-]+) -->\r?\n(`{3,})[^\n]*\r?\n([\s\S]*?)\r?\n\2[ \t]*$/gm;
  for (const m of markdown.matchAll(re)) {
    const [, name, , body] = m;
    if (blocks.has(name!)) throw new Error(`docs/protocol.md has two example blocks named "${name!}"`);
    blocks.set(name!, body!);
  }
  return blocks;
}

const blocks = exampleBlocks(readFileSync(DOC_PATH, 'utf8'));

function block(name: string): string {
  const b = blocks.get(name);
  if (b === undefined) throw new Error(`docs/protocol.md has no block marked <!-- example:${name} -->`);
  return b;
}

const json = (name: string): unknown => JSON.parse(block(name)) as unknown;
const x = buildExample();

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function node(...args: Parameters<typeof exampleNode>): Promise<Awaited<ReturnType<typeof exampleNode>>> {
  const n = await exampleNode(...args);
  closers.push(() => n.db.destroy());
  return n;
}

describeEachDialect('docs/protocol.md worked example', () => {
  it('marks every block the test needs, once', () => {
    expect([...blocks.keys()].sort()).toEqual([
      'canonical', 'carriage-envelopes', 'carriage-receipts', 'envelope', 'gap-response', 'hash', 'http-request-body', 'http-response',
      'receipt-signing-input', 'receiver-fingerprint', 'receiver-public-key', 'receiver-seed', 'sender-descriptor',
      'sender-fingerprint', 'sender-public-key', 'sender-seed', 'signature', 'signing-input',
    ]);
  });

  it('keys: seeds, raw base64url public keys, fingerprints', () => {
    expect(block('sender-seed')).toBe(SENDER_SEED);
    expect(block('receiver-seed')).toBe(RECEIVER_SEED);
    const sender = keysFromSeed(block('sender-seed'));
    const receiver = keysFromSeed(block('receiver-seed'));
    expect(block('sender-public-key')).toBe(sender.publicKeyB64);
    expect(block('receiver-public-key')).toBe(receiver.publicKeyB64);
    expect(block('sender-fingerprint')).toBe(fingerprint(sender.publicKeyB64));
    expect(block('receiver-fingerprint')).toBe(fingerprint(receiver.publicKeyB64));
    // RFC 8032 section 7.1, TEST 1 and TEST 2 public keys.
    expect(Buffer.from(sender.publicKeyB64, 'base64url').toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(Buffer.from(receiver.publicKeyB64, 'base64url').toString('hex')).toBe('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
  });

  it('the fingerprint is SHA-512 of the raw key, eight 5-byte big-endian chunks mod 100000, as the document says', () => {
    const digest = Buffer.from(sha512OfRawKey(block('sender-public-key')));
    const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (digest.readUIntBE(i * 5, 5) % 100000).toString().padStart(5, '0'));
    expect(groups.join(' ')).toBe(block('sender-fingerprint'));
    expect(block('sender-fingerprint')).toMatch(/^\d{5}( \d{5}){7}$/);
  });

  it('descriptor: as the code makes it, and it passes the checks of a node pinning it', () => {
    const doc = json('sender-descriptor');
    expect(doc).toEqual(senderDescriptor());
    expect(block('sender-descriptor')).toBe(JSON.stringify(senderDescriptor(), null, 2));
    expect(parseDescriptor(doc).fingerprint).toBe(block('sender-fingerprint'));
  });

  it('envelope: signing input, signature, canonical text and hash are exactly the printed strings', () => {
    const doc = json('envelope') as Envelope;
    expect(doc).toEqual(x.envelope);
    expect(block('envelope')).toBe(JSON.stringify(x.envelope, null, 2));
    expect(block('signing-input')).toBe(x.signingInput);
    expect(block('signing-input')).toBe(signingInput(doc));
    expect(block('signature')).toBe(x.envelope.sig);
    expect(block('signature')).toHaveLength(86);
    expect(block('canonical')).toBe(canonicalJson(doc));
    expect(block('canonical')).toBe(x.canonical);
    expect(block('hash')).toBe(envelopeHash(doc));
    expect(block('hash')).toBe(sha256Hex(Buffer.from(block('canonical'), 'utf8')));
    expect(verifyEnvelope(doc, [publicKeyFromB64(block('sender-public-key'))])).toBe(true);
    expect(verifyEnvelope(doc, [publicKeyFromB64(block('receiver-public-key'))])).toBe(false);
    expect(() => parseEnvelope(doc, DEFAULT_LIMITS)).not.toThrow();
    expect(doc.prev).toBe(GENESIS_HASH);
    expect(doc.sent_at).toBe(SENT_AT);
    expect(Number.parseInt(doc.id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse(SENT_AT));
  });

  it('the HTTP request body is {"envelopes":[<canonical text>]}', () => {
    expect(block('http-request-body')).toBe(`{"envelopes":[${block('canonical')}]}`);
  });

  it('receipt: signed by the receiver over JCS without sig; it passes the sender\'s checks', () => {
    const results = (json('http-response') as { results: EnvelopeResult[] }).results;
    expect(results).toHaveLength(1);
    const r = results[0]!;
    if (!r.ok) throw new Error('the documented result must be a receipt');
    const receipt: Receipt = r.receipt;
    expect(receipt).toEqual(x.receipt);
    const { sig: _sig, ...unsigned } = receipt;
    expect(block('receipt-signing-input')).toBe(canonicalJson(unsigned));
    expect(block('receipt-signing-input')).toBe(x.receiptSigningInput);
    expect(receipt.envelope_hash).toBe(block('hash'));
    expect(receipt.link_hash).toBe(block('hash'));
    expect(receipt.received_at).toBe(RECEIVED_AT);
    const receiverKey = publicKeyFromB64(block('receiver-public-key'));
    expect(verifyReceipt(receipt, [receiverKey])).toBe(true);
    expect(verifyReceipt(receipt, [publicKeyFromB64(block('sender-public-key'))])).toBe(false);
    expect(receiptProblem(receipt, { self: SENDER.party, peer: receipt.from, id: x.envelope.id, seq: 1, hash: block('hash') }, [receiverKey])).toBeUndefined();
  });

  it('the real receive path answers exactly the documented response, replays it, and reports the gap', async () => {
    const ru = await node(RECEIVER, keysFromSeed(RECEIVER_SEED), RECEIVED_AT, json('sender-descriptor') as Descriptor, block('sender-fingerprint'));
    const request = json('http-request-body') as { envelopes: unknown[] };
    const first = await receiveBatch(ru, request.envelopes);
    expect({ results: first }).toEqual(json('http-response'));
    expect(JSON.stringify({ results: first }, null, 2)).toBe(block('http-response'));

    ru.clock.advance(1000);
    const again = await receiveBatch(ru, (json('http-request-body') as { envelopes: unknown[] }).envelopes);
    expect(again).toEqual(first);

    const { second, third } = followUps(block('hash'));
    expect(second.prev).toBe(block('hash'));
    const gap = await receiveBatch(ru, [third]);
    const documented = (json('gap-response') as { results: EnvelopeResult[] }).results;
    expect(gap).toHaveLength(1);
    expect(documented).toHaveLength(1);
    const [got, want] = [gap[0]!, documented[0]!];
    if (got.ok || want.ok) throw new Error('the gap must be refused');
    expect(got.id).toBe(want.id);
    expect(got.id).toBe(third.id);
    expect({ code: got.error.code, expected_seq: got.error.expected_seq }).toEqual({ code: want.error.code, expected_seq: want.error.expected_seq });
    expect(want.error).toEqual({ code: 'seq_gap', message: expect.any(String) as unknown, expected_seq: 2 });

    const resent = await receiveBatch(ru, [second, third]);
    expect(resent.map((r) => r.ok)).toEqual([true, true]);
    const hashes = [envelopeHash(second), envelopeHash(third)];
    expect(resent.map((r) => (r.ok ? r.receipt.link_hash : undefined))).toEqual(hashes);
    expect(third.prev).toBe(hashes[0]);
  });

  it('carriage: the exported envelopes file and the receipts file an import writes are the documented ones', async () => {
    const us = await node(SENDER, keysFromSeed(SENDER_SEED), SENT_AT, receiverDescriptor(), x.receiverFingerprint);
    await storeOutbound(us, x.envelope);
    us.clock.set(Date.parse(EXPORTED_AT));
    const file = await exportEnvelopes(us, RECEIVER.party);
    expect(JSON.stringify(file, null, 2)).toBe(block('carriage-envelopes'));

    const ru = await node(RECEIVER, keysFromSeed(RECEIVER_SEED), IMPORTED_AT, json('sender-descriptor') as Descriptor, block('sender-fingerprint'));
    const imported = await importCarriage(ru, json('carriage-envelopes'));
    if (imported.type !== 'envelopes') throw new Error('expected an envelopes import');
    expect(imported.results.map((r) => r.ok)).toEqual([true]);
    expect(JSON.stringify(imported.receipts, null, 2)).toBe(block('carriage-receipts'));

    const applied = await importCarriage(us, json('carriage-receipts'));
    expect(applied).toEqual({
      type: 'receipts',
      results: [{ id: x.envelope.id, ok: true }],
      advanced: [{ to: RECEIVER.party, acked_seq: 1, send_from_seq: 2 }],
    });
  });
});

/** SHA-512 of the raw public key (the fingerprint's digest), computed here without identity.keys. */
function sha512OfRawKey(publicKeyB64: string): Uint8Array {
  return new Uint8Array(createHash('sha512').update(Buffer.from(publicKeyB64, 'base64url')).digest());
}
