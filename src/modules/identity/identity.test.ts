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
});
