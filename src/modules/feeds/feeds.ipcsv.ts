import { fail } from '../../shared/errors.js';
import { parseIPv4At, parseIPv6Into, v6ToBigInt } from '../../shared/ip.js';
import { RangesV4Builder, RangesV6Builder, type RangesV4, type RangesV6 } from './feeds.ranges.js';

/**
 * The ip-location-db CSV layouts, read and checked row by row:
 * `start,end,asn,"org"` (ASN) and `start,end,CC` (country), where start and end are either
 * address text or decimal integers (the `-num` files), inclusive, sorted by start.
 */

/** The four tables an IP database holds. */
export const IPDB_KINDS = ['asn-ipv4', 'asn-ipv6', 'country-ipv4', 'country-ipv6'] as const;
export type IpdbKind = (typeof IPDB_KINDS)[number];

/** How addresses are written in a file: text (`1.0.0.0`, `2001::`) or decimal integers. */
export type IpdbEncoding = 'text' | 'num';

/** What to do with a row that overlaps an earlier one: resolve by the painter's rule (later row wins), or refuse the file. */
export type OverlapPolicy = 'resolve' | 'refuse';

/** The org index a pair has when the file names no organisation. */
export const NO_ORG = 0xffffffff;

/** Interns (ASN, organisation) pairs and organisation names: both ASN tables share one dictionary. */
export class AsnDictionary {
  readonly asns: number[] = [];
  readonly orgs: number[] = [];
  readonly names: string[] = [];
  private readonly byAsn = new Map<number, number>();
  private readonly nextSameAsn: number[] = [];
  private readonly nameIds = new Map<string, number>();
  private lastAsn = -1;
  private lastOrg = '';
  private lastIdx = -1;

  /** The pair's index, adding it if new. */
  intern(asn: number, org: string): number {
    if (asn === this.lastAsn && org === this.lastOrg) return this.lastIdx;
    const first = this.byAsn.get(asn);
    let idx = first ?? -1;
    while (idx >= 0 && (this.orgs[idx] === NO_ORG ? '' : this.names[this.orgs[idx] ?? 0]) !== org) idx = this.nextSameAsn[idx] ?? -1;
    if (idx < 0) {
      let name = NO_ORG;
      if (org !== '') {
        name = this.nameIds.get(org) ?? this.names.length;
        if (name === this.names.length) {
          this.names.push(org);
          this.nameIds.set(org, name);
        }
      }
      idx = this.asns.length;
      this.asns.push(asn);
      this.orgs.push(name);
      this.nextSameAsn.push(first ?? -1);
      this.byAsn.set(asn, idx);
    }
    [this.lastAsn, this.lastOrg, this.lastIdx] = [asn, org, idx];
    return idx;
  }
}

/** A checked file, flattened into ranges (values: pair indices for ASN tables, packed country codes for country tables). */
export interface ParsedIpdbFile {
  kind: IpdbKind;
  encoding: IpdbEncoding;
  /** Data rows read (a header line and blank lines not counted). */
  rows: number;
  /** Rows that overlapped an earlier row (resolved: the later row wins where they overlap). */
  overlaps: number;
  firstOverlapLine: number | null;
  ranges: RangesV4 | RangesV6;
}

/** Packs a two-letter country code into a uint16 (`'US'` → 0x5553). */
export function packCountry(cc: string): number {
  return (cc.charCodeAt(0) << 8) | cc.charCodeAt(1);
}

/** The code a packed value stands for. */
export function unpackCountry(v: number): string {
  return String.fromCharCode(v >>> 8, v & 255);
}

const MAX_V4 = 0xffffffff;
const MAX_V6 = (1n << 128n) - 1n;
const DIGITS = /^[0-9]+$/;
/** A header line (the packages have none; some exports do): its first field names the start column. */
const HEADER = /^"?(ip_)?(range_)?start(_ip)?"?$/i;
const scratch = new Uint32Array(4);

function bad(file: string, line: number, reason: string): never {
  return fail('ipdb_invalid', `${file} line ${line}: ${reason}`, { file, line, reason });
}

/**
 * Tells the kind and encoding from the first data row: three fields is a country file, four or
 * more (a quoted organisation may hold commas) an ASN file; `:` means IPv6 text, `.` IPv4 text,
 * digits a `-num` file (IPv6 if the first row's end exceeds 2^32-1). With `kind` given, only the
 * encoding is detected. Returns a reason when the row fits no layout.
 */
export function detectIpdbFormat(line: string, kind?: IpdbKind): { kind: IpdbKind; encoding: IpdbEncoding } | string {
  const quote = line.indexOf('"');
  const head = quote < 0 ? line : line.slice(0, quote);
  const commas = head.split(',').length - 1;
  const [start = '', end = ''] = line.split(',', 2);
  const encoding: IpdbEncoding = DIGITS.test(start) ? 'num' : 'text';
  if (kind !== undefined) return { kind, encoding };
  const table = commas === 2 && quote < 0 ? 'country' : commas >= 3 ? 'asn' : null;
  if (table === null) return 'expected start,end,CC (country) or start,end,asn,org (ASN)';
  let family: 4 | 6;
  if (encoding === 'num') family = DIGITS.test(end) && BigInt(end) > BigInt(MAX_V4) ? 6 : 4;
  else if (start.includes(':')) family = 6;
  else if (start.includes('.')) family = 4;
  else return `"${start}" is neither an address nor a number`;
  return { kind: `${table}-ipv${family}`, encoding };
}

/** Reads an unsigned decimal in `s[from, to)` no greater than `max`, or -1. */
function decimalAt(s: string, from: number, to: number, max: number): number {
  if (to <= from || to - from > 10) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v > max ? -1 : v;
}

/**
 * Parses and checks a whole file: every row must have the kind's fields, addresses of the
 * file's family and encoding, start ≤ end, starts in non-decreasing order, an ASN 0..2^32-1,
 * a two-letter upper-case country code. The first bad row fails the file with `invalid_argument`,
 * naming the line and the reason. Overlapping rows are counted and resolved (or refused, per `overlaps`).
 */
export function parseIpdbCsv(
  text: string,
  opts: { file: string; kind?: IpdbKind; dict: AsnDictionary; overlaps?: OverlapPolicy },
): ParsedIpdbFile {
  const { file, dict } = opts;
  const policy = opts.overlaps ?? 'resolve';
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 0;
  let format: { kind: IpdbKind; encoding: IpdbEncoding } | null = null;
  let b4: RangesV4Builder | null = null;
  let b6: RangesV6Builder | null = null;
  let rows = 0;
  let overlaps = 0;
  let firstOverlapLine: number | null = null;
  let prev4 = -1;
  let max4 = -1;
  let prev6 = -1n;
  let max6 = -1n;
  let maxLine = 0;
  const len = text.length;
  while (pos < len) {
    line++;
    const nl = text.indexOf('\n', pos);
    let eol = nl < 0 ? len : nl;
    const from = pos;
    pos = eol + 1;
    if (eol > from && text.charCodeAt(eol - 1) === 13) eol--;
    if (eol === from) continue;
    if (format === null) {
      const first = text.slice(from, eol);
      if (rows === 0 && HEADER.test(first.split(',')[0] ?? '')) continue;
      const f = detectIpdbFormat(first, opts.kind);
      if (typeof f === 'string') bad(file, line, f);
      format = f;
      if (f.kind.endsWith('4')) b4 = new RangesV4Builder();
      else b6 = new RangesV6Builder();
    }
    const { kind, encoding } = format;
    const isAsn = kind === 'asn-ipv4' || kind === 'asn-ipv6';
    const c1 = text.indexOf(',', from);
    const c2 = c1 < 0 || c1 >= eol ? -1 : text.indexOf(',', c1 + 1);
    if (c2 < 0 || c2 >= eol) bad(file, line, `expected ${isAsn ? 'start,end,asn,org' : 'start,end,CC'}`);
    // addresses: numbers for IPv4, BigInts for IPv6 (the cold path)
    let s4 = 0;
    let e4 = 0;
    let s6 = 0n;
    let e6 = 0n;
    if (b4 !== null) {
      s4 = encoding === 'num' ? decimalAt(text, from, c1, MAX_V4) : parseIPv4At(text, from, c1);
      e4 = encoding === 'num' ? decimalAt(text, c1 + 1, c2, MAX_V4) : parseIPv4At(text, c1 + 1, c2);
      if (s4 < 0) bad(file, line, `start "${text.slice(from, c1)}" is not ${what(kind, encoding)}`);
      if (e4 < 0) bad(file, line, `end "${text.slice(c1 + 1, c2)}" is not ${what(kind, encoding)}`);
    } else {
      s6 = v6Field(text.slice(from, c1), encoding, () => bad(file, line, `start "${text.slice(from, c1)}" is not ${what(kind, encoding)}`));
      e6 = v6Field(text.slice(c1 + 1, c2), encoding, () => bad(file, line, `end "${text.slice(c1 + 1, c2)}" is not ${what(kind, encoding)}`));
    }
    const v4 = b4 !== null;
    if (v4 ? s4 > e4 : s6 > e6) bad(file, line, 'start is after end');
    if (v4 ? s4 < prev4 : s6 < prev6) bad(file, line, 'not sorted: this row starts before the row above it');
    if (v4 ? s4 <= max4 : s6 <= max6) {
      if (policy === 'refuse') bad(file, line, `overlaps the range on line ${maxLine}`);
      overlaps++;
      firstOverlapLine ??= line;
    }
    if (v4) {
      prev4 = s4;
      if (e4 > max4) [max4, maxLine] = [e4, line];
    } else {
      prev6 = s6;
      if (e6 > max6) [max6, maxLine] = [e6, line];
    }
    // value
    let value: number;
    if (isAsn) {
      const c3 = text.indexOf(',', c2 + 1);
      if (c3 < 0 || c3 >= eol) bad(file, line, 'expected start,end,asn,org');
      const asn = decimalAt(text, c2 + 1, c3, MAX_V4);
      if (asn < 0) bad(file, line, `ASN "${text.slice(c2 + 1, c3)}" is not a number 0..4294967295`);
      const org = orgField(text.slice(c3 + 1, eol));
      if (org === null) bad(file, line, 'the organisation is not a valid CSV field (quote it if it holds a comma; double the quotes inside)');
      value = dict.intern(asn, org);
    } else {
      const a = text.charCodeAt(c2 + 1);
      const b = text.charCodeAt(c2 + 2);
      if (eol - c2 !== 3 || a < 65 || a > 90 || b < 65 || b > 90) {
        const cc = text.slice(c2 + 1, eol);
        bad(file, line, cc.includes(',') ? 'expected start,end,CC' : `country "${cc}" is not a two-letter upper-case code`);
      }
      value = (a << 8) | b;
    }
    if (b4 !== null) b4.add(s4, e4, value);
    else b6?.add(s6, e6, value);
    rows++;
  }
  if (format === null || rows === 0) bad(file, line, 'the file holds no data rows');
  const ranges = b4 !== null ? b4.build() : (b6 as RangesV6Builder).build();
  return { kind: format.kind, encoding: format.encoding, rows, overlaps, firstOverlapLine, ranges };
}

function what(kind: IpdbKind, encoding: IpdbEncoding): string {
  return `${encoding === 'num' ? 'a number' : 'an address'} of ${kind.endsWith('4') ? 'IPv4' : 'IPv6'}`;
}

function v6Field(t: string, encoding: IpdbEncoding, onBad: () => never): bigint {
  if (encoding === 'num') {
    if (!DIGITS.test(t) || t.length > 39) onBad();
    const v = BigInt(t);
    return v > MAX_V6 ? onBad() : v;
  }
  return parseIPv6Into(t, scratch) ? v6ToBigInt(scratch) : onBad();
}

/** The organisation field: quoted (RFC 4180, `""` for a quote) or bare without commas; null if malformed. */
function orgField(t: string): string | null {
  if (t.charCodeAt(0) !== 34) return t.includes(',') ? null : t;
  if (t.length < 2 || t.charCodeAt(t.length - 1) !== 34) return null;
  const inner = t.slice(1, -1);
  if (!inner.includes('"')) return inner;
  if (inner.replaceAll('""', '').includes('"')) return null;
  return inner.replaceAll('""', '"');
}
