import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHotlineError } from '../../shared/errors.js';
import { bigIntToV6, formatIPv4, formatIPv6, parseIPv4 } from '../../shared/ip.js';
import { PrefixTable, RangesV4Builder, RangesV6Builder } from './feeds.ranges.js';

const MAX4 = 0xffffffff;
const MAX6 = (1n << 128n) - 1n;

/** Rows sorted by start, often nested, touching or overlapping, some across 64K bucket edges. */
function rowsOf<K extends number | bigint>(points: K[][], toK: (x: number | bigint) => K): [K, K, number][] {
  return points
    .map(([a, b]) => (a !== undefined && b !== undefined ? (a <= b ? [a, b] : [b, a]) : [toK(0), toK(0)]) as [K, K])
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map(([s, e], i) => [s, e, i]);
}

/** The painter's rule, naively: the last row holding x. */
function painter<K extends number | bigint>(rows: [K, K, number][], x: K): number {
  let v = -1;
  for (const [s, e, value] of rows) if (s <= x && x <= e) v = value;
  return v;
}

describe('range tables', () => {
  it('IPv4: lookups after flattening agree with the painter\'s rule, at every edge', () => {
    const near = fc.oneof(fc.integer({ min: 0, max: MAX4 }), fc.integer({ min: 0x0a00fff0, max: 0x0a010010 }), fc.constantFrom(0, MAX4));
    fc.assert(
      fc.property(fc.array(fc.tuple(near, near), { maxLength: 30 }), fc.array(near, { maxLength: 20 }), (pts, probes) => {
        const rows = rowsOf<number>(pts, Number);
        const b = new RangesV4Builder();
        for (const [s, e, v] of rows) b.add(s, e, v);
        const t = b.build();
        for (let i = 1; i < t.size; i++) expect(t.starts[i] ?? 0).toBeGreaterThan(t.ends[i - 1] ?? 0); // sorted, disjoint
        const edges = rows.flatMap(([s, e]) => [s, e, s - 1, e + 1]).filter((x) => x >= 0 && x <= MAX4);
        for (const x of [...probes, ...edges]) {
          const i = t.find(x);
          expect(i < 0 ? -1 : t.values[i]).toBe(painter(rows, x));
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('IPv6: the same, over words', () => {
    const near = fc.oneof(fc.bigInt({ min: 0n, max: MAX6 }), fc.bigInt({ min: 0x20010db8n << 96n, max: (0x20010db8n << 96n) + 40n }), fc.constantFrom(0n, MAX6));
    fc.assert(
      fc.property(fc.array(fc.tuple(near, near), { maxLength: 30 }), fc.array(near, { maxLength: 20 }), (pts, probes) => {
        const rows = rowsOf<bigint>(pts, BigInt);
        const b = new RangesV6Builder();
        for (const [s, e, v] of rows) b.add(s, e, v);
        const t = b.build();
        const edges = rows.flatMap(([s, e]) => [s, e, s - 1n, e + 1n]).filter((x) => x >= 0n && x <= MAX6);
        for (const x of [...probes, ...edges]) {
          const i = t.find(bigIntToV6(x));
          expect(i < 0 ? -1 : t.values[i]).toBe(painter(rows, x));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('IPv6: hundreds of ranges packed into a few /64s, so the sampled search meets ties', () => {
    const slash64 = fc.constantFrom(0x20010db8_00000000n, 0x20010db8_00000001n, 0x2a000000_00000000n).map((p) => p << 64n);
    const near = fc.tuple(slash64, fc.oneof(fc.bigInt({ min: 0n, max: 500n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }))).map(([p, low]) => p + low);
    fc.assert(
      fc.property(fc.array(fc.tuple(near, near), { minLength: 100, maxLength: 400 }), fc.array(near, { maxLength: 50 }), (pts, probes) => {
        const rows = rowsOf<bigint>(pts, BigInt);
        const b = new RangesV6Builder();
        for (const [s, e, v] of rows) b.add(s, e, v);
        const t = b.build();
        const edges = rows.flatMap(([s, e]) => [s, e, s - 1n, e + 1n]);
        for (const x of [...probes, ...edges]) {
          const i = t.find(bigIntToV6(x));
          expect(i < 0 ? -1 : t.values[i]).toBe(painter(rows, x));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('an empty table finds nothing', () => {
    expect(new RangesV4Builder().build().find(123)).toBe(-1);
    expect(new RangesV6Builder().build().find(new Uint32Array(4))).toBe(-1);
  });
});

describe('PrefixTable', () => {
  const table = PrefixTable.build<string>([
    ['203.0.113.0/24', 'fr'],
    ['203.0.113.128/25', 'de'],
    ['203.0.113.200/32', 'nl'],
    ['0.0.0.0/0', 'domestic'],
    ['2001:db8::/32', 'fr'],
    ['2001:db8:ab00::/40', 'de'],
  ]);

  it('answers with the most specific prefix', () => {
    expect(table.lookup('203.0.113.1')).toBe('fr');
    expect(table.lookup('203.0.113.127')).toBe('fr');
    expect(table.lookup('203.0.113.128')).toBe('de');
    expect(table.lookup('203.0.113.200')).toBe('nl');
    expect(table.lookup('203.0.113.201')).toBe('de');
    expect(table.lookup('203.0.114.0')).toBe('domestic');
    expect(table.lookup('::ffff:203.0.113.200')).toBe('nl');
    expect(table.lookupV4(parseIPv4('203.0.113.255'))).toBe('de');
    expect(table.lookup('2001:db8:ab12::1')).toBe('de');
    expect(table.lookup('2001:db8:ac00::')).toBe('fr');
    expect(table.lookup('2001:db9::')).toBeUndefined();
    expect(table.lookup('not an address')).toBeUndefined();
    expect(table.prefixes).toHaveLength(6);
  });

  it('refuses a prefix claimed twice with different values, and a malformed one', () => {
    expect(() => PrefixTable.build([['10.0.0.0/8', 'a'], ['10.0.0.0/8', 'a']])).not.toThrow();
    for (const entries of [[['10.0.0.0/8', 'a'], ['10.0.0.0/8', 'b']], [['10.0.0.1/8', 'a']]] as [string, string][][]) {
      try {
        PrefixTable.build(entries);
        expect.unreachable();
      } catch (e) {
        expect(isHotlineError(e) && e.code).toBe('invalid_argument');
      }
    }
  });

  it('agrees with a naive longest-prefix match', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: MAX4 }), fc.integer({ min: 0, max: 32 })).map(([a, p]) => {
      const net = p === 0 ? 0 : Number((BigInt(a) >> BigInt(32 - p)) << BigInt(32 - p));
      return { text: `${formatIPv4(net)}/${p}`, net: BigInt(net), p, bits: 32 };
    });
    const v6 = fc.tuple(fc.bigInt({ min: 0x2000n << 112n, max: (0x2001n << 112n) - 1n }), fc.integer({ min: 16, max: 128 })).map(([a, p]) => {
      const net = (a >> BigInt(128 - p)) << BigInt(128 - p);
      return { text: `${formatIPv6(bigIntToV6(net))}/${p}`, net, p, bits: 128 };
    });
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(v4, v6), { selector: (x) => x.text, maxLength: 25 }), fc.array(fc.nat(), { maxLength: 20 }), (prefixes, picks) => {
        const t = PrefixTable.build(prefixes.map((x, i) => [x.text, i] as const));
        const probes = picks.flatMap((k) => {
          const x = prefixes[k % Math.max(1, prefixes.length)];
          if (x === undefined) return [];
          const host = (1n << BigInt(x.bits - x.p)) - 1n;
          return [{ a: x.net, bits: x.bits }, { a: x.net | host, bits: x.bits }, { a: x.net | (BigInt(k) & host), bits: x.bits }, { a: (x.net | host) + 1n, bits: x.bits }];
        });
        for (const { a, bits } of probes) {
          if (a >= 1n << BigInt(bits)) continue;
          let best = -1;
          let bestP = -1;
          for (const [i, x] of prefixes.entries()) {
            if (x.bits === bits && a >> BigInt(bits - x.p) === x.net >> BigInt(bits - x.p) && x.p > bestP) [best, bestP] = [i, x.p];
          }
          const text = bits === 32 ? formatIPv4(Number(a)) : formatIPv6(bigIntToV6(a));
          expect(t.lookup(text) ?? -1).toBe(best);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
