import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime, parseIsoTime } from './clock.js';

/** The earlier parser, kept as the oracle: Date.parse, then a round trip to refuse what it rolled over. */
function oracle(s: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(s)) return Number.NaN;
  const ms = Date.parse(s);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== s.slice(0, 19)) return Number.NaN;
  return ms;
}

const digits = (n: number, max: number): fc.Arbitrary<string> => fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0'));

/** Timestamps of the right shape, many of them no real instant (month 13, Feb 30, hour 24, second 60). */
const shaped = fc.tuple(digits(4, 9999), digits(2, 19), digits(2, 39), digits(2, 29), digits(2, 69), digits(2, 69), fc.option(fc.stringMatching(/^\d{1,9}$/)))
  .map(([y, mo, d, h, mi, s, f]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${f === null ? '' : `.${f}`}Z`);

describe('parseIsoTime', () => {
  it('gives what Date.parse with a round-trip check gives, for every string of the shape, valid or not', () => {
    fc.assert(fc.property(shaped, (s) => Object.is(parseIsoTime(s), oracle(s))), { numRuns: 20_000 });
  });

  it('reads back every instant isoTime writes, from year 0 to 9999', () => {
    const first = new Date(Date.UTC(2000, 0, 1)).setUTCFullYear(0);
    fc.assert(fc.property(fc.integer({ min: first, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
      expect(parseIsoTime(isoTime(ms))).toBe(ms);
    }), { numRuns: 20_000 });
  });

  it('refuses what is not a real instant or not of the form', () => {
    for (const s of ['2026-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T23:59:60Z', '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T00:00:00', '2026-01-01T00:00:00+00:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00.Z', '']) {
      expect(parseIsoTime(s), s).toBeNaN();
    }
    expect(parseIsoTime('2024-02-29T23:59:59.9Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 900));
    expect(parseIsoTime('0004-02-29T01:02:03.004987Z')).toBe(oracle('0004-02-29T01:02:03.004987Z'));
  });
});
