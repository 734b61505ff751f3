import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistinctCounter, PendingKeys, SEEN_START_MAX, SeenKeys, keyOf } from './feeds.dedupe.js';
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
  it('a repeat within the window (to the hour) is a duplicate; after it, the record is reported again', () => {
    const keys = new SeenKeys(4);
    const k = new Int32Array(2);
    keyOf(rec({}), k);
    const h = (n: number): number => Math.floor(Date.UTC(2026, 10, 30) / 60_000) + 60 * n;
    expect(keys.seen(k[0]!, k[1]!, h(0), 24 * 60)).toBe(false);
    expect(keys.seen(k[0]!, k[1]!, h(23), 24 * 60)).toBe(true);
    expect(keys.seen(k[0]!, k[1]!, h(-23), 24 * 60)).toBe(true);
    expect(keys.seen(k[0]!, k[1]!, h(24), 24 * 60)).toBe(false);
    expect(keys.seen(k[0]!, k[1]!, h(25), 24 * 60)).toBe(true);
    // A window of 0 turns deduplication off.
    expect(keys.seen(k[0]!, k[1]!, h(25), 0)).toBe(false);
    // What the store gives back at the next run counts too.
    const next = new SeenKeys();
    next.load(k[0]!, k[1]!, h(24));
    expect(next.seen(k[0]!, k[1]!, h(30), 24 * 60)).toBe(true);
  });

  it('starts at a bounded size whatever the estimate, and grows shard by shard keeping every key', () => {
    // A 2.5 GB upload once meant a table for 50 million keys (471 MB) before the first row.
    const big = new SeenKeys(50_000_000);
    expect(big.slots).toBeLessThanOrEqual(Math.ceil(SEEN_START_MAX / 0.85) + 64 * 64);
    const keys = new SeenKeys(0);
    const start = keys.slots;
    const min = Math.floor(Date.UTC(2026, 10, 30) / 60_000);
    let x = 12345;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) | 0);
    const all: [number, number][] = [];
    let wrong = 0;
    for (let i = 0; i < 300_000; i++) {
      const k: [number, number] = [next(), next()];
      all.push(k);
      if (keys.seen(k[0], k[1], min, 60)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(keys.slots).toBeGreaterThan(start);
    expect(keys.slots).toBeLessThan(300_000 / 0.5);
    expect(keys.count).toBe(300_000);
    for (const [hi, lo] of all) if (!keys.seen(hi, lo, min, 60)) wrong++;
    expect(wrong).toBe(0);
  });

  it('pending keys come back as rows once, in order', () => {
    const p = new PendingKeys();
    for (let i = 0; i < 5000; i++) p.push(i, -i, i * 2);
    const rows = p.take(7);
    expect(rows).toHaveLength(5000);
    expect(rows[4999]).toEqual({ hi: 4999, lo: -4999, seen_min: 9998, stored_at: 7 });
    expect(p.take(8)).toEqual([]);
  });

  it('counts distinct addresses: exactly when few, within 2% when many', () => {
    const c = new DistinctCounter();
    for (let i = 0; i < 50; i++) for (const ip of ['192.0.2.1', '192.0.2.2', '2001:db8::1']) c.add(ip);
    expect(c.estimate()).toBe(3);
    const big = new DistinctCounter();
    for (let i = 0; i < 200_000; i++) big.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(Math.abs(big.estimate() - 200_000) / 200_000).toBeLessThan(0.02);
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
    const base = Math.floor(Date.UTC(2026, 0, 1) / 3_600_000) * 60;
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer(), fc.integer(), fc.nat({ max: 100 })), { maxLength: 3000 }), (ops) => {
      const keys = new SeenKeys(1);
      const model = new Map<string, number>();
      for (const [hi, lo, hour] of ops) {
        // Keys differ in their high half and the top 16 bits of the low one (the table's fingerprint).
        const key = `${hi},${lo & 0xffff0000}`;
        const m = model.get(key);
        const dup = m !== undefined && Math.abs(m - hour) < 10;
        expect(keys.seen(hi, lo, base + 60 * hour, 600)).toBe(dup);
        if (!dup) model.set(key, hour);
      }
      expect(keys.count).toBe(model.size);
    }), { numRuns: 50 });
  });
});
