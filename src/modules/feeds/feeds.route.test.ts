import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenKeys, keyOf } from './feeds.dedupe.js';
import { buildRouter, checkJurisdiction } from './feeds.route.js';
import type { FeedRecord } from './feeds.types.js';

const rec = (over: Partial<FeedRecord>): FeedRecord => ({
  line: 1, ip: '203.0.113.1', port: 80, timestamp: Date.UTC(2026, 10, 30), type: 'infected-host', family: 'mirai', source: 't',
  asn: null, country: null, c2_ip: null, c2_port: null, protocol: null, hostname: null, ...over,
});

describe('routing by jurisdiction: prefix, then ASN, then country', () => {
  const router = buildRouter([
    checkJurisdiction({ party: 'us', countries: ['us'], prefixes: ['192.0.2.0/24'] }),
    checkJurisdiction({ party: 'ru', countries: ['RU'], asns: ['AS64500'], prefixes: ['198.51.100.0/24', '2001:db8:1::/48'] }),
    checkJurisdiction({ party: 'fr', countries: ['FR'], prefixes: ['198.51.100.128/25'] }),
  ]);
  it.each([
    [{ ip: '192.0.2.9', country: 'RU', asn: 64500 }, 'us', 'a prefix beats the ASN and the country'],
    [{ ip: '198.51.100.200' }, 'fr', 'the most specific prefix wins'],
    [{ ip: '198.51.100.20' }, 'ru', 'the wider prefix holds the rest'],
    [{ asn: 64500, country: 'FR' }, 'ru', 'an ASN beats a country'],
    [{ country: 'FR' }, 'fr', 'then the country'],
    [{ country: 'DE' }, null, 'nobody\'s'],
    [{ ip: '2001:db8:1:2::9' }, 'ru', 'IPv6 prefixes'],
    [{ ip: '::ffff:192.0.2.1' }, 'us', 'an IPv4-mapped address is its IPv4 address'],
  ] as [Partial<FeedRecord>, string | null, string][])('%j → %s (%s)', (over, party) => {
    expect(router.route(rec(over))).toBe(party);
  });

  it('refuses two parties claiming the same country, AS or prefix, naming both', () => {
    expect(() => buildRouter([checkJurisdiction({ party: 'ru', countries: ['RU'] }), checkJurisdiction({ party: 'by', countries: ['RU'] })])).toThrow(/Country RU is claimed by both ru and by/);
    expect(() => buildRouter([checkJurisdiction({ party: 'ru', asns: [1] }), checkJurisdiction({ party: 'by', asns: ['AS1'] })])).toThrow(/AS1 is claimed by both/);
    expect(() => buildRouter([checkJurisdiction({ party: 'ru', prefixes: ['10.0.0.0/8'] }), checkJurisdiction({ party: 'by', prefixes: ['10.0.0.0/8'] })])).toThrow(/Prefix 10.0.0.0\/8 is claimed by both/);
  });

  it.each([
    [{ party: 'ru', countries: ['RUS'] }, /not an ISO 3166-1 alpha-2/],
    [{ party: 'ru', asns: ['ASX'] }, /not an AS number/],
    [{ party: 'ru', asns: ['4294967296'] }, /not an AS number/],
    [{ party: 'ru', prefixes: ['10.0.0.1/8'] }, /prefix/],
    [{ party: 'RU' }, /not a party id/],
  ])('refuses a bad jurisdiction %j', (j, message) => {
    expect(() => checkJurisdiction(j)).toThrow(message);
  });
});

describe('deduplication keys', () => {
  it('a repeat within the window is a duplicate; after it, the record is reported again', () => {
    const keys = new SeenKeys(4);
    const k = new Int32Array(2);
    keyOf(rec({}), k);
    expect(keys.seen(k[0]!, k[1]!, 1000, 60)).toBe(false);
    expect(keys.seen(k[0]!, k[1]!, 1059, 60)).toBe(true);
    expect(keys.seen(k[0]!, k[1]!, 941, 60)).toBe(true);
    expect(keys.seen(k[0]!, k[1]!, 1060, 60)).toBe(false);
    expect(keys.drainDirty(5).map((r) => r.seen_min)).toEqual([1060]);
  });

  it('every field of the key matters: ip, port, type, family', () => {
    const base = rec({});
    const variants = [base, rec({ ip: '203.0.113.2' }), rec({ port: 81 }), rec({ port: null }), rec({ type: 'c2-server' }), rec({ family: 'emotet' }), rec({ family: null })];
    const seen = new Set(variants.map((r) => {
      const k = new Int32Array(2);
      keyOf(r, k);
      return `${k[0]},${k[1]}`;
    }));
    expect(seen.size).toBe(variants.length);
  });

  it('behaves like a set of keys through growth, loads and holds (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer(), fc.integer(), fc.nat({ max: 100 })), { maxLength: 3000 }), (ops) => {
      const keys = new SeenKeys(1);
      const model = new Map<string, number>();
      for (const [hi, lo, min] of ops) {
        const m = model.get(`${hi},${lo}`);
        const dup = m !== undefined && Math.abs(m - min) < 10;
        expect(keys.seen(hi, lo, min, 10)).toBe(dup);
        if (!dup) model.set(`${hi},${lo}`, min);
      }
      expect(keys.count).toBe(model.size);
      const written = new Map(keys.drainDirty(1).map((r) => [`${r.hi},${r.lo}`, r.seen_min]));
      expect(written).toEqual(model);
      // A key held back is not written with the others, and is once put back.
      if (ops.length > 0) {
        const [hi, lo] = ops[0]!;
        keys.seen(hi ^ 0x5a5a, lo ^ 0x1234, 5000, 10);
        const back = keys.holdLast();
        expect(keys.drainDirty(2)).toEqual([]);
        back();
        expect(keys.drainDirty(3)).toHaveLength(1);
      }
    }), { numRuns: 50 });
  });
});
