import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fingerprint, generateKeys, loadKeys, publicKeyFromB64, signText, verifyText } from './identity.keys.js';

describe('identity keys', () => {
  const { keys, privatePem } = generateKeys();
  const other = generateKeys().keys;

  it('round-trips the private key through PEM', () => {
    const again = loadKeys(privatePem);
    expect(again.publicKeyB64).toBe(keys.publicKeyB64);
  });

  it('signs and verifies any text, and rejects any other text or key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const sig = signText(keys.privateKey, a);
        expect(verifyText(publicKeyFromB64(keys.publicKeyB64), a, sig)).toBe(true);
        expect(verifyText(other.publicKey, a, sig)).toBe(false);
        if (a !== b) expect(verifyText(keys.publicKey, b, sig)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a signature with any single bit flipped', () => {
    const sig = Buffer.from(signText(keys.privateKey, 'hello'), 'base64url');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sig.length * 8 - 1 }), (bit) => {
        const bad = Buffer.from(sig);
        bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
        expect(verifyText(keys.publicKey, 'hello', bad.toString('base64url'))).toBe(false);
      }),
    );
  });

  it('shows a fingerprint as eight groups of five digits, stable for a key and distinct across keys', () => {
    const fp = fingerprint(keys.publicKeyB64);
    expect(fp).toMatch(/^(\d{5} ){7}\d{5}$/);
    expect(fingerprint(keys.publicKeyB64)).toBe(fp);
    expect(fingerprint(other.publicKeyB64)).not.toBe(fp);
  });

  it('refuses a malformed public key', () => {
    expect(() => publicKeyFromB64('not-a-key')).toThrow(/32 bytes/);
  });

  // Verification is libsodium's (docs/decisions/0008); signing and the key files are node:crypto's.
  const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
  const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
  const rawKey = (raw: Buffer) => createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });

  it('verifies the RFC 8032 test vectors, and signs them byte for byte', () => {
    const vectors = [ // RFC 8032 section 7.1, TEST 1 and TEST 2 (the messages that are UTF-8 text)
      { seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', text: '',
        sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b' },
      { seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', text: 'r',
        sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00' },
    ];
    for (const v of vectors) {
      const key = publicKeyFromB64(Buffer.from(v.pub, 'hex').toString('base64url'));
      const sig = Buffer.from(v.sig, 'hex').toString('base64url');
      expect(verifyText(key, v.text, sig)).toBe(true);
      expect(verifyText(key, `${v.text}.`, sig)).toBe(false);
      const priv = createPrivateKey({ key: Buffer.concat([PKCS8, Buffer.from(v.seed, 'hex')]), format: 'der', type: 'pkcs8' });
      expect(signText(priv, v.text)).toBe(sig);
    }
  });

  it('accepts exactly what OpenSSL accepts for honest keys, the signature altered or not', () => {
    const pool = [keys, other, generateKeys().keys];
    fc.assert(
      fc.property(fc.nat(2), fc.string({ unit: 'binary' }), fc.option(fc.nat(64 * 8 - 1)), fc.option(fc.string({ unit: 'binary' })), (k, text, flip, otherText) => {
        const { privateKey, publicKey } = pool[k]!;
        const sig = Buffer.from(signText(privateKey, text), 'base64url');
        if (flip !== null) sig[flip >> 3] = sig[flip >> 3]! ^ (1 << (flip & 7));
        const checked = otherText ?? text;
        const openssl = verify(null, Buffer.from(checked, 'utf8'), publicKey, sig);
        expect(verifyText(publicKey, checked, sig.toString('base64url'))).toBe(openssl);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a signature re-spelt with S + L, which a lax verifier would take as a second valid signature', () => {
    const sig = Buffer.from(signText(keys.privateKey, 'hello'), 'base64url');
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    s += L;
    for (let i = 0; i < 32; i++) { sig[32 + i] = Number(s & 0xffn); s >>= 8n; }
    expect(verifyText(keys.publicKey, 'hello', sig.toString('base64url'))).toBe(false);
  });

  it('refuses a small-order key, under which OpenSSL takes one "signature" for every text', () => {
    const identity = Buffer.alloc(32);
    identity[0] = 1; // the neutral point: R = identity and S = 0 satisfy the equation for any text
    const forged = Buffer.alloc(64);
    forged[0] = 1;
    for (const text of ['I never sent this', 'nor this']) {
      expect(verify(null, Buffer.from(text, 'utf8'), rawKey(identity), forged)).toBe(true); // why OpenSSL does not check
      expect(verifyText(rawKey(identity), text, forged.toString('base64url'))).toBe(false);
    }
    expect(() => publicKeyFromB64(identity.toString('base64url'))).toThrow(/prime-order subgroup/);
    expect(() => publicKeyFromB64(Buffer.alloc(32).toString('base64url'))).toThrow(/prime-order subgroup/);
  });
});
