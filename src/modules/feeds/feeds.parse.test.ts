import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { parseFeed, type ParseOptions } from './feeds.parse.js';
import type { FeedRecord, FeedReject } from './feeds.types.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/feeds');
const NOW = Date.UTC(2024, 4, 1, 12);
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

interface Parsed {
  records: FeedRecord[];
  rejects: FeedReject[];
  bytes: number;
  lines: number;
  batches: number;
}

async function parse(input: Iterable<Buffer | string> | AsyncIterable<Buffer | string>, opts: Partial<ParseOptions> = {}): Promise<Parsed> {
  const out: Parsed = { records: [], rejects: [], bytes: 0, lines: 0, batches: 0 };
  for await (const b of parseFeed(input, { format: 'auto', source: 'test-feed', now: NOW, ...opts })) {
    out.records.push(...b.records);
    out.rejects.push(...b.rejects);
    out.bytes += b.bytes;
    out.lines += b.lines;
    out.batches++;
  }
  return out;
}

/** A record with every member: what is not given is null. */
function rec(r: Partial<FeedRecord> & Pick<FeedRecord, 'line' | 'ip' | 'timestamp' | 'type'>): FeedRecord {
  return { port: null, family: null, source: 'test-feed', asn: null, country: null, c2_ip: null, c2_port: null, protocol: null, hostname: null, ...r };
}

const at = (iso: string): number => Date.parse(iso);

const EXPECTED: Record<string, { opts?: Partial<ParseOptions>; records: FeedRecord[]; rejects: FeedReject[]; lines: number }> = {
  'shadowserver-infected.csv': {
    records: [
      rec({ line: 2, ip: '192.0.2.17', port: 49152, timestamp: at('2024-05-01T00:00:13Z'), type: 'infected-host', family: 'mirai', asn: 64496, country: 'US', c2_ip: '198.51.100.10', c2_port: 23, protocol: 'tcp', hostname: 'host17.example.net' }),
      rec({ line: 3, ip: '2001:db8::2a', port: 51000, timestamp: at('2024-05-01T00:01:02Z'), type: 'infected-host', family: 'mirai', asn: 64497, country: 'DE', c2_ip: '198.51.100.10', c2_port: 23, protocol: 'tcp' }),
      rec({ line: 4, ip: '203.0.113.5', timestamp: at('2024-05-01T00:02:40Z'), type: 'infected-host', family: 'andromeda', asn: 64498, country: 'FR', c2_ip: '198.51.100.20', c2_port: 8080 }),
      rec({ line: 5, ip: '198.51.100.77', port: 1024, timestamp: at('2024-05-01T00:03:00Z'), type: 'infected-host', family: 'necurs', asn: 64499, country: 'NL', c2_ip: '198.51.100.30', c2_port: 443, protocol: 'tcp', hostname: 'mail.example.org' }),
      rec({ line: 12, ip: '45.155.205.233', port: 37215, timestamp: at('2024-05-01T00:08:00Z'), type: 'infected-host', family: 'mozi', asn: 64501, country: 'RU', protocol: 'tcp' }),
      rec({ line: 13, ip: '192.0.2.200', port: 5555, timestamp: at('2024-05-01T00:09:00Z'), type: 'infected-host', asn: 64502, country: 'BR' }),
      rec({ line: 15, ip: '192.0.2.33', port: 2323, timestamp: at('2024-05-01T00:10:00Z'), type: 'infected-host', family: 'gafgyt', asn: 64496, country: 'US', c2_ip: '198.51.100.40', c2_port: 6667, protocol: 'tcp' }),
    ],
    rejects: [
      { line: 7, reason: "'ip' is not an IP address: '999.1.1.1'", field: 'ip' },
      { line: 8, reason: "'port' is not a port (0-65535): '70000'", field: 'port' },
      { line: 9, reason: 'has 14 fields; the header has 15', field: null },
      { line: 10, reason: "'timestamp' is not a timestamp (iso8601, epoch): '2024-13-01 00:07:00'", field: 'timestamp' },
      { line: 14, reason: "'geo' is not an ISO 3166 alpha-2 country code: 'USA'", field: 'country' },
    ],
    lines: 15,
  },
  'feodo-c2.csv': {
    records: [
      rec({ line: 10, ip: '198.51.100.23', port: 4643, timestamp: at('2021-01-17T07:44:46Z'), type: 'c2-server', family: 'dridex' }),
      rec({ line: 11, ip: '203.0.113.140', port: 443, timestamp: at('2023-06-09T11:09:48Z'), type: 'c2-server', family: 'qakbot' }),
      rec({ line: 12, ip: '192.0.2.55', port: 8080, timestamp: at('2023-11-24T18:35:12Z'), type: 'c2-server', family: 'emotet' }),
      rec({ line: 13, ip: '185.220.101.47', port: 2222, timestamp: at('2024-02-02T09:01:10Z'), type: 'c2-server', family: 'pikabot' }),
      rec({ line: 15, ip: '2001:db8:85a3::8a2e:370:7334', port: 447, timestamp: at('2024-05-01T03:15:00Z'), type: 'c2-server', family: 'trickbot' }),
      rec({ line: 16, ip: '192.0.2.56', timestamp: at('2024-05-01T04:00:00Z'), type: 'c2-server' }),
    ],
    rejects: [{ line: 14, reason: "'dst_ip' is not an IP address: '198.51.100.300'", field: 'ip' }],
    lines: 17,
  },
  'records.jsonl': {
    records: [
      rec({ line: 1, ip: '192.0.2.10', port: 443, timestamp: at('2024-05-01T08:00:00Z'), type: 'c2-server', family: 'cobaltstrike', asn: 64496, country: 'US' }),
      rec({ line: 2, ip: '2001:db8::10', timestamp: at('2024-05-01T08:00:00Z'), type: 'infected-host', family: 'mirai' }),
      rec({ line: 3, ip: '198.51.100.99', timestamp: at('2024-05-01T06:30:00Z'), type: 'infected-host', hostname: 'bot.example.net' }),
      rec({ line: 8, ip: '203.0.113.7', port: 8080, timestamp: at('2024-05-01T09:00:00Z'), type: 'c2-server', family: 'emotet', c2_ip: '198.51.100.1' }),
      rec({ line: 11, ip: '203.0.113.10', timestamp: at('2024-05-01T10:00:00.250Z'), type: 'other', asn: 64511, protocol: 'http' }),
    ],
    rejects: [
      { line: 4, reason: "'ip' is not an IP address: '192.0.2.300'", field: 'ip' },
      { line: 5, reason: 'is not JSON: Unexpected token \'o\', "not json at all" is not valid JSON', field: null },
      { line: 6, reason: 'is not a JSON object', field: null },
      { line: 9, reason: "'port' is not a string or number", field: 'port' },
      { line: 10, reason: "'timestamp' is not a timestamp (iso8601, epoch): 'yesterday'", field: 'timestamp' },
    ],
    lines: 11,
  },
  'bundle.json': {
    records: [
      rec({ line: 37, ip: '198.51.100.5', port: 8080, timestamp: at('2024-05-01T06:00:00Z'), type: 'c2-server', family: 'emotet' }),
      rec({ line: 51, ip: '2001:db8::c2', timestamp: at('2024-05-01T06:10:00.123Z'), type: 'c2-server' }),
      rec({ line: 64, ip: '203.0.113.66', timestamp: NOW, type: 'other' }),
      rec({ line: 70, ip: '2001:db8::1:0:0:1', timestamp: NOW, type: 'other' }),
      rec({ line: 89, ip: '192.0.2.77', timestamp: at('2024-05-01T06:30:00Z'), type: 'infected-host' }),
    ],
    rejects: [
      { line: 76, reason: 'indicator pattern is not one IP address: "[domain-name:value = \'c2.example.com\']"', field: 'ip' },
      { line: 103, reason: 'ipv4-addr value is not an IP address: "198.51.100.0/24"', field: 'ip' },
      { line: 109, reason: 'indicator pattern_type is "sigma", not "stix"', field: null },
    ],
    lines: 133,
  },
  'cert-semicolon.csv': {
    opts: { mapping: 'ip=Quell-IP,port=Quellport,timestamp=Zeitpunkt,family=Schadsoftware,country=Land,type=Art' },
    records: [
      rec({ line: 2, ip: '192.0.2.44', port: 445, timestamp: at('2024-05-01T10:00:00Z'), type: 'infected-host', family: 'conficker', country: 'DE' }),
      rec({ line: 3, ip: '198.51.100.45', timestamp: at('2024-05-01T10:05:00Z'), type: 'c2-server', family: 'qakbot', country: 'AT' }),
      rec({ line: 5, ip: '2001:db8:1::46', port: 8443, timestamp: at('2024-05-01T10:15:00Z'), type: 'c2-server', family: 'emotet', country: 'DE' }),
      rec({ line: 7, ip: '203.0.113.47', port: 23, timestamp: at('2024-05-01T10:20:00Z'), type: 'other' }),
    ],
    rejects: [{ line: 4, reason: "'Zeitpunkt' is not a timestamp (iso8601, epoch): '01.05.2024 10:10'", field: 'timestamp' }],
    lines: 7,
  },
};

/** The input cut at byte offsets. */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const p = [0, ...points.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length];
  return p.slice(1).map((end, i) => bytes.subarray(p[i], end));
}

describe('parseFeed: the fixtures', () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    it(`${name}: exact records and rejects, line numbers, bytes and lines`, async () => {
      const bytes = fixture(name);
      const got = await parse([bytes], want.opts);
      expect(got.records).toEqual(want.records);
      expect(got.rejects).toEqual(want.rejects);
      expect(got.bytes).toBe(bytes.length);
      expect(got.lines).toBe(want.lines);
    });

    it(`${name}: the same output whichever byte a chunk boundary falls on`, async () => {
      const bytes = fixture(name);
      const whole = await parse([bytes], want.opts);
      const strip = (p: Parsed): unknown => ({ records: p.records, rejects: p.rejects, bytes: p.bytes, lines: p.lines });
      for (let i = 1; i < bytes.length; i++) {
        expect(strip(await parse(cut(bytes, [i]), { ...want.opts, scanChars: 1 })), `split at ${i}`).toEqual(strip(whole));
      }
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), fc.integer({ min: 1, max: 300 }), async (points, scanChars) => {
          expect(strip(await parse(cut(bytes, points), { ...want.opts, scanChars }))).toEqual(strip(whole));
        }),
        { numRuns: 40 },
      );
    });
  }

  it('takes the format asked for when it is right', async () => {
    expect((await parse([fixture('feodo-c2.csv')], { format: 'csv' })).records).toHaveLength(6);
    expect((await parse([fixture('records.jsonl')], { format: 'jsonl' })).records).toHaveLength(5);
    expect((await parse([fixture('bundle.json')], { format: 'stix' })).records).toHaveLength(5);
  });
});

/** Expects parseFeed to fail on the first batch, and returns the error. */
async function refused(input: Iterable<Buffer | string> | AsyncIterable<Buffer | string>, opts: Partial<ParseOptions> = {}): Promise<HotlineError> {
  const it = parseFeed(input, { format: 'auto', source: 'x', ...opts });
  try {
    await it.next();
  } catch (e) {
    expect(e).toBeInstanceOf(HotlineError);
    return e as HotlineError;
  }
  throw new Error('expected a refusal');
}

describe('parseFeed: refusals, at once', () => {
  it('refuses an input that is not the format claimed', async () => {
    const cases: [Buffer | string, ParseOptions['format'], RegExp][] = [
      [fixture('records.jsonl'), 'csv', /^--format csv, but the input is JSON: .*; use --format jsonl or auto$/],
      [fixture('bundle.json'), 'csv', /^--format csv, but the input is a STIX bundle: "\{"; use --format stix or auto$/],
      [fixture('feodo-c2.csv'), 'jsonl', /^--format jsonl, but line 1 is not a JSON object: "#####/],
      [fixture('bundle.json'), 'jsonl', /^--format jsonl, but the input is a STIX bundle; use --format stix$/],
      [fixture('shadowserver-infected.csv'), 'stix', /^--format stix, but the input is not a STIX bundle .*it is not JSON \(CSV or text\): "\\"timestamp\\"/],
      [fixture('records.jsonl'), 'stix', /^--format stix, but the input is not a STIX bundle .*it is JSON/],
      ['{\n  "hello": "world"\n}\n', 'auto', /starts with '\{' but its first line is not a JSON object .* and it is not a STIX bundle/],
      ['{"ip": "192.0.2.1", \n', 'jsonl', /its first line is not a JSON object/],
    ];
    for (const [input, format, message] of cases) {
      const e = await refused([input], { format });
      expect(e.message, `${format}`).toMatch(message);
      expect(e.code).toBe('feed_format');
    }
  });

  it('refuses binary, compressed, UTF-16, PDF, HTML, a JSON array and empty input', async () => {
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    const cases: [Buffer | string, RegExp][] = [
      [gzipSync(fixture('shadowserver-infected.csv')), /gzip-compressed; decompress it first/],
      [Buffer.concat([Buffer.from('PK\x03\x04'), random]), /a ZIP archive/],
      [Buffer.from('\ufeffip,port\n', 'utf16le'), /UTF-16 text/],
      [Buffer.from('%PDF-1.7\n...'), /a PDF document/],
      [random, /binary \(a NUL byte at offset \d+\)/],
      [Buffer.from(`ip,port\n${'\x01\x02\x03'.repeat(50)}\n`), /binary \(150 control bytes/],
      ['<!DOCTYPE html><html><body>502 Bad Gateway</body></html>', /looks like HTML or XML .* an error page\?/],
      ['[{"ip": "192.0.2.1"}]', /a JSON array; give JSON lines/],
      ['', /The input is empty/],
      [' \r\n\n ', /The input is empty/],
    ];
    for (const [input, message] of cases) expect((await refused([input])).message).toMatch(message);
    expect((await refused([])).message).toMatch(/empty/);
  });

  it('refuses an unknown preset, a header no preset fits and a mapping to a missing column before any row, and closes the input', async () => {
    let pulled = 0;
    let closed = false;
    async function* big(): AsyncGenerator<string> {
      try {
        yield 'src,when,malware\n';
        for (let i = 0; i < 100_000; i++) {
          pulled++;
          yield `192.0.2.${i % 250},2024-05-01 00:00:00,mirai\n`.repeat(10);
        }
      } finally {
        closed = true;
      }
    }
    const e1 = await refused(big(), { preset: 'nope' });
    expect(e1.message).toBe("Unknown preset 'nope'; the presets are: feodo-c2, generic, shadowserver-infected");
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(200);
    const e2 = await refused(big());
    expect(e2.message).toMatch(/^No preset fits the header \(src, when, malware\)/);
    const e3 = await refused(big(), { mapping: 'ip=src,timestamp=time' });
    expect(e3.message).toBe("--map: timestamp=time: there is no column 'time'; the header has: src, when, malware");
    const e4 = await refused([fixture('records.jsonl')], { mapping: 'ip=address' });
    expect(e4.message).toMatch(/^--map: ip=address: there is no column 'address'; the header has: ip, port, timestamp/);
  });

  it('refuses a JSON-lines mapping to a missing key after the first object', async () => {
    let pulled = 0;
    async function* lines(): AsyncGenerator<string> {
      for (let i = 0; i < 100_000; i++) {
        pulled++;
        yield `{"src":"192.0.2.${i % 250}","seen":"2024-05-01T00:00:00Z"}\n`;
      }
    }
    const e = await refused(lines(), { mapping: 'ip=src,timestamp=time' });
    expect(e.message).toBe("--map: timestamp=time: there is no column 'time'; the header has: src, seen");
    expect(pulled).toBeLessThan(2000);
  });

  it('refuses a CSV whose first row is data with no header comment before it', async () => {
    const e = await refused(['"2021-01-17 07:44:46","198.51.100.23","4643"\n']);
    expect(e.message).toBe("line 1: the first row is data, not a header ('198.51.100.23' is an IP address); a CSV feed needs a header line naming its columns");
    expect((await refused(['# only a comment\n\n'])).message).toMatch(/no header line/);
  });

  it('refuses a bundle whose type is not bundle', async () => {
    const e = await refused(['{\n  "objects": [],\n  "type": "report"\n}\n'], { format: 'stix' });
    expect(e.message).toBe('line 3: not a STIX bundle: its type is "report", not "bundle"');
    const one = await refused(['{"type": "report", "objects": []}\n'], { format: 'stix' });
    expect(one.message).toMatch(/^--format stix, but the input is not a STIX bundle/);
  });
});

describe('parseFeed: bad rows are rejects and the run goes on', () => {
  it('reports a bundle cut short, after the records before the cut', async () => {
    const bytes = fixture('bundle.json');
    const got = await parse([bytes.subarray(0, 2600)]);
    expect(got.records.map((r) => r.ip)).toEqual(['198.51.100.5', '2001:db8::c2', '203.0.113.66', '2001:db8::1:0:0:1']);
    expect(got.rejects.at(-1)).toEqual({ line: 76, reason: 'the bundle is cut short here (the input ended inside it)', field: null });
  });

  it('splits a bundle on its objects whatever the escapes in strings and the chunk boundaries', async () => {
    const objects = [
      { type: 'identity', id: 'identity--1', name: 'back\\slash \\', description: 'a "quote", } and ] and \\"' },
      { type: 'indicator', id: 'indicator--2', pattern: "[ipv4-addr:value = '192.0.2.9']", pattern_type: 'stix', valid_from: '2024-05-01T00:00:00Z', labels: ['x\\'] },
      { type: 'ipv4-addr', id: 'ipv4-addr--3', value: '192.0.2.10' },
    ];
    const text = Buffer.from(JSON.stringify({ id: 'bundle--1', objects, type: 'bundle', spec_version: '2.1' }));
    const want = [rec({ line: 1, ip: '192.0.2.9', timestamp: at('2024-05-01T00:00:00Z'), type: 'c2-server' }), rec({ line: 1, ip: '192.0.2.10', timestamp: NOW, type: 'other' })];
    for (let i = 1; i < text.length; i++) {
      const got = await parse(cut(text, [i, i + 7]), { format: 'stix' });
      expect(got.records, `split at ${i}`).toEqual(want);
      expect(got.rejects).toEqual([]);
    }
  });

  it('reads a CSV with only a header as no records', async () => {
    expect(await parse(['ip,port,timestamp\r\n'])).toMatchObject({ records: [], rejects: [], bytes: 19, lines: 1 });
  });

  it('streams a large feed in many batches with flat totals', async () => {
    const rows = 60_000;
    async function* feed(): AsyncGenerator<Buffer> {
      yield Buffer.from('timestamp,ip,port,infection\n');
      for (let i = 0; i < rows; i += 1000) {
        let s = '';
        for (let k = i; k < i + 1000; k++) s += k % 997 === 0 ? `2024-05-01T00:00:00Z,10.0.0.${k % 250}x,80,mirai\n` : `2024-05-01T00:00:00Z,10.${(k >> 8) & 255}.${k & 255}.1,${k % 65536},Mirai.A\n`;
        yield Buffer.from(s);
      }
    }
    const got = await parse(feed());
    expect(got.records.length + got.rejects.length).toBe(rows);
    expect(got.rejects).toHaveLength(Math.ceil(rows / 997));
    expect(got.rejects[1]).toEqual({ line: 999, reason: "'ip' is not an IP address: '10.0.0.247x'", field: 'ip' });
    expect(got.records.every((r) => r.family === 'mirai' && r.type === 'infected-host')).toBe(true);
    expect(got.batches).toBeGreaterThan(5);
    expect(got.lines).toBe(rows + 1);
  });
});
