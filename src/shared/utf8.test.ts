import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Utf8Buffer } from './utf8.js';

describe('Utf8Buffer', () => {
  it('holds exactly the UTF-8 of what was written, in order, however small it started (it grows)', () => {
    const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 2000 }), fc.string({ unit: 'grapheme-ascii', maxLength: 50 }), fc.integer({ min: 0, max: 127 }));
    fc.assert(fc.property(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 0, max: 5000 }), (pieces, size) => {
      const out = new Utf8Buffer(size);
      for (const p of pieces) {
        if (typeof p === 'number') out.byte(p);
        else out.text(p);
      }
      const expected = Buffer.concat(pieces.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p, 'utf8'))));
      expect(out.bytes().equals(expected)).toBe(true);
    }), { numRuns: 300 });
  });

  it('writes astral characters, lone surrogates (as U+FFFD) and an empty text as Buffer.from does', () => {
    const texts = ['', 'é', '\u{1F600}', '\uD800', 'a\uDC00b', 'x'.repeat(3000)];
    const out = new Utf8Buffer(0);
    for (const t of texts) out.text(t);
    expect(out.bytes().toString('hex')).toBe(Buffer.from(texts.join(''), 'utf8').toString('hex'));
  });
});
