import { mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHotlineError } from '../../shared/errors.js';
import { parseIPv4, parseIPv6, v6ToBigInt } from '../../shared/ip.js';
import { describeIpdb, importIpdb, IpDatabase, IPDB_CACHE_FILE, removeIpdbImport, type IpdbKind } from './feeds.ipdb.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'hotline-ipdb-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const num6 = (s: string): string => v6ToBigInt(parseIPv6(s) ?? new Uint32Array(4)).toString();

/** A small database, one file of each kind, in both encodings; boundaries chosen to be probed. */
const FIXTURE: Record<IpdbKind, string> = {
  'asn-ipv4': [
    '0.0.0.0,0.255.255.255,64496,Reserved Zero',
    '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
    '1.0.1.0,1.0.1.255,64500,"LLC ""Quoted"""',
    '1.0.4.0,1.0.7.255,64501,',
    '10.0.0.0,10.255.255.255,64502,Outer',
    '10.1.0.0,10.1.255.255,64503,Inner',
    '255.255.255.0,255.255.255.255,64504,Top',
  ].join('\n'),
  'asn-ipv6': [
    '2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64510,Doc Outer',
    '2001:db8:1::,2001:db8:1:0:ffff:ffff:ffff:ffff,64511,Doc Inner',
    'ffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,64512,Top6',
  ].join('\r\n'),
  'country-ipv4': ['16777216,16777471,AU', '16777472,16778239,CN', '167772160,184549375,NL'].join('\n') + '\n',
  'country-ipv6': `${num6('2001:db8::')},${num6('2001:db8:7fff:ffff:ffff:ffff:ffff:ffff')},DE\n`,
};

let dirs = 0;
/** A fresh cache directory and fixture sources for one test (most of whose addresses are special-purpose, so kept as data). */
async function fixture(overrides: Partial<Record<IpdbKind, string>> = {}): Promise<{ cacheDir: string; sources: Record<IpdbKind, string>; keepSpecialPurpose: boolean }> {
  const base = join(tmp, `t${++dirs}`);
  const sources = {} as Record<IpdbKind, string>;
  for (const [kind, text] of Object.entries({ ...FIXTURE, ...overrides }) as [IpdbKind, string][]) {
    sources[kind] = join(tmp, `t${dirs}-${kind}.csv`);
    await writeFile(sources[kind], text);
  }
  return { cacheDir: base, sources, keepSpecialPurpose: true };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details: Readonly<Record<string, unknown>> | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isHotlineError(e)) return { code: e.code, message: e.message, details: e.details };
    throw e;
  }
  throw new Error('expected a failure');
}

describe('the packaged data (@ip-location-db)', () => {
  let db: IpDatabase;
  const cacheDir = (): string => join(tmp, 'real');
  beforeAll(async () => {
    db = await IpDatabase.open({ cacheDir: cacheDir() });
  }, 120_000);

  it('knows well-known addresses', () => {
    expect(db.lookup('1.1.1.1')).toEqual({ asn: 13335, as_org: 'Cloudflare, Inc.', country: 'AU', range: { start: '1.1.1.0', end: '1.1.1.255' } });
    expect(db.lookup('8.8.8.8')).toMatchObject({ asn: 15169, as_org: 'Google LLC', country: 'US' });
    expect(db.lookupV4(parseIPv4('8.8.8.8'))).toMatchObject({ asn: 15169, country: 'US', start: parseIPv4('8.8.8.0'), end: parseIPv4('8.8.8.255') });
    expect(db.lookup('2001:4860:4860::8888')).toMatchObject({ asn: 15169, as_org: 'Google LLC', country: 'US' });
    expect(db.lookup('2606:4700:4700::1111')).toMatchObject({ asn: 13335, as_org: 'Cloudflare, Inc.', country: 'US' });
    expect(db.lookupV6(parseIPv6('2606:4700:4700::1111') ?? new Uint32Array(4))).toEqual({ asn: 13335, as_org: 'Cloudflare, Inc.', country: 'US' });
    expect(db.lookup('::ffff:8.8.8.8')).toEqual(db.lookup('8.8.8.8'));
  });

  it('answers null fields for addresses in no range, with the gap as the range', () => {
    expect(db.lookup('10.1.2.3')).toEqual({ asn: null, as_org: null, country: null, range: { start: '10.0.0.0', end: '10.255.255.255' } });
    expect(db.lookup('192.168.1.1')).toMatchObject({ asn: null, as_org: null, country: null });
    expect(db.lookup('fe80::1')).toMatchObject({ asn: null, as_org: null, country: null });
    expect(db.lookup('2001:db8::1')).toMatchObject({ asn: null, country: null });
    expect(db.lookup('not an address')).toBeNull();
    expect(db.lookup('fe80::1%eth0')).toBeNull();
  });

  it('answers null for special-purpose blocks, which the data gives countries (unless told to keep them)', async () => {
    expect(db.lookup('192.168.1.1')).toEqual({ asn: null, as_org: null, country: null, range: { start: '192.168.0.0', end: '192.168.255.255' } });
    expect(db.lookup('203.0.113.9')).toMatchObject({ country: null, range: { start: '203.0.113.0', end: '203.0.113.255' } });
    expect(db.lookup('2001:db8::1')).toEqual({ asn: null, as_org: null, country: null, range: { start: '2001:db8::', end: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff' } });
    const raw = await IpDatabase.open({ cacheDir: cacheDir(), keepSpecialPurpose: true });
    expect(raw.describe().cache.rebuilt).toBe(false);
    expect(raw.lookup('192.168.1.1')?.country).toBe('AU');
    expect(raw.lookup('2001:db8::1')?.country).toBe('JP');
  });

  it('resolves the package\'s nested rows: the more specific row wins inside it', () => {
    // geo-whois-asn-country-ipv4.csv: 2.58.196.0-2.58.197.255 DE, then 2.58.197.15 BE inside it
    expect(db.lookup('2.58.197.14')?.country).toBe('DE');
    expect(db.lookup('2.58.197.15')).toMatchObject({ country: 'BE', range: { start: '2.58.197.15', end: '2.58.197.15' } });
    expect(db.lookup('2.58.197.16')?.country).toBe('DE');
  });

  it('describes the four package files, with their row counts, and reuses the cache on the next open', async () => {
    const d = db.describe();
    expect(d.sources.map((s) => [s.kind, s.origin])).toEqual([['asn-ipv4', 'package'], ['asn-ipv6', 'package'], ['country-ipv4', 'package'], ['country-ipv6', 'package']]);
    for (const s of d.sources) {
      const lines = (await readFile(s.path, 'utf8')).split('\n').filter((l) => l !== '').length;
      expect(s.rows).toBe(lines);
      expect(s.package?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(s.attribution).toMatch(/CC/);
    }
    const manifest = createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json');
    expect(d.sources[0]?.path).toBe(join(dirname(manifest), 'asn-ipv4-num.csv'));
    const again = await IpDatabase.open({ cacheDir: cacheDir() });
    expect(again.describe().cache.rebuilt).toBe(false);
    expect(again.describe().cache.bytes).toBe((await stat(join(cacheDir(), IPDB_CACHE_FILE))).size);
    for (const ip of ['1.1.1.1', '8.8.4.4', '2001:4860::1', '5.6.7.8', '2a00:1450::1']) expect(again.lookup(ip)).toEqual(db.lookup(ip));
  });
});

describe('lookups at range boundaries (a small hand-written database)', () => {
  let db: IpDatabase;
  beforeAll(async () => {
    db = await IpDatabase.open(await fixture());
  });
  const at = (ip: string): unknown => {
    const r = db.lookup(ip);
    return r && [r.asn, r.as_org, r.country, `${r.range.start}-${r.range.end}`];
  };

  it.each([
    ['0.0.0.0', [64496, 'Reserved Zero', null, '0.0.0.0-0.255.255.255']],
    ['0.255.255.255', [64496, 'Reserved Zero', null, '0.0.0.0-0.255.255.255']],
    ['1.0.0.0', [13335, 'Cloudflare, Inc.', 'AU', '1.0.0.0-1.0.0.255']],
    ['1.0.0.255', [13335, 'Cloudflare, Inc.', 'AU', '1.0.0.0-1.0.0.255']],
    ['1.0.1.0', [64500, 'LLC "Quoted"', 'CN', '1.0.1.0-1.0.1.255']],
    ['1.0.2.0', [null, null, 'CN', '1.0.2.0-1.0.3.255']],
    ['1.0.3.255', [null, null, 'CN', '1.0.2.0-1.0.3.255']],
    ['1.0.4.0', [64501, null, null, '1.0.4.0-1.0.7.255']],
    ['1.0.8.0', [null, null, null, '1.0.8.0-9.255.255.255']],
    ['9.255.255.255', [null, null, null, '1.0.8.0-9.255.255.255']],
    ['10.0.0.0', [64502, 'Outer', 'NL', '10.0.0.0-10.0.255.255']],
    ['10.0.255.255', [64502, 'Outer', 'NL', '10.0.0.0-10.0.255.255']],
    ['10.1.0.0', [64503, 'Inner', 'NL', '10.1.0.0-10.1.255.255']],
    ['10.1.255.255', [64503, 'Inner', 'NL', '10.1.0.0-10.1.255.255']],
    ['10.2.0.0', [64502, 'Outer', 'NL', '10.2.0.0-10.255.255.255']],
    ['11.0.0.0', [null, null, null, '11.0.0.0-255.255.254.255']],
    ['255.255.254.255', [null, null, null, '11.0.0.0-255.255.254.255']],
    ['255.255.255.255', [64504, 'Top', null, '255.255.255.0-255.255.255.255']],
    ['::ffff:1.0.0.1', [13335, 'Cloudflare, Inc.', 'AU', '1.0.0.0-1.0.0.255']],
    ['::', [null, null, null, '::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff']],
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', [null, null, null, '::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff']],
    ['2001:db8::', [64510, 'Doc Outer', 'DE', '2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff']],
    ['2001:db8:1::', [64511, 'Doc Inner', 'DE', '2001:db8:1::-2001:db8:1:0:ffff:ffff:ffff:ffff']],
    ['2001:db8:1:0:ffff:ffff:ffff:ffff', [64511, 'Doc Inner', 'DE', '2001:db8:1::-2001:db8:1:0:ffff:ffff:ffff:ffff']],
    ['2001:db8:1:1::', [64510, 'Doc Outer', 'DE', '2001:db8:1:1::-2001:db8:7fff:ffff:ffff:ffff:ffff:ffff']],
    ['2001:db8:8000::', [64510, 'Doc Outer', null, '2001:db8:8000::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff']],
    ['2001:db9::', [null, null, null, '2001:db9::-fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', [64512, 'Top6', null, 'ffff::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ])('%s', (ip, expected) => {
    expect(at(ip)).toEqual(expected);
  });

  it('has numeric entry points that agree with lookup()', () => {
    expect(db.lookupV4(parseIPv4('10.1.0.0'))).toEqual({ asn: 64503, as_org: 'Inner', country: 'NL', start: parseIPv4('10.1.0.0'), end: parseIPv4('10.1.255.255') });
    const w = new Uint32Array(8);
    w.set(parseIPv6('2001:db8:1::5') ?? [], 4);
    expect(db.lookupV6(w, 4)).toEqual({ asn: 64511, as_org: 'Doc Inner', country: 'DE' });
  });
});

describe('special-purpose blocks', () => {
  it('are masked by default: null fields, the block as the range, and neighbouring ranges cut at its edges', async () => {
    const f = await fixture();
    const db = await IpDatabase.open({ ...f, keepSpecialPurpose: false });
    expect(db.lookup('10.1.0.0')).toEqual({ asn: null, as_org: null, country: null, range: { start: '10.0.0.0', end: '10.255.255.255' } });
    expect(db.lookup('9.255.255.255')?.range).toEqual({ start: '1.0.8.0', end: '9.255.255.255' });
    expect(db.lookup('11.0.0.0')?.range).toEqual({ start: '11.0.0.0', end: '100.63.255.255' });
    expect(db.lookup('0.0.0.1')).toMatchObject({ asn: null, range: { start: '0.0.0.0', end: '0.255.255.255' } });
    expect(db.lookupV4(parseIPv4('10.1.0.0'))).toEqual({ asn: null, as_org: null, country: null, start: parseIPv4('10.0.0.0'), end: parseIPv4('10.255.255.255') });
    expect(db.lookupV6(parseIPv6('2001:db8:1::1') ?? [])).toEqual({ asn: null, as_org: null, country: null });
    expect(db.lookup('2001:db8:1::1')?.range).toEqual({ start: '2001:db8::', end: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff' });
    expect(db.lookup('2001:db9::')?.range).toEqual({ start: '2001:db9::', end: '3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff' });
    expect(db.lookup('1.0.0.1')?.asn).toBe(13335);
  });
});

describe('the compiled cache', () => {
  it('is reused while the sources are unchanged: a same-size, same-mtime rewrite of a CSV is not even read', async () => {
    const f = await fixture();
    const mtime = new Date('2026-01-02T03:04:05.000Z');
    await utimes(f.sources['asn-ipv4'], mtime, mtime);
    expect((await IpDatabase.open(f)).describe().cache.rebuilt).toBe(true);
    const { size } = await stat(f.sources['asn-ipv4']);
    await writeFile(f.sources['asn-ipv4'], 'x'.repeat(size));
    await utimes(f.sources['asn-ipv4'], mtime, mtime);
    const warm = await IpDatabase.open(f);
    expect(warm.describe().cache.rebuilt).toBe(false);
    expect(warm.lookup('1.0.0.1')?.asn).toBe(13335);
    await utimes(f.sources['asn-ipv4'], mtime, new Date(mtime.getTime() + 5000));
    const e = await failure(IpDatabase.open(f));
    expect(e.code).toBe('ipdb_invalid');
    expect(e.details).toMatchObject({ file: f.sources['asn-ipv4'], line: 1 });
  });

  it('is rebuilt when a source changes, and the change takes effect', async () => {
    const f = await fixture();
    await IpDatabase.open(f);
    await writeFile(f.sources['country-ipv4'], `${FIXTURE['country-ipv4']}3758096384,3758096639,JP\n`);
    const db = await IpDatabase.open(f);
    expect(db.describe().cache.rebuilt).toBe(true);
    expect(db.lookup('224.0.0.255')?.country).toBe('JP');
    expect((await IpDatabase.open(f)).describe().cache.rebuilt).toBe(false);
    expect((await readdir(f.cacheDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('is rebuilt when it is truncated or not a cache', async () => {
    const f = await fixture();
    await IpDatabase.open(f);
    const file = join(f.cacheDir, IPDB_CACHE_FILE);
    await truncate(file, (await stat(file)).size - 4);
    expect((await IpDatabase.open(f)).describe().cache.rebuilt).toBe(true);
    await writeFile(file, 'not a cache');
    const db = await IpDatabase.open(f);
    expect(db.describe().cache.rebuilt).toBe(true);
    expect(db.lookup('10.1.0.0')?.asn).toBe(64503);
  });

  it('fails with config_invalid when a source is missing', async () => {
    const f = await fixture();
    expect((await failure(IpDatabase.open({ ...f, sources: { ...f.sources, 'asn-ipv6': join(tmp, 'missing.csv') } }))).code).toBe('config_invalid');
  });
});

describe('hotline ipdb import', () => {
  const write = async (name: string, text: string | Buffer): Promise<string> => {
    const p = join(tmp, name);
    await writeFile(p, text);
    return p;
  };

  it.each([
    ['1.0.0.0,1.0.0.255,13335,Ok\n1.0.1.0,1.0.0.255,1,Backwards\n', 2, 'start is after end'],
    ['1.0.1.0,1.0.1.255,13335,Ok\n1.0.0.0,1.0.0.255,1,Earlier\n', 2, 'not sorted'],
    ['1.0.0.0,1.0.0.255,13335,Ok\n\n1.0.1.0,1.0.1.256,1,Bad\n', 3, 'end "1.0.1.256" is not an address of IPv4'],
    ['1.0.0.0,1.0.0.255,13335,Ok\n1.0.1.0,1.0.1.255,AS1,Bad\n', 2, 'ASN "AS1" is not a number'],
    ['1.0.0.0,1.0.0.255,13335,Ok\n1.0.1.0,1.0.1.255,1,Acme, Inc.\n', 2, 'the organisation is not a valid CSV field'],
    ['1.0.0.0,1.0.0.255,13335,Ok\n1.0.1.0,1.0.1.255,1,"Half "quoted"\n', 2, 'the organisation is not a valid CSV field'],
    ['1.0.0.0,1.0.0.255,13335,Ok\n1.0.1.0,1.0.1.255\n', 2, 'expected start,end,asn,org'],
    ['1.0.0.0,1.0.0.255,13335,Ok\n2001:db8::,2001:db8::1,1,Six\n', 2, 'start "2001:db8::" is not an address of IPv4'],
    ['1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.1.255,au\n', 2, 'country "au" is not a two-letter upper-case code'],
    ['1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.1.255,AU,extra\n', 2, 'expected start,end,CC'],
    ['16777216,16777471,AU\n16777472,4294967296,CN\n', 2, 'end "4294967296" is not a number of IPv4'],
    ['16777216,16777471,AU\n1.0.1.0,1.0.1.255,CN\n', 2, 'start "1.0.1.0" is not a number of IPv4'],
    ['one,two\n', 1, 'expected start,end,CC (country) or start,end,asn,org (ASN)'],
    ['\n\n', 2, 'the file holds no data rows'],
  ])('refuses a bad file, naming the line, and changes nothing (%#)', async (text, line, reason) => {
    const f = await fixture();
    const before = await IpDatabase.open(f);
    const cache = await stat(join(f.cacheDir, IPDB_CACHE_FILE));
    const file = await write(`bad-${dirs}.csv`, text);
    const e = await failure(importIpdb({ ...f, file }));
    expect(e.code).toBe('ipdb_invalid');
    expect(e.message).toContain(`line ${line}: ${reason}`);
    expect(e.details).toMatchObject({ file, line });
    expect(await readdir(join(f.cacheDir, 'sources')).catch(() => [])).toEqual([]);
    expect((await stat(join(f.cacheDir, IPDB_CACHE_FILE))).mtimeMs).toBe(cache.mtimeMs);
    const after = await IpDatabase.open(f);
    expect(after.describe().cache.rebuilt).toBe(false);
    expect(after.lookup('1.0.0.1')).toEqual(before.lookup('1.0.0.1'));
  });

  it('refuses a file that is not UTF-8, and overlapping rows when asked to', async () => {
    const f = await fixture();
    expect((await failure(importIpdb({ ...f, file: await write('latin1.csv', Buffer.from([0x31, 0x2c, 0xff, 0x0a])) }))).message).toContain('not UTF-8');
    const nested = await write('nested.csv', '10.0.0.0,10.255.255.255,NL\n10.1.0.0,10.1.255.255,DE\n');
    const e = await failure(importIpdb({ ...f, file: nested, overlaps: 'refuse' }));
    expect(e.message).toContain('line 2: overlaps the range on line 1');
    const ok = await importIpdb({ ...f, file: nested });
    expect(ok).toMatchObject({ kind: 'country-ipv4', rows: 2, ranges: 3, overlaps: 1, firstOverlapLine: 2 });
  });

  it('takes a good file into effect: detected kind, copied into sources/, the cache rebuilt, the next open warm', async () => {
    const f = await fixture();
    await IpDatabase.open(f);
    const file = await write('fresh-asn.csv', 'ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization\n1.0.0.0,1.0.0.255,65000,"Fresh, Ltd."\n');
    const r = await importIpdb({ ...f, file });
    expect(r).toMatchObject({ kind: 'asn-ipv4', encoding: 'text', rows: 1, path: join(f.cacheDir, 'sources', 'asn-ipv4.csv') });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(r.path, 'utf8')).toBe(await readFile(file, 'utf8'));
    const imported = r.database.sources.find((s) => s.kind === 'asn-ipv4');
    expect(imported).toMatchObject({ origin: 'import', importedFrom: file, rows: 1 });
    const db = await IpDatabase.open(f);
    expect(db.describe().cache.rebuilt).toBe(false);
    expect(db.lookup('1.0.0.1')).toMatchObject({ asn: 65000, as_org: 'Fresh, Ltd.', country: 'AU' });
    expect(db.lookup('10.1.0.0')).toMatchObject({ asn: null, country: 'NL' });
    expect(await removeIpdbImport({ cacheDir: f.cacheDir, kind: 'asn-ipv4' })).toBe(true);
    expect((await IpDatabase.open(f)).lookup('1.0.0.1')?.asn).toBe(13335);
  });

  it('detects each kind and encoding from the content, or takes the kind given', async () => {
    const f = await fixture();
    const cases: [string, string, string][] = [
      ['a6.csv', '2001:db8::,2001:db8::ffff,64999,Six\n', 'asn-ipv6/text'],
      ['a6n.csv', `${num6('2001:db8::')},${num6('2001:db8::ffff')},64999,Six\n`, 'asn-ipv6/num'],
      ['a4n.csv', '16777216,16777471,64999,Four\n', 'asn-ipv4/num'],
      ['c4.csv', '1.0.0.0,1.0.0.255,FR\n', 'country-ipv4/text'],
      ['c6.csv', '2001:db8::,2001:db8::ffff,FR\n', 'country-ipv6/text'],
      ['c6n.csv', `${num6('2001:db8::')},${num6('2001:db8::ffff')},FR\n`, 'country-ipv6/num'],
    ];
    for (const [name, text, expected] of cases) {
      const r = await importIpdb({ ...f, file: await write(name, text) });
      expect(`${r.kind}/${r.encoding}`).toBe(expected);
    }
    expect((await describeIpdb(f)).sources.map((s) => s.origin)).toEqual(['import', 'import', 'import', 'import']);
    const db = await IpDatabase.open(f);
    expect(db.lookup('2001:db8::1')).toMatchObject({ asn: 64999, as_org: 'Six', country: 'FR' });
    const small = await write('small6.csv', '0,4294967295,ZZ\n');
    expect((await importIpdb({ ...f, file: small, kind: 'country-ipv6' })).kind).toBe('country-ipv6');
    expect((await failure(importIpdb({ ...f, file: small, kind: 'asn-ipv4' }))).message).toContain('line 1: expected start,end,asn,org');
  });
});
