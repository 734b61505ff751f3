import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHotlineError } from './errors.js';
import {
  bigIntToV6, checkCidr, cidrContains, formatCidr, formatIPv4, formatIPv6, parseCidr, parseCidrOrReason, parseIp, parseIPv4, parseIPv6, parseIPv6Into, SPECIAL_PURPOSE_PREFIXES, v6ToBigInt,
} from './ip.js';

const v6 = (s: string): string | null => {
  const w = parseIPv6(s);
  return w === null ? null : formatIPv6(w);
};
const big = (s: string): bigint | null => {
  const w = parseIPv6(s);
  return w === null ? null : v6ToBigInt(w);
};

/** Eight 16-bit groups, zero often enough that `::` runs of every length and position turn up. */
const groups = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
const wordsOf = (g: number[]): Uint32Array => Uint32Array.from([0, 1, 2, 3].map((k) => (((g[2 * k] ?? 0) << 16) | (g[2 * k + 1] ?? 0)) >>> 0));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

describe('parseIPv4', () => {
  it('reads strict dotted quads', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('203.0.113.7')).toBe(0xcb007107);
    expect(parseIPv4('10.0.0.10')).toBe(0x0a00000a);
  });

  it.each([
    '', '1', '1.2.3', '1.2.3.4.5', '256.0.0.0', '1.2.3.256', '01.2.3.4', '1.2.3.04', '0.0.0.00', '1..2.3', '.1.2.3', '1.2.3.',
    ' 1.2.3.4', '1.2.3.4 ', '+1.2.3.4', '1.2.3.-4', '0x1.2.3.4', '1.2.3.4/24', '1.2.3.4:80', '١.٢.٣.٤', '1e2.0.0.1', '1000.0.0.1',
  ])('refuses %j', (s) => {
    expect(parseIPv4(s)).toBe(-1);
  });

  it('round-trips every uint32 through formatIPv4', () => {
    fc.assert(fc.property(u32, (n) => parseIPv4(formatIPv4(n)) === n), { numRuns: 2000 });
  });

  it('accepts exactly what node:net isIPv4 accepts', () => {
    const text = fc.string({ unit: fc.constantFrom(...'0123456789..'.split('')), maxLength: 16 });
    fc.assert(fc.property(text, (s) => (parseIPv4(s) >= 0) === isIPv4(s)), { numRuns: 5000 });
  });
});

describe('parseIPv6', () => {
  it('reads the forms RFC 4291 section 2.2 allows', () => {
    expect(big('::')).toBe(0n);
    expect(big('::1')).toBe(1n);
    expect(big('1::')).toBe(1n << 112n);
    expect(v6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(v6('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0');
    expect(v6('::2:3:4:5:6:7:8')).toBe('0:2:3:4:5:6:7:8');
    expect(v6('1:2:3:4:5:6:1.2.3.4')).toBe('1:2:3:4:5:6:102:304');
    expect(v6('64:ff9b::192.0.2.33')).toBe('64:ff9b::c000:221');
    expect(v6('::ffff:1.2.3.4')).toBe('::ffff:1.2.3.4');
    expect(v6('::1.2.3.4')).toBe('::102:304');
    expect(big('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe((1n << 128n) - 1n);
  });

  it.each([
    '', ':', ':::', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
    'fe80::1%eth0', 'fe80::1%1', '[::1]', '::1 ', ' ::1', ':1', '1:', '1::2:', 'g::', '::ffff:1.2.3', '::ffff:01.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4:5', '1.2.3.4', '::/0', '2001:db8::/32', '::ffff:1.2.3.4.5', '1:2:3:4:5:6:7:8:1.2.3.4',
  ])('refuses %j', (s) => {
    expect(parseIPv6(s)).toBeNull();
  });

  it('accepts exactly what node:net isIPv6 accepts (zone ids aside, which it allows and we refuse)', () => {
    const text = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF::::..'.split('')), maxLength: 45 });
    // near misses: a valid address in one of its spellings, then a character deleted, inserted or replaced
    const spelled = fc.tuple(groups, fc.constantFrom('canonical', 'full', 'mixed')).map(([g, how]) => {
      const w = wordsOf(g);
      if (how === 'full') return g.map((x) => x.toString(16)).join(':');
      if (how === 'mixed') return `${formatIPv6(w).replace(/:[^:]*:[^:]*$/, '')}:${formatIPv4(w[3] ?? 0)}`;
      return formatIPv6(w);
    });
    const edit = fc.tuple(fc.nat(), fc.constantFrom('', ':', '.', '0', 'f', 'g', '::', '00000'), fc.boolean());
    const nearMiss = fc.tuple(spelled, fc.array(edit, { maxLength: 2 })).map(([s, edits]) =>
      edits.reduce((t, [at, c, replace]) => {
        const i = at % (t.length + 1);
        return t.slice(0, i) + c + t.slice(replace ? i + 1 : i);
      }, s),
    );
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof(text, nearMiss), (s) => {
        if (isIPv6(s)) valid++;
        return (parseIPv6(s) !== null) === isIPv6(s);
      }),
      { numRuns: 20000 },
    );
    expect(valid).toBeGreaterThan(2000); // the property saw both sides of the line
    expect(isIPv6('fe80::1%eth0')).toBe(true);
  });

  it('writes into a caller buffer at an offset', () => {
    const out = new Uint32Array(8).fill(7);
    expect(parseIPv6Into('2001:db8::1', out, 4)).toBe(true);
    expect([...out]).toEqual([7, 7, 7, 7, 0x20010db8, 0, 0, 1]);
  });
});

describe('formatIPv6 (RFC 5952)', () => {
  it.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // a tie: the first run
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['2001:DB8::AB', '2001:db8::ab'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:ffff:102:304', '::ffff:1.2.3.4'], // section 5: IPv4-mapped in mixed notation
    ['0:0:0:0:ffff:0:102:304', '::ffff:0:102:304'], // not mapped
  ])('%s → %s', (input, canonical) => {
    expect(v6(input)).toBe(canonical);
  });

  it('round-trips, is canonical, and agrees with the WHATWG URL serialiser', () => {
    fc.assert(
      fc.property(groups, (g) => {
        const w = wordsOf(g);
        const text = formatIPv6(w);
        expect([...(parseIPv6(text) ?? [])]).toEqual([...w]);
        expect(v6(text)).toBe(text);
        const mapped = w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
        if (!mapped) expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
        // the uncompressed, zero-padded form parses to the same address
        expect(v6(g.map((x) => x.toString(16).padStart(4, '0')).join(':'))).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('converts words to and from BigInt', () => {
    fc.assert(fc.property(u128, (x) => v6ToBigInt(bigIntToV6(x)) === x), { numRuns: 1000 });
  });
});

describe('parseIp', () => {
  it('takes IPv4-mapped IPv6 as IPv4, and refuses what is neither', () => {
    expect(parseIp('::ffff:192.0.2.1')).toEqual({ version: 4, v4: 0xc0000201 });
    expect(parseIp('::ffff:c000:201')).toEqual({ version: 4, v4: 0xc0000201 });
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, v4: 0xc0000201 });
    expect(parseIp('2001:db8::')?.version).toBe(6);
    expect(parseIp('example.org')).toBeNull();
  });
});

describe('CIDR prefixes', () => {
  it('parses IPv4 and IPv6 prefixes and formats them canonically', () => {
    expect(parseCidr('203.0.113.0/24')).toEqual({ version: 4, prefix: 24, start: 0xcb007100, end: 0xcb0071ff });
    expect(parseCidr('0.0.0.0/0')).toEqual({ version: 4, prefix: 0, start: 0, end: 0xffffffff });
    expect(parseCidr('192.0.2.1')).toEqual({ version: 4, prefix: 32, start: 0xc0000201, end: 0xc0000201 });
    const c = parseCidr('2001:DB8::/32');
    expect(c && formatCidr(c)).toBe('2001:db8::/32');
    expect(c && c.version === 6 && formatIPv6(c.end)).toBe('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(formatCidr(checkCidr('::/0'))).toBe('::/0');
    expect(formatCidr(checkCidr('2001:db8::1'))).toBe('2001:db8::1/128');
    expect(formatCidr(checkCidr('::ffff:10.0.0.0/104'))).toBe('10.0.0.0/8');
  });

  it.each([
    ['203.0.113.5/24', 'host bits are set in "203.0.113.5/24"; the prefix is 203.0.113.0/24'],
    ['2001:db8::1/32', 'host bits are set in "2001:db8::1/32"; the prefix is 2001:db8::/32'],
    ['10.0.0.0/33', '"/33" is not a prefix length 0..32'],
    ['10.0.0.0/024', '"/024" is not a prefix length 0..32'],
    ['10.0.0.0/', '"/" is not a prefix length 0..32'],
    ['2001:db8::/129', '"/129" is not a prefix length 0..128'],
    ['10.0.0/8', '"10.0.0" is not an IPv4 or IPv6 address'],
    ['::ffff:0:0/95', '"::ffff:0:0/95" reaches outside ::ffff:0:0/96; write the IPv4 prefix instead'],
  ])('refuses %s with a reason', (s, reason) => {
    expect(parseCidrOrReason(s)).toBe(reason);
    expect(parseCidr(s)).toBeNull();
    try {
      checkCidr(s, 'jurisdiction of fr');
      expect.unreachable();
    } catch (e) {
      expect(isHotlineError(e) && e.code).toBe('invalid_argument');
      expect((e as Error).message).toBe(`jurisdiction of fr: ${reason}`);
    }
  });

  it('IPv4 containment matches a naive BigInt reference', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 32 }), u32, (net, p, ip) => {
        const shift = BigInt(32 - p);
        const start = Number((BigInt(net) >> shift) << shift);
        const c = checkCidr(`${formatIPv4(start)}/${p}`);
        const expected = BigInt(ip) >> shift === BigInt(start) >> shift;
        expect(cidrContains(c, ip)).toBe(expected);
        expect(cidrContains(c, formatIPv4(ip))).toBe(expected);
        expect(cidrContains(c, start)).toBe(true);
        expect(cidrContains(c, formatIPv4(ip).replace(/^/, '::ffff:'))).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('IPv6 containment matches a naive BigInt reference, also at the edges', () => {
    fc.assert(
      fc.property(u128, fc.integer({ min: 0, max: 128 }), u128, (net, p, ip) => {
        const shift = BigInt(128 - p);
        const start = (net >> shift) << shift;
        const end = start | ((1n << shift) - 1n);
        const c = checkCidr(`${formatIPv6(bigIntToV6(start))}/${p}`);
        if (c.version !== 6) return; // a prefix inside ::ffff:0:0/96 is IPv4 by design
        for (const x of [ip, start, end, start - 1n, end + 1n]) {
          if (x < 0n || x >= 1n << 128n) continue;
          const w = bigIntToV6(x);
          const expected = x >> shift === start >> shift;
          expect(cidrContains(c, w)).toBe(expected);
          const mapped = x >> 32n === 0xffffn;
          if (!mapped) expect(cidrContains(c, formatIPv6(w))).toBe(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('lists special-purpose blocks that all parse', () => {
    for (const [p] of SPECIAL_PURPOSE_PREFIXES) expect(formatCidr(checkCidr(p))).toBe(p);
  });

  it('never mixes families', () => {
    expect(cidrContains(checkCidr('0.0.0.0/0'), '2001:db8::1')).toBe(false);
    expect(cidrContains(checkCidr('::/0'), '192.0.2.1')).toBe(false);
    expect(cidrContains(checkCidr('::/0'), 0)).toBe(false);
    expect(cidrContains(checkCidr('0.0.0.0/0'), 'not an address')).toBe(false);
  });
});
