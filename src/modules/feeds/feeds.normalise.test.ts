import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, normaliseRow, parseAsn, parseTimestamp, parseUint, RowValues, timestampMask } from './feeds.normalise.js';
import { presetCatalog, resolveLayout } from './feeds.presets.js';
import { FamilyNormaliser } from './feeds.rules.js';
import { FEED_FIELDS, type FeedField } from './feeds.types.js';

const ALL = timestampMask(['iso8601', 'epoch']);

describe('canonicalIp', () => {
  it('takes dotted-quad IPv4 and refuses the rest', () => {
    for (const ok of ['0.0.0.0', '192.0.2.1', '255.255.255.255', '198.51.100.10']) expect(canonicalIp(ok)).toBe(ok);
    for (const bad of ['', '999.1.1.1', '256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4/32', '1.2.3.4:80', 'a.b.c.d', '١.٢.٣.٤']) {
      expect(canonicalIp(bad), bad).toBeNull();
    }
  });

  it('writes IPv6 per RFC 5952, and an IPv4-mapped address as IPv4', () => {
    const cases: [string, string][] = [
      ['2001:DB8:0:0:0:0:0:2A', '2001:db8::2a'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['fe80::1:2', 'fe80::1:2'],
      ['::ffff:192.0.2.200', '192.0.2.200'],
      ['::FFFF:C000:02C8', '192.0.2.200'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, out] of cases) expect(canonicalIp(input), input).toBe(out);
    for (const bad of ['1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'fe80::1%eth0', '[2001:db8::1]', '::1.2.3', 'g::1', ':1::', '1:2:3:4:5:6:7::8']) {
      expect(canonicalIp(bad), bad).toBeNull();
    }
  });

  it('agrees with node:net on validity and with the WHATWG URL serialiser on IPv6 text (fast-check)', () => {
    const hextet = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(fc.array(hextet, { minLength: 8, maxLength: 8 }), fc.boolean(), (h, upper) => {
        if (h.slice(0, 6).join(',') === '0,0,0,0,0,65535') return;
        let text = h.map((x) => x.toString(16)).join(':');
        if (upper) text = text.toUpperCase();
        expect(canonicalIp(text)).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }), fc.ipV4Extended()), (s) => {
        expect(canonicalIp(s) !== null).toBe(isIPv4(s) || (isIPv6(s) && !s.includes('%')));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('numbers', () => {
  it('parses ports and AS numbers', () => {
    expect(parseUint('443', 65535)).toBe(443);
    expect(parseUint('0', 65535)).toBe(0);
    expect(parseUint('65535', 65535)).toBe(65535);
    expect(parseUint('00080', 65535)).toBe(80);
    for (const bad of ['', '65536', '-1', '1.5', '80 ', 'eighty', '12345678901']) expect(parseUint(bad, 65535), bad).toBe(-1);
    expect(parseAsn('64496')).toBe(64496);
    expect(parseAsn('AS64496')).toBe(64496);
    expect(parseAsn('as64496')).toBe(64496);
    expect(parseAsn('AS13335 CLOUDFLARENET')).toBe(13335);
    expect(parseAsn('4294967295')).toBe(4294967295);
    for (const bad of ['4294967296', 'AS', 'ASX', '64496x', 'AS 64496', '-5']) expect(parseAsn(bad), bad).toBe(-1);
  });
});

describe('parseTimestamp', () => {
  it('reads the forms feeds use', () => {
    const t = Date.UTC(2024, 4, 1, 0, 0, 13);
    for (const s of ['2024-05-01T00:00:13Z', '2024-05-01 00:00:13', '2024-05-01T00:00:13', '2024-05-01t00:00:13z', '2024-05-01 00:00:13 UTC', '2024-05-01T02:00:13+02:00', '2024-05-01T02:00:13+0200', '2024-05-01T02:00:13+02', '2024-04-30T19:00:13-05:00', '1714521613', '1714521613000', '1714521613.000']) {
      expect(parseTimestamp(s, ALL), s).toBe(t);
    }
    expect(parseTimestamp('2024-05-01T00:00:13.5Z', ALL)).toBe(t + 500);
    expect(parseTimestamp('2024-05-01T00:00:13,123456789Z', ALL)).toBe(t + 123);
    expect(parseTimestamp('2024-05-01 00:00', ALL)).toBe(t - 13000);
    expect(parseTimestamp('2024-05-01', ALL)).toBe(Date.UTC(2024, 4, 1));
    expect(parseTimestamp('2024-02-29 12:00:00', ALL)).toBe(Date.UTC(2024, 1, 29, 12));
    for (const bad of ['', 'yesterday', '2024-13-01 00:00:00', '2023-02-29', '2024-04-31', '2024-05-01 24:00:00', '2024-05-01 00:60:00', '2024-05-01 00:00:60', '1969-12-31T23:59:59Z', '2024-05-01T00:00:00+25:00', '2024-05-01T00:00:00 CET', '2024-05-01T00:00:00.Z', '01.05.2024 10:10', '-1714521613', '1e12', '2024/05/01']) {
      expect(parseTimestamp(bad, ALL), bad).toBeNaN();
    }
  });

  it('takes only the formats it is given', () => {
    expect(parseTimestamp('1714521613', timestampMask(['iso8601']))).toBeNaN();
    expect(parseTimestamp('2024-05-01', timestampMask(['epoch']))).toBeNaN();
    expect(parseTimestamp('1714521613', timestampMask(['epoch_ms']))).toBe(1714521613);
    expect(parseTimestamp('1714521613.5', timestampMask(['epoch_ms']))).toBeNaN();
    expect(parseTimestamp('1714521613000', timestampMask(['epoch_s']))).toBeNaN(); // milliseconds read as seconds: past the year 9999
    expect(parseTimestamp('1714521613', timestampMask(['epoch_s', 'epoch_ms']))).toBe(1714521613000);
  });

  it('agrees with Date on every ISO and epoch rendering of random instants (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (ms, offsetMin) => {
        const iso = new Date(ms).toISOString();
        expect(parseTimestamp(iso, ALL)).toBe(ms);
        expect(parseTimestamp(iso.slice(0, 19).replace('T', ' '), ALL)).toBe(ms - (ms % 1000));
        expect(parseTimestamp(String(ms), timestampMask(['epoch_ms']))).toBe(ms);
        const local = new Date(ms + offsetMin * 60000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        if (ms + offsetMin * 60000 >= 0 && ms + offsetMin * 60000 < 253402300800000) expect(parseTimestamp(local + off, ALL)).toBe(ms);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('FamilyNormaliser', () => {
  const family = new FamilyNormaliser((presetCatalog().presets.get('shadowserver-infected') ?? (null as never)).family);

  it('lower-cases, strips platform prefixes and variant suffixes, applies aliases, and knows "no family"', () => {
    for (const s of ['Mirai', 'mirai', ' MIRAI ', 'mirai.a', 'mirai-b', 'elf.mirai', 'ELF.Mirai.B', 'mirai-like']) expect(family.normalise(s), s).toBe('mirai');
    expect(family.normalise('Bashlite')).toBe('gafgyt');
    expect(family.normalise('win.emotet')).toBe('emotet');
    expect(family.normalise('Heodo')).toBe('emotet');
    expect(family.normalise('Avalanche-Andromeda')).toBe('andromeda');
    expect(family.normalise('Cobalt Strike')).toBe('cobaltstrike');
    expect(family.normalise('sinkhole-necurs')).toBe('necurs');
    for (const s of ['', 'unknown', 'N/A', '-', 'sinkhole']) expect(family.normalise(s), s).toBeNull();
    expect(family.normalise('Mirai')).toBe('mirai');
  });
});

describe('normaliseRow', () => {
  const header = ['Time', 'Src', 'SPort', 'AS', 'CC', 'Malware', 'Kind', 'C2', 'C2Port', 'Proto', 'Host'];
  const layout = resolveLayout({ header, mapping: 'timestamp=Time,ip=Src,port=SPort,asn=AS,country=CC,family=Malware,type=Kind,c2_ip=C2,c2_port=C2Port,protocol=Proto,hostname=Host' });
  const columnOf: Record<FeedField, number> = { timestamp: 0, ip: 1, port: 2, asn: 3, country: 4, family: 5, type: 6, c2_ip: 7, c2_port: 8, protocol: 9, hostname: 10 };
  const good = ['2024-05-01 00:00:13', '192.0.2.17', '49152', 'AS64496', 'us', 'Mirai.A', 'bot', '198.51.100.1', '23', 'TCP', 'Host.Example.NET'];

  function run(row: string[], now = 0): ReturnType<typeof normaliseRow> {
    const v = new RowValues();
    FEED_FIELDS.forEach((f, i) => {
      const s = row[columnOf[f]] ?? '';
      v.set(i, ` ${s} `, 0, s.length + 2);
    });
    return normaliseRow(v, 17, layout, 'feed-x', now);
  }

  it('makes a record of a good row, trimmed, with every member', () => {
    expect(run(good)).toEqual({
      line: 17, ip: '192.0.2.17', port: 49152, timestamp: Date.UTC(2024, 4, 1, 0, 0, 13), type: 'infected-host', family: 'mirai', source: 'feed-x',
      asn: 64496, country: 'US', c2_ip: '198.51.100.1', c2_port: 23, protocol: 'tcp', hostname: 'host.example.net',
    });
    const empty = good.map((v, i) => (i <= 1 ? v : ''));
    expect(run(empty)).toEqual({
      line: 17, ip: '192.0.2.17', port: null, timestamp: Date.UTC(2024, 4, 1, 0, 0, 13), type: 'other', family: null, source: 'feed-x',
      asn: null, country: null, c2_ip: null, c2_port: null, protocol: null, hostname: null,
    });
  });

  it('rejects a bad value naming the column as the file spells it', () => {
    const cases: [FeedField, string, string][] = [
      ['ip', '999.1.1.1', "'Src' is not an IP address: '999.1.1.1'"],
      ['ip', '', "'Src' is empty"],
      ['port', '70000', "'SPort' is not a port (0-65535): '70000'"],
      ['timestamp', 'soon', "'Time' is not a timestamp (iso8601, epoch): 'soon'"],
      ['timestamp', '', "'Time' is empty"],
      ['asn', 'ASX', "'AS' is not an AS number: 'ASX'"],
      ['country', 'USA', "'CC' is not an ISO 3166 alpha-2 country code: 'USA'"],
      ['country', 'U1', "'CC' is not an ISO 3166 alpha-2 country code: 'U1'"],
      ['c2_ip', 'c2.example.com', "'C2' is not an IP address: 'c2.example.com'"],
      ['c2_port', '-1', "'C2Port' is not a port (0-65535): '-1'"],
    ];
    for (const [field, value, reason] of cases) {
      const row = [...good];
      row[columnOf[field]] = value;
      expect(run(row), field).toEqual({ line: 17, reason, field });
    }
    const long = [...good];
    long[1] = 'x'.repeat(200);
    expect(run(long)).toMatchObject({ reason: `'Src' is not an IP address: '${'x'.repeat(77)}...'` });
  });

  it('gives the parse time to records of a layout without a timestamp column', () => {
    const l = resolveLayout({ header: ['ip'], preset: 'generic' });
    const v = new RowValues();
    FEED_FIELDS.forEach((_, i) => v.clear(i));
    v.set(0, '192.0.2.1', 0, 9);
    expect(normaliseRow(v, 2, l, 's', 1234)).toMatchObject({ ip: '192.0.2.1', timestamp: 1234, type: 'other' });
  });
});
