import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyData, copyField, copyLine } from './copy.js';

/** COPY's text format read back (the server's side), for the test only. */
function parse(data: string): (string | null)[][] {
  return data.split('\n').slice(0, -1).map((line) => line.split('\t').map((f) => (f === '\\N' ? null : f.replace(/\\(.)/g, (_m, c: string) => ({ t: '\t', n: '\n', r: '\r' } as Record<string, string>)[c] ?? c))));
}

describe('COPY text format', () => {
  it('writes nulls, numbers and texts, escaping only what COPY gives a meaning', () => {
    expect(copyLine([1, null, 'a\tb', 'c\\d', 'e\nf\r', '\\N', ''])).toBe('1\t\\N\ta\\tb\tc\\\\d\te\\nf\\r\t\\\\N\t\n');
    expect(() => copyField(Number.NaN)).toThrow(/finite/);
  });

  it('gives back every row exactly, in one buffer however long the rows (it grows)', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 3000 }), fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 5 }), { maxLength: 20 }), (rows) => {
      const texts = rows.map((r) => r.map((v) => (v === null ? null : String(v))));
      expect(parse(copyData(rows).toString('utf8'))).toEqual(texts);
    }), { numRuns: 300 });
  });
});
