import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fail } from '../../shared/errors.js';
import { compareV6, formatIPv4, formatIPv6, isV4Mapped, parseIPv4, parseIPv6Into, SPECIAL_PURPOSE_PREFIXES } from '../../shared/ip.js';
import { readIpdbCache, syncDir, writeFileAtomic, writeIpdbCache, type IpdbOrigin, type IpdbSourceRecord, type IpdbTables } from './feeds.ipcache.js';
import { AsnDictionary, IPDB_KINDS, NO_ORG, parseIpdbCsv, unpackCountry, type IpdbEncoding, type IpdbKind, type OverlapPolicy } from './feeds.ipcsv.js';
import { PACKAGE_FILES, readImportMeta, readSourceText, resolveIpdbSources, sourcesDir, type ResolvedSource } from './feeds.ipsources.js';
import { PrefixTable, type RangesV4, type RangesV6 } from './feeds.ranges.js';

export { IPDB_KINDS, type IpdbKind, type OverlapPolicy } from './feeds.ipcsv.js';

/*
 * The IP database in six files: feeds.ip (addresses and prefixes as numbers), feeds.ranges
 * (sorted range tables over typed arrays, the overlap rule, the routing PrefixTable), feeds.ipcsv
 * (the ip-location-db CSV layouts, checked row by row), feeds.ipcache (the compiled binary cache),
 * feeds.ipsources (which file serves each table), and this one: open, lookup, import, describe.
 */

/** What the database knows about an address. `range` is the span around it over which all three answers hold. */
export interface IpInfo {
  asn: number | null;
  as_org: string | null;
  country: string | null;
  range: { start: string; end: string };
}

/** The hot-path answer: no strings built (the organisation name and country code are interned). */
export interface IpEnrichment {
  asn: number | null;
  as_org: string | null;
  country: string | null;
}

/** {@link IpEnrichment} for IPv4, with the span it holds over as uint32s. */
export interface IpEnrichmentV4 extends IpEnrichment {
  start: number;
  end: number;
}

/** Options for {@link IpDatabase.open}. */
export interface IpdbOpenOptions {
  /** Where the compiled cache and imported sources live: the node home's `ipdb/` folder. Created if missing. */
  cacheDir: string;
  /** Source files to use instead of the npm packages' (an imported file still takes precedence). */
  sources?: Partial<Record<IpdbKind, string>>;
  /** Overlapping rows (the packages hold some): resolved by default, the later row winning. */
  overlaps?: OverlapPolicy;
  /**
   * Answer what the data says for special-purpose blocks (private, loopback, documentation,
   * multicast...: `SPECIAL_PURPOSE_PREFIXES`) instead of null fields. Off by default: the packages
   * give 192.168.0.0/16 a country, which routing must not believe.
   */
  keepSpecialPurpose?: boolean;
}

/** What `hotline ipdb status` shows. */
export interface IpdbDescription {
  cache: { path: string; bytes: number; builtAt: string; rebuilt: boolean; loadMs: number };
  sources: (IpdbSourceRecord & { modified: string; attribution: string | null })[];
}

/** The compiled cache's file name in a cache directory. */
export const IPDB_CACHE_FILE = 'ipdb.bin';

const scratch = new Uint32Array(4);
const spanA = new Uint32Array(8);
const spanC = new Uint32Array(8);
const spanS = new Uint32Array(8);
let special: PrefixTable<string> | null = null;
const specialPurpose = (): PrefixTable<string> => (special ??= PrefixTable.build(SPECIAL_PURPOSE_PREFIXES));

async function build(sources: ResolvedSource[], opts: IpdbOpenOptions): Promise<{ records: IpdbSourceRecord[]; tables: IpdbTables }> {
  const dict = new AsnDictionary();
  const ranges = new Map<IpdbKind, RangesV4 | RangesV6>();
  const records: IpdbSourceRecord[] = [];
  for (const s of sources) {
    const { text } = await readSourceText(s.path);
    const p = parseIpdbCsv(text, { file: s.path, kind: s.kind, dict, ...(opts.overlaps ? { overlaps: opts.overlaps } : {}) });
    ranges.set(s.kind, p.ranges);
    const meta = s.origin === 'import' ? await readImportMeta(opts.cacheDir, s.kind, s.bytes) : null;
    const { kind, path, origin, bytes, mtimeMs } = s;
    records.push({ kind, path, origin, bytes, mtimeMs, encoding: p.encoding, rows: p.rows, ranges: p.ranges.size, overlaps: p.overlaps, firstOverlapLine: p.firstOverlapLine, ...(s.package ? { package: s.package } : {}), ...meta });
  }
  const enc = new TextEncoder();
  const encoded = dict.names.map((n) => enc.encode(n));
  const orgOffsets = new Uint32Array(encoded.length + 1);
  for (const [i, e] of encoded.entries()) orgOffsets[i + 1] = (orgOffsets[i] ?? 0) + e.length;
  const orgBytes = new Uint8Array(orgOffsets[encoded.length] ?? 0);
  for (const [i, e] of encoded.entries()) orgBytes.set(e, orgOffsets[i] ?? 0);
  const v4 = (k: IpdbKind): RangesV4 => ranges.get(k) as RangesV4;
  const v6 = (k: IpdbKind): RangesV6 => ranges.get(k) as RangesV6;
  const tables: IpdbTables = {
    asn4: v4('asn-ipv4'), asn6: v6('asn-ipv6'), country4: v4('country-ipv4'), country6: v6('country-ipv6'),
    pairAsn: Uint32Array.from(dict.asns), pairOrg: Uint32Array.from(dict.orgs), orgOffsets, orgBytes,
  };
  return { records, tables };
}

/** The cache's record still describes the file (and, when overlaps are to be refused, the file had none). */
const unchanged = (r: ResolvedSource, c: IpdbSourceRecord | undefined, policy: OverlapPolicy | undefined): boolean =>
  typeof c === 'object' && c !== null && c.kind === r.kind && c.path === r.path && c.origin === r.origin && c.bytes === r.bytes && c.mtimeMs === r.mtimeMs && !(policy === 'refuse' && c.overlaps > 0);

const described = (records: IpdbSourceRecord[]): IpdbDescription['sources'] =>
  records.map((r) => ({ ...r, modified: new Date(r.mtimeMs).toISOString(), attribution: r.origin === 'package' ? PACKAGE_FILES[r.kind].attribution : null }));

/**
 * The offline IP → ASN, AS organisation and country database: four range tables (ASN and
 * country, IPv4 and IPv6) looked up independently and merged. Lookups are binary searches over
 * typed arrays; opening reuses a compiled cache while the source files are unchanged.
 *
 * @example
 * const db = await IpDatabase.open({ cacheDir: join(home, 'ipdb') });
 * db.lookup('1.1.1.1'); // { asn: 13335, as_org: 'Cloudflare, Inc.', country: 'AU', range: { start: '1.1.1.0', end: '1.1.1.255' } }
 * db.lookupV4(parseIPv4('8.8.8.8')).asn; // 15169
 */
export class IpDatabase {
  private readonly orgCache: (string | undefined)[];
  private readonly ccCache: (string | undefined)[] = [];
  private readonly decoder = new TextDecoder();

  private readonly sp4: RangesV4 | null;
  private readonly sp6: RangesV6 | null;

  private constructor(
    private readonly t: IpdbTables,
    private readonly info: IpdbDescription,
    keepSpecialPurpose: boolean,
  ) {
    this.orgCache = new Array<string | undefined>(Math.max(0, t.orgOffsets.length - 1));
    this.sp4 = keepSpecialPurpose ? null : specialPurpose().v4;
    this.sp6 = keepSpecialPurpose ? null : specialPurpose().v6;
  }

  /**
   * Opens the database: loads `<cacheDir>/ipdb.bin` if it was built from the same source files
   * (path, size and mtime each), otherwise parses the CSV files, checks every row, and rewrites
   * the cache atomically. A bad source fails with `invalid_argument` naming the file and line;
   * a missing one with `config_invalid`.
   */
  static async open(opts: IpdbOpenOptions): Promise<IpDatabase> {
    const t0 = performance.now();
    await mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });
    const file = join(opts.cacheDir, IPDB_CACHE_FILE);
    const sources = await resolveIpdbSources(opts.cacheDir, opts.sources);
    const cached = await readIpdbCache(file);
    if (cached !== null && cached.header.sources.length === sources.length && sources.every((s, i) => unchanged(s, cached.header.sources[i], opts.overlaps))) {
      const { size } = await stat(file);
      const cache = { path: file, bytes: size, builtAt: cached.header.builtAt, rebuilt: false, loadMs: performance.now() - t0 };
      return new IpDatabase(cached.tables, { cache, sources: described(cached.header.sources) }, opts.keepSpecialPurpose === true);
    }
    const { records, tables } = await build(sources, opts);
    const bytes = await writeIpdbCache(file, records, tables);
    const cache = { path: file, bytes, builtAt: new Date().toISOString(), rebuilt: true, loadMs: performance.now() - t0 };
    return new IpDatabase(tables, { cache, sources: described(records) }, opts.keepSpecialPurpose === true);
  }

  /** Which files are in use, their rows and dates, and the cache (for `hotline ipdb status`). */
  describe(): IpdbDescription {
    return this.info;
  }

  /**
   * Looks up address text: IPv4, or IPv6 (IPv4-mapped IPv6 is looked up as IPv4, its range given
   * in IPv4). Null only when the text is not an address; an address no range holds gets null
   * fields, and the gap around it as its range.
   */
  lookup(ip: string): IpInfo | null {
    if (ip.indexOf(':') < 0) {
      const n = parseIPv4(ip);
      return n < 0 ? null : this.infoV4(n);
    }
    if (!parseIPv6Into(ip, scratch)) return null;
    if (isV4Mapped(scratch)) return this.infoV4(scratch[3] ?? 0);
    const { asn6, country6 } = this.t;
    const sp = this.sp6;
    const x = sp === null ? -1 : sp.floor(scratch);
    const hx = sp !== null && x >= 0 && sp.endsAtOrAfter(x, scratch);
    if (sp !== null) span6(sp, x, hx, spanS);
    else spanS.fill(0, 0, 4).fill(0xffffffff, 4, 8);
    if (hx) return { asn: null, as_org: null, country: null, range: { start: formatIPv6(spanS, 0), end: formatIPv6(spanS, 4) } };
    const a = asn6.floor(scratch);
    const c = country6.floor(scratch);
    const ha = a >= 0 && asn6.endsAtOrAfter(a, scratch);
    const hc = c >= 0 && country6.endsAtOrAfter(c, scratch);
    span6(asn6, a, ha, spanA);
    span6(country6, c, hc, spanC);
    const lo1 = compareV6(spanA, 0, spanC, 0) > 0 ? spanA : spanC;
    const lo = compareV6(spanS, 0, lo1, 0) > 0 ? spanS : lo1;
    const hi1 = compareV6(spanA, 4, spanC, 4) < 0 ? spanA : spanC;
    const hi = compareV6(spanS, 4, hi1, 4) < 0 ? spanS : hi1;
    const r = this.answer(ha ? (asn6.values[a] ?? 0) : -1, hc ? (country6.values[c] ?? 0) : -1);
    return { asn: r.asn, as_org: r.as_org, country: r.country, range: { start: formatIPv6(lo, 0), end: formatIPv6(hi, 4) } };
  }

  /** The pipeline's IPv4 entry point: the address as a uint32 (from `parseIPv4`). */
  lookupV4(n: number): IpEnrichmentV4 {
    let lo = 0;
    let hi = 0xffffffff;
    const sp = this.sp4;
    if (sp !== null) {
      const x = sp.floor(n);
      if (x >= 0 && (sp.ends[x] ?? 0) >= n) return { asn: null, as_org: null, country: null, start: sp.starts[x] ?? 0, end: sp.ends[x] ?? 0 };
      if (x >= 0) lo = (sp.ends[x] ?? 0) + 1;
      if (x + 1 < sp.size) hi = (sp.starts[x + 1] ?? 0) - 1;
    }
    const { asn4, country4 } = this.t;
    const a = asn4.floor(n);
    const c = country4.floor(n);
    const ha = a >= 0 && (asn4.ends[a] ?? 0) >= n;
    const hc = c >= 0 && (country4.ends[c] ?? 0) >= n;
    const la = ha ? (asn4.starts[a] ?? 0) : a >= 0 ? (asn4.ends[a] ?? 0) + 1 : 0;
    const ua = ha ? (asn4.ends[a] ?? 0) : a + 1 < asn4.size ? (asn4.starts[a + 1] ?? 0) - 1 : 0xffffffff;
    const lc = hc ? (country4.starts[c] ?? 0) : c >= 0 ? (country4.ends[c] ?? 0) + 1 : 0;
    const uc = hc ? (country4.ends[c] ?? 0) : c + 1 < country4.size ? (country4.starts[c + 1] ?? 0) - 1 : 0xffffffff;
    const pair = ha ? (asn4.values[a] ?? 0) : -1;
    const cc = hc ? (country4.values[c] ?? 0) : -1;
    return {
      asn: pair < 0 ? null : (this.t.pairAsn[pair] ?? null),
      as_org: pair < 0 ? null : this.org(pair),
      country: cc < 0 ? null : this.country(cc),
      start: Math.max(la, lc, lo),
      end: Math.min(ua, uc, hi),
    };
  }

  /** The pipeline's IPv6 entry point: four words at `w[off..off+3]` (from `parseIPv6Into`); IPv4-mapped words are not redirected here. */
  lookupV6(w: ArrayLike<number>, off = 0): IpEnrichment {
    if (this.sp6 !== null && this.sp6.find(w, off) >= 0) return { asn: null, as_org: null, country: null };
    const a = this.t.asn6.find(w, off);
    const c = this.t.country6.find(w, off);
    return this.answer(a < 0 ? -1 : (this.t.asn6.values[a] ?? 0), c < 0 ? -1 : (this.t.country6.values[c] ?? 0));
  }

  private infoV4(n: number): IpInfo {
    const r = this.lookupV4(n);
    return { asn: r.asn, as_org: r.as_org, country: r.country, range: { start: formatIPv4(r.start), end: formatIPv4(r.end) } };
  }

  private answer(pair: number, cc: number): IpEnrichment {
    return {
      asn: pair < 0 ? null : (this.t.pairAsn[pair] ?? null),
      as_org: pair < 0 ? null : this.org(pair),
      country: cc < 0 ? null : this.country(cc),
    };
  }

  private org(pair: number): string | null {
    const id = this.t.pairOrg[pair] ?? NO_ORG;
    if (id === NO_ORG) return null;
    const known = this.orgCache[id];
    if (known !== undefined) return known;
    const { orgOffsets, orgBytes } = this.t;
    return (this.orgCache[id] = this.decoder.decode(orgBytes.subarray(orgOffsets[id] ?? 0, orgOffsets[id + 1] ?? 0)));
  }

  private country(v: number): string {
    return (this.ccCache[v] ??= unpackCountry(v));
  }
}

/**
 * The span around an address over which table `t` answers the same, into `out` (first address
 * at 0..3, last at 4..7): range i if it holds the address, else the gap between i and i + 1.
 */
function span6(t: RangesV6, i: number, hit: boolean, out: Uint32Array): void {
  const { starts, ends } = t;
  if (hit) {
    for (let k = 0; k < 4; k++) [out[k], out[4 + k]] = [starts[4 * i + k] ?? 0, ends[4 * i + k] ?? 0];
    return;
  }
  if (i >= 0) {
    for (let k = 0; k < 4; k++) out[k] = ends[4 * i + k] ?? 0;
    for (let k = 3; k >= 0 && (out[k] = ((out[k] ?? 0) + 1) >>> 0) === 0; k--); // + 1 (ends[i] is below the address, so no overflow)
  } else out.fill(0, 0, 4);
  if (i + 1 < t.size) {
    for (let k = 0; k < 4; k++) out[4 + k] = starts[4 * i + 4 + k] ?? 0;
    for (let k = 7; k >= 4 && (out[k] = ((out[k] ?? 0) - 1) >>> 0) === 0xffffffff; k--); // - 1 (starts[i + 1] is above the address)
  } else out.fill(0xffffffff, 4, 8);
}

/** Opens the database and describes it (for `hotline ipdb status`); builds the cache if it is stale. */
export async function describeIpdb(opts: IpdbOpenOptions): Promise<IpdbDescription> {
  return (await IpDatabase.open(opts)).describe();
}

/** Options for {@link importIpdb}. */
export interface IpdbImportOptions extends IpdbOpenOptions {
  /** The CSV to import, in either package's layout (text or `-num`). */
  file: string;
  /** Which table it replaces; detected from the content when omitted. */
  kind?: IpdbKind;
}

/** What an import did. */
export interface IpdbImportResult {
  kind: IpdbKind;
  encoding: IpdbEncoding;
  rows: number;
  ranges: number;
  overlaps: number;
  firstOverlapLine: number | null;
  sha256: string;
  /** Where the file now lives: `<cacheDir>/sources/<kind>.csv`. */
  path: string;
  /** The database after the import (its cache already rebuilt). */
  database: IpdbDescription;
}

/**
 * `hotline ipdb import FILE`: checks every row of a fresher CSV (the first bad row fails the
 * import with `invalid_argument`, naming the line and the reason, and nothing changes), then
 * copies it atomically to `<cacheDir>/sources/<kind>.csv`, where it takes precedence over the
 * package's file of the same kind, and rebuilds the cache so the next open is fast.
 */
export async function importIpdb(opts: IpdbImportOptions): Promise<IpdbImportResult> {
  const file = resolve(opts.file);
  const { text, raw } = await readSourceText(file);
  const parsed = parseIpdbCsv(text, { file, dict: new AsnDictionary(), ...(opts.kind ? { kind: opts.kind } : {}), ...(opts.overlaps ? { overlaps: opts.overlaps } : {}) });
  const dir = sourcesDir(opts.cacheDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${parsed.kind}.csv`);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  await writeFileAtomic(path, [raw]);
  const meta = { importedFrom: file, importedAt: new Date().toISOString(), bytes: raw.length, sha256, encoding: parsed.encoding, name: basename(file) };
  await writeFileAtomic(join(dir, `${parsed.kind}.json`), [Buffer.from(`${JSON.stringify(meta, null, 2)}\n`)]);
  const database = await describeIpdb(opts);
  const { kind, encoding, rows, overlaps, firstOverlapLine } = parsed;
  return { kind, encoding, rows, ranges: parsed.ranges.size, overlaps, firstOverlapLine, sha256, path, database };
}

/** Drops an imported file so the kind goes back to the package's (or the caller's) file; true if there was one. */
export async function removeIpdbImport(opts: { cacheDir: string; kind: IpdbKind }): Promise<boolean> {
  if (!(IPDB_KINDS as readonly string[]).includes(opts.kind)) fail('invalid_argument', `"${opts.kind}" is not one of ${IPDB_KINDS.join(', ')}`);
  const dir = sourcesDir(opts.cacheDir);
  const csv = join(dir, `${opts.kind}.csv`);
  const had = (await stat(csv).catch(() => null)) !== null;
  await rm(csv, { force: true });
  await rm(join(dir, `${opts.kind}.json`), { force: true });
  if (had) await syncDir(dir);
  return had;
}

export type { IpdbOrigin, IpdbSourceRecord };
