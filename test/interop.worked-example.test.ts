/**
 * The worked example of docs/protocol.md section 20, recomputed by the second implementation
 * (test/interop/, written from the doc alone): keys, fingerprints, signatures, hashes, receipts, the
 * gap answer and the carriage receipts file; and RFC 8785's own canonicalisation examples.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importEnvelopesFile, type ReceiptsFile } from './interop/carriage.js';
import { canonicalize } from './interop/jcs.js';
import { InteropPeer, type Descriptor, type Envelope, type Result } from './interop/peer.js';
import { fingerprint, hashOf, keyFromSeed, publicKeyFrom, signObject, verifyObject, type Receipt } from './interop/wire.js';

const doc = readFileSync(resolve(import.meta.dirname, '../docs/protocol.md'), 'utf8');

/** The fenced block after `<!-- example:NAME -->` in docs/protocol.md section 20. */
function block(name: string): string {
  const m = doc.match(new RegExp(`<!-- example:${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``));
  if (!m) throw new Error(`no example block ${name}`);
  return m[1]!;
}

describe('section 20, the worked example, from the second implementation', () => {
  const us = keyFromSeed(Buffer.from(block('sender-seed'), 'hex'));
  const ru = keyFromSeed(Buffer.from(block('receiver-seed'), 'hex'));
  const envelope = JSON.parse(block('envelope')) as Envelope;

  it('keys, fingerprints and the descriptor signature come out of the seeds', () => {
    expect(us.publicKey).toBe(block('sender-public-key'));
    expect(ru.publicKey).toBe(block('receiver-public-key'));
    expect(fingerprint(us.publicRaw)).toBe(block('sender-fingerprint'));
    expect(fingerprint(ru.publicRaw)).toBe(block('receiver-fingerprint'));
    const descriptor = JSON.parse(block('sender-descriptor')) as Descriptor;
    expect(signObject(descriptor, us.privateKey)).toBe(descriptor.sig);
  });

  it('signing input, signature, canonical text, hash and HTTP body are the doc\'s bytes', () => {
    const { sig: _sig, ...unsigned } = envelope;
    expect(canonicalize(unsigned)).toBe(block('signing-input'));
    expect(signObject(envelope, us.privateKey)).toBe(block('signature'));
    expect(canonicalize(envelope)).toBe(block('canonical'));
    expect(hashOf(envelope)).toBe(block('hash'));
    expect('{"envelopes":[' + canonicalize(envelope) + ']}').toBe(block('http-request-body'));
  });

  it('as ru, the second implementation answers exactly the doc\'s receipts, and the gap', () => {
    const node = new InteropPeer('ru', 'RU', Buffer.from(block('receiver-seed'), 'hex'));
    node.pin(JSON.parse(block('sender-descriptor')), '10565 22880 29447 22884 16547 67957 54184 75456');
    const docReceipt = (JSON.parse(block('http-response')) as { results: [{ receipt: Receipt }] }).results[0].receipt;
    const { sig: _s, ...receiptInput } = docReceipt;
    expect(canonicalize(receiptInput)).toBe(block('receipt-signing-input'));
    expect(verifyObject(docReceipt, [publicKeyFrom(ru.publicKey)!])).toBe(true);
    const [first] = node.receive([envelope], Date.parse(docReceipt.received_at));
    expect(first).toEqual({ id: envelope.id, ok: true, receipt: docReceipt });
    // a byte-identical replay, even long after: the stored receipt, unchanged
    expect(node.receive([envelope], Date.parse('2026-01-15T12:00:00.000Z'))[0]).toEqual(first);
    const seq3 = { ...envelope, id: '019bc0fd-8db0-7a11-8b22-0c33d44e5f03', seq: 3, kind: 'ping', sig: '' };
    seq3.sig = signObject(seq3, us.privateKey);
    const gap = (JSON.parse(block('gap-response')) as { results: Result[] }).results[0]!;
    const got = node.receive([seq3], Date.parse('2026-01-15T09:30:01.000Z'))[0]!;
    if (got.ok || gap.ok) throw new Error('expected a refusal on both sides');
    expect(got.id).toBe(gap.id);
    expect([got.error.code, got.error.expected_seq]).toEqual([gap.error.code, gap.error.expected_seq]);
  });

  it('by carriage, the receipts file of 20.5 is what the second implementation writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-example-'));
    try {
      const node = new InteropPeer('ru', 'RU', Buffer.from(block('receiver-seed'), 'hex'));
      node.pin(JSON.parse(block('sender-descriptor')), '10565 22880 29447 22884 16547 67957 54184 75456');
      writeFileSync(join(dir, 'to-ru.json'), block('carriage-envelopes'));
      const expected = JSON.parse(block('carriage-receipts')) as ReceiptsFile;
      const out = importEnvelopesFile(node, join(dir, 'to-ru.json'), Date.parse(expected.exported_at)); // run "at 14:20"
      expect(out.receipts).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('JCS: UTF-16 member order and ECMAScript numbers (RFC 8785 section 3.2)', () => {
    const names = { '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\ud83d\ude00': 5, '\u0080': 6, '\u00f6': 7, a: 8, 'é': 9 };
    expect(Object.keys(JSON.parse(canonicalize(names)) as object).length).toBe(9);
    expect(canonicalize(names)).toBe('{"\\r":2,"1":4,"a":8,"\u0080":6,"é":9,"\u00f6":7,"\u20ac":1,"\ud83d\ude00":5,"\ufb33":3}');
    const rfc = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}') as unknown;
    expect(canonicalize(rfc)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
    expect(canonicalize([1e21, 0.1, -0, 5e-324, 1e-7, 2 ** 53 - 1])).toBe('[1e+21,0.1,0,5e-324,1e-7,9007199254740991]');
    expect(() => canonicalize({ s: '\ud800' })).toThrow(/surrogate/);
    expect(() => canonicalize([Infinity])).toThrow(/not a JSON number/);
  });
});
