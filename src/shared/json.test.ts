import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseJsonBytes } from './json.js';
import { isHotlineError } from './errors.js';

const parse = (bytes: Uint8Array): unknown => parseJsonBytes(bytes, { what: 'The body' });
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isHotlineError(e) ? e.code : 'not a HotlineError';
  }
  return undefined;
};

describe('parseJsonBytes', () => {
  it('parses any JSON value from its UTF-8 bytes, ASCII or not, and from a slice of a larger buffer', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.boolean(), (v, ascii) => {
      // JSON.stringify escapes nothing above U+001F; the ASCII form escapes every other code unit too.
      let text = JSON.stringify(v) ?? 'null';
      if (ascii) text = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      const bytes = Buffer.from(`xx${text}yy`, 'utf8').subarray(2, -2);
      expect(parse(bytes)).toEqual(JSON.parse(text));
    }), { numRuns: 500 });
  });

  it('refuses bytes that are not UTF-8, and a lone surrogate even when escaped in ASCII; skips a byte order mark', () => {
    expect(codeOf(() => parse(Buffer.from([0x22, 0xff, 0x22])))).toBe('invalid_unicode');
    expect(codeOf(() => parse(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])))).toBe('invalid_unicode');
    expect(codeOf(() => parse(Buffer.from('"\\ud800"')))).toBe('invalid_unicode');
    expect(parse(Buffer.from('\ufeff{"a":"é"}', 'utf8'))).toEqual({ a: 'é' });
    expect(codeOf(() => parse(Buffer.from('{"a":')))).toBe('malformed_json');
    expect(codeOf(() => parse(Buffer.from('  ')))).toBe('malformed_json');
  });
});
