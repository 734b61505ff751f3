import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256Hex } from '../../shared/canonical.js';
import { generateKeys } from '../identity/identity.keys.js';
import { canonicalJson } from '../../shared/canonical.js';
import { envelopeHash, parseEnvelope, readEnvelope, signEnvelope, verifyEnvelope, verifyEnvelopeText } from './federation.envelope.js';
import { CHANNELS, DEFAULT_LIMITS, GENESIS_HASH, KINDS, PRIORITIES, TLPS, type UnsignedEnvelope } from './federation.types.js';

const { keys } = generateKeys();
const other = generateKeys().keys;

const unsignedArb: fc.Arbitrary<UnsignedEnvelope> = fc.record({
  v: fc.constant(1 as const),
  id: fc.uuid({ version: 7 }),
  from: fc.constantFrom('us', 'ru', 'cn'),
  to: fc.constantFrom('de', 'fr'),
  seq: fc.integer({ min: 1, max: 1_000_000 }),
  prev: fc.constant(GENESIS_HASH),
  sent_at: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  kind: fc.constantFrom(...KINDS),
  channel: fc.constantFrom(...CHANNELS),
  case: fc.uuid({ version: 7 }),
  in_reply_to: fc.option(fc.uuid({ version: 4 }), { nil: null }),
  priority: fc.constantFrom(...PRIORITIES),
  tlp: fc.constantFrom(...TLPS),
  body: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
});

describe('envelope signatures', () => {
  it('a signed envelope verifies, parses, and hashes the same after any re-serialisation', () => {
    fc.assert(fc.property(unsignedArb, (u) => {
      const e = signEnvelope(u, keys.privateKey);
      expect(verifyEnvelope(e, [keys.publicKey])).toBe(true);
      expect(verifyEnvelope(e, [other.publicKey])).toBe(false);
      const again = JSON.parse(JSON.stringify(e, null, 3)) as typeof e;
      expect(verifyEnvelope(parseEnvelope(again, DEFAULT_LIMITS), [keys.publicKey])).toBe(true);
      expect(envelopeHash(again)).toBe(envelopeHash(e));
    }), { numRuns: 200 });
  });

  it('detects a change to any field', () => {
    const fields = ['id', 'from', 'to', 'seq', 'prev', 'sent_at', 'kind', 'channel', 'case', 'in_reply_to', 'priority', 'tlp', 'body'] as const;
    fc.assert(fc.property(unsignedArb, fc.constantFrom(...fields), (u, field) => {
      const e = signEnvelope(u, keys.privateKey);
      const tampered = { ...e } as Record<string, unknown>;
      const changes: Record<(typeof fields)[number], unknown> = {
        id: '00000000-0000-7000-8000-000000000000', from: 'xx', to: 'yy', seq: e.seq + 1, prev: 'f'.repeat(64),
        sent_at: '1999-01-01T00:00:00.000Z', kind: e.kind === 'ping' ? 'pong' : 'ping', channel: e.channel === 'law' ? 'cert' : 'law',
        case: '00000000-0000-7000-8000-000000000001', in_reply_to: e.in_reply_to === null ? '00000000-0000-4000-8000-000000000000' : null,
        priority: e.priority === 'flash' ? 'routine' : 'flash', tlp: e.tlp === 'red' ? 'clear' : 'red', body: { ...e.body, tampered: true },
      };
      tampered[field] = changes[field];
      expect(verifyEnvelope(tampered as unknown as typeof e, [keys.publicKey])).toBe(false);
    }), { numRuns: 300 });
  });

  it('refuses unknown fields and out-of-vocabulary values with their own codes', () => {
    const e = signEnvelope(fc.sample(unsignedArb, 1)[0]!, keys.privateKey);
    const code = (v: unknown): string => {
      try {
        parseEnvelope(v, DEFAULT_LIMITS);
        return 'ok';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    expect(code(e)).toBe('ok');
    expect(code({ ...e, extra: 1 })).toBe('invalid_envelope');
    expect(code({ ...e, kind: 'gossip' })).toBe('unknown_kind');
    expect(code({ ...e, channel: 'press' })).toBe('unknown_channel');
    expect(code({ ...e, priority: 'urgent' })).toBe('unknown_priority');
    expect(code({ ...e, tlp: 'white' })).toBe('unknown_tlp');
    expect(code({ ...e, seq: 0 })).toBe('invalid_envelope');
    expect(code({ ...e, sent_at: '2026-01-01 10:00' })).toBe('invalid_envelope');
    expect(code({ ...e, body: { text: 'x'.repeat(DEFAULT_LIMITS.maxBodyBytes) } })).toBe('body_too_large');
    expect(code([e])).toBe('invalid_envelope');
  });

  it('names a missing member, whichever it is, with invalid_envelope (not "Unknown kind undefined")', () => {
    const e = signEnvelope(fc.sample(unsignedArb, 1)[0]!, keys.privateKey) as unknown as Record<string, unknown>;
    for (const member of ['v', 'id', 'from', 'to', 'seq', 'prev', 'sent_at', 'kind', 'channel', 'case', 'in_reply_to', 'priority', 'tlp', 'body', 'sig']) {
      const { [member]: _gone, ...rest } = e;
      expect(() => parseEnvelope(rest, DEFAULT_LIMITS), member).toThrow(expect.objectContaining({ code: 'invalid_envelope', message: `missing member "${member}"` }) as Error);
    }
  });

  it('attachments: unpadded or non-canonical base64 is a base64 error, not a size mismatch; a missing or unknown member is named', () => {
    const bytes = Buffer.from('hello');
    const att = { name: 'a.txt', media_type: 'text/plain', size: 5, sha256: sha256Hex(bytes), content: bytes.toString('base64') };
    const u = fc.sample(unsignedArb, 1)[0]!;
    const message = (a: Record<string, unknown>): string => {
      try {
        parseEnvelope(signEnvelope({ ...u, attachments: [a] } as unknown as UnsignedEnvelope, keys.privateKey), DEFAULT_LIMITS);
        return 'ok';
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
    };
    expect(message(att)).toBe('ok');
    expect(att.content).toBe('aGVsbG8=');
    expect(message({ ...att, content: 'aGVsbG8' })).toBe('invalid_envelope: attachments[0].content is not padded base64: its length, 7, is not a multiple of 4 (add "=" padding)');
    expect(message({ ...att, content: 'aGVsbG9=' })).toMatch(/^invalid_envelope: attachments\[0\]\.content is not canonical base64/);
    expect(message({ ...att, content: 'aGVs\nbG8=' })).toMatch(/^invalid_envelope: attachments\[0\]\.content is not base64: only A-Z/);
    expect(message({ ...att, content: 'aGVsbG8_' })).toMatch(/is not base64/);
    const { sha256: _s, ...noHash } = att;
    expect(message(noHash)).toBe('invalid_envelope: attachments[0]: missing member "sha256"');
    expect(message({ ...att, extra: 1 })).toBe('invalid_envelope: attachments[0]: unknown member "extra"');
    expect(message({ ...att, size: 4 })).toBe('invalid_envelope: attachments[0].size is 4 but the content has 5 bytes');
  });
});

describe('readEnvelope: one canonicalisation per envelope', () => {
  // Bodies whose own members look like the envelope's (case, sig, body) at any depth.
  const tricky = fc.dictionary(fc.constantFrom('case', 'sig', 'body', 'text', 'a', '"', 'z'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
    .map((b) => ({ ...b, nested: { case: b.case ?? 'x', sig: 'y', list: [{ case: 1 }] } }));

  it('gives the canonical text, measures the body and verifies the signature exactly as canonicalising each again would', () => {
    fc.assert(fc.property(unsignedArb, tricky, (u, body) => {
      const e = signEnvelope({ ...u, body }, keys.privateKey);
      const { env, text } = readEnvelope(JSON.parse(JSON.stringify(e)), DEFAULT_LIMITS);
      expect(text).toBe(canonicalJson(e));
      expect(verifyEnvelopeText(env, text, [keys.publicKey])).toBe(true);
      expect(verifyEnvelopeText(env, text, [other.publicKey])).toBe(false);
      const tampered = { ...env, body: { ...env.body, extra: 1 } };
      expect(verifyEnvelopeText(tampered, canonicalJson(tampered), [keys.publicKey])).toBe(false);
      // The body limit is compared with the body's own canonical size, to the byte.
      const size = Buffer.byteLength(canonicalJson(e.body), 'utf8');
      expect(() => readEnvelope(e, { ...DEFAULT_LIMITS, maxBodyBytes: size })).not.toThrow();
      expect(() => readEnvelope(e, { ...DEFAULT_LIMITS, maxBodyBytes: size - 1 })).toThrow(/body is \d+ bytes/);
    }), { numRuns: 200 });
  });
});
