import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/canonical.js';
import { isoTime } from '../../shared/clock.js';
import { fingerprint, generateKeys, signText, verifyText, type NodeKeys } from '../identity/identity.keys.js';
import { currentKey, judgeFresh, judgeHistoric, keysValidAt, makeKeyChangeBody, parseKeyChangeBody, type PinnedKey } from './federation.keys.js';

const [k1, k2, k3] = [generateKeys().keys, generateKeys().keys, generateKeys().keys];
const pinned = (k: NodeKeys, p: Partial<PinnedKey> = {}): PinnedKey => ({
  key: k.publicKeyB64, fingerprint: fingerprint(k.publicKeyB64), added_at: 0, valid_from: null, valid_until: null, revoked_since: null, origin: 'pinned', statement_id: null, ...p,
});
/** A verification callback for "this text, signed by `signer`". */
const signedBy = (signer: NodeKeys): ((k: import('node:crypto').KeyObject) => boolean) => {
  const sig = signText(signer.privateKey, 'hello');
  return (k) => verifyText(k, 'hello', sig);
};

describe('key history lookups', () => {
  // k1 until 2000 (rotated out at 1000 with an overlap to 2000), k2 from 1000.
  const rotated = [pinned(k1, { valid_until: 2000 }), pinned(k2, { valid_from: 1000, origin: 'key-change' })];

  it('judges a new signature by the key valid now: both during the overlap, only the new one after it (key_expired)', () => {
    expect(judgeFresh(rotated, signedBy(k1), 1500, 1500, 'us')).toMatchObject({ ok: true, laterRevoked: false });
    expect(judgeFresh(rotated, signedBy(k2), 1500, 1500, 'us')).toMatchObject({ ok: true });
    expect(judgeFresh(rotated, signedBy(k1), 1900, 2000, 'us')).toMatchObject({ ok: false, code: 'key_expired' });
    expect(judgeFresh(rotated, signedBy(k2), 9000, 9000, 'us')).toMatchObject({ ok: true });
    expect(judgeFresh(rotated, signedBy(k3), 1500, 1500, 'us')).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(keysValidAt(rotated, 1500)).toHaveLength(2);
    expect(keysValidAt(rotated, 2000)).toHaveLength(1);
    expect(currentKey(rotated)?.key).toBe(k2.publicKeyB64);
  });

  it('judges a stored signature by the key valid when it was signed', () => {
    expect(judgeHistoric(rotated, signedBy(k1), 1999, 'us')).toMatchObject({ ok: true });
    expect(judgeHistoric(rotated, signedBy(k1), 2000, 'us')).toMatchObject({ ok: false, code: 'key_expired' });
    expect(judgeHistoric(rotated, signedBy(k2), 999, 'us')).toMatchObject({ ok: false, code: 'key_not_yet_valid' });
    expect(judgeHistoric(rotated, signedBy(k2), 1000, 'us')).toMatchObject({ ok: true });
  });

  it('a revoked key: refused key_revoked at or after T, accepted and marked before T', () => {
    const revoked = [pinned(k1, { valid_until: 5000, revoked_since: 3000 }), pinned(k2, { origin: 'repinned' })];
    expect(judgeFresh(revoked, signedBy(k1), 3000, 6000, 'us')).toMatchObject({ ok: false, code: 'key_revoked' });
    expect(judgeFresh(revoked, signedBy(k1), 2999, 6000, 'us')).toMatchObject({ ok: true, laterRevoked: true });
    expect(judgeHistoric(revoked, signedBy(k1), 4000, 'us')).toMatchObject({ ok: false, code: 'key_revoked' });
    expect(judgeHistoric(revoked, signedBy(k1), 100, 'us')).toMatchObject({ ok: true, laterRevoked: true });
    expect(keysValidAt(revoked, 6000).length).toBe(1);
    expect(currentKey(revoked)?.key).toBe(k2.publicKeyB64);
  });
});

describe('the key-change body', () => {
  const body = (): Record<string, unknown> => ({ ...makeKeyChangeBody({
    change: 'rotation', party: 'us', public_key: k2.publicKeyB64, previous_key: k1.publicKeyB64,
    valid_from: isoTime(1000), overlap_until: isoTime(2000), revoked_since: null,
  }, k2.privateKey) });

  it('accepts a body vouched for by the new key', () => {
    expect(parseKeyChangeBody(body(), 'us')).toMatchObject({ change: 'rotation', fingerprint: fingerprint(k2.publicKeyB64) });
  });

  it('refuses a body whose new-key signature is wrong (signed by another key, or the content changed)', () => {
    const b = body();
    const { key_sig: _s, ...rest } = b;
    expect(() => parseKeyChangeBody({ ...b, key_sig: signText(k3.privateKey, canonicalJson(rest)) }, 'us')).toThrow(expect.objectContaining({ code: 'key_change_invalid' }));
    expect(() => parseKeyChangeBody({ ...b, overlap_until: isoTime(3000) }, 'us')).toThrow(/key_sig/);
    expect(() => parseKeyChangeBody({ ...b, key_sig: signText(k1.privateKey, canonicalJson(rest)) }, 'us')).toThrow(/does not verify/);
  });

  it('refuses a small-order new key, under which one forged key_sig would vouch for any body', () => {
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    const forged = Buffer.alloc(64);
    forged[0] = 1; // R = the neutral point, S = 0: OpenSSL takes it as a signature of every text under that key
    const weak = identity.toString('base64url');
    const b = { ...body(), public_key: weak, fingerprint: fingerprint(weak), key_sig: forged.toString('base64url') };
    expect(() => parseKeyChangeBody(b, 'us')).toThrow(expect.objectContaining({ code: 'key_change_invalid', message: expect.stringMatching(/"public_key" is not a public key/) }));
  });

  it('refuses a malformed body: members, party, fingerprint, times', () => {
    expect(() => parseKeyChangeBody({ ...body(), extra: 1 }, 'us')).toThrow(/exactly the members/);
    expect(() => parseKeyChangeBody(body(), 'ru')).toThrow(/not the sender/);
    expect(() => parseKeyChangeBody({ ...body(), fingerprint: fingerprint(k3.publicKeyB64) }, 'us')).toThrow(/fingerprint/);
    expect(() => parseKeyChangeBody({ ...body(), valid_from: 'yesterday' }, 'us')).toThrow(/RFC 3339/);
    expect(() => parseKeyChangeBody({ ...body(), change: 'rename' }, 'us')).toThrow(/"change"/);
  });
});
