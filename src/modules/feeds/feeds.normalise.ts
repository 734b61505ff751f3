import { formatIp, parseIp, parseIPv4At } from '../../shared/ip.js';
import type { CsvBatch } from './feeds.csv.js';
import { CSV_ROW_ERRORS } from './feeds.csv.js';
import type { Layout } from './feeds.presets.js';
import { FEED_FIELDS, type FeedField, type FeedRecord, type FeedReject } from './feeds.types.js';

/**
 * Normalise: one row's values → a `FeedRecord`, or a `FeedReject` naming the line, the column and
 * what is wrong with it. Hand-written parsers for the hot path (IPs, ports, timestamps: no regular
 * expressions, no `Date` parsing); the few string → string steps (family, type: feeds.presets.ts)
 * are cached.
 */

const IP = 0;
const PORT = 1;
const TIMESTAMP = 2;
const TYPE = 3;
const FAMILY = 4;
const ASN = 5;
const COUNTRY = 6;
const C2_IP = 7;
const C2_PORT = 8;
const PROTOCOL = 9;
const HOSTNAME = 10;
const FIELD_COUNT = FEED_FIELDS.length;

/** The timestamp forms a preset can accept. `epoch` is seconds below 10^11, else milliseconds. */
export const TIMESTAMP_FORMATS = ['iso8601', 'epoch', 'epoch_s', 'epoch_ms'] as const;

export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];

/** Bit flags of accepted timestamp formats (see `timestampMask`). */
const F_ISO = 1;
const F_EPOCH = 2;
const F_EPOCH_S = 4;
const F_EPOCH_MS = 8;

/** The bit mask `parseTimestamp` takes, from a preset's list of formats. */
export function timestampMask(formats: readonly TimestampFormat[]): number {
  let m = 0;
  for (const f of formats) m |= f === 'iso8601' ? F_ISO : f === 'epoch' ? F_EPOCH : f === 'epoch_s' ? F_EPOCH_S : F_EPOCH_MS;
  return m;
}

// ---------------------------------------------------------------------------------------------
// IP addresses (feeds.ip.ts)

/**
 * The canonical text of an IP address (IPv4 dotted quad; IPv6 per RFC 5952; an IPv4-mapped IPv6
 * address as the IPv4 address), or null when `s` is not one.
 */
export function canonicalIp(s: string): string | null {
  const a = parseIp(s);
  return a === null ? null : formatIp(a);
}

// ---------------------------------------------------------------------------------------------
// Numbers and timestamps

/** A decimal integer 0..max in `s[from, to)` (leading zeros allowed), or -1. */
export function parseUint(s: string, max: number, from = 0, to = s.length): number {
  if (to <= from || to - from > 10) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= max ? v : -1;
}

/** An AS number in `s[from, to)`: `64496`, `AS64496`, or `AS64496 Some Org` (the name is dropped); -1 when not one. */
export function parseAsn(s: string, from = 0, to = s.length): number {
  if ((s.charCodeAt(from) | 32) === 97 && (s.charCodeAt(from + 1) | 32) === 115) from += 2;
  let end = from;
  while (end < to && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
  if (end < to && s.charCodeAt(end) !== 32) return -1;
  return parseUint(s, 4294967295, from, end);
}

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

let lastDateKey = -1;
let lastDateMs = 0;

/**
 * ISO 8601 / RFC 3339 in the forms feeds use, in `s[a, n)`: `YYYY-MM-DD`, then `T` or a space,
 * `HH:MM[:SS[.f+]]`, then nothing (UTC), `Z`, ` UTC`, or an offset `±HH[:MM]`/`±HHMM`. NaN when not one.
 */
function parseIso(s: string, a: number, n: number): number {
  if (n - a < 10 || s.charCodeAt(a + 4) !== 45 || s.charCodeAt(a + 7) !== 45) return NaN;
  const y = d2(s, a) * 100 + d2(s, a + 2);
  const mo = d2(s, a + 5);
  const d = d2(s, a + 8);
  const key = y * 10000 + mo * 100 + d;
  let ms: number;
  if (key === lastDateKey) ms = lastDateMs;
  else {
    if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= (MONTH_DAYS[mo] ?? 0) && y >= 1970)) return NaN;
    if (mo === 2 && d === 29 && (y % 4 !== 0 || (y % 100 === 0 && y % 400 !== 0))) return NaN;
    ms = daysFromCivil(y, mo, d) * 86400000;
    lastDateKey = key;
    lastDateMs = ms;
  }
  if (n - a === 10) return ms;
  const sep = s.charCodeAt(a + 10);
  if ((sep !== 84 && sep !== 116 && sep !== 32) || n - a < 16 || s.charCodeAt(a + 13) !== 58) return NaN;
  const h = d2(s, a + 11);
  const mi = d2(s, a + 14);
  let i = a + 16;
  let sec = 0;
  if (s.charCodeAt(i) === 58) {
    sec = d2(s, i + 1);
    i += 3;
  }
  if (!(h <= 23 && mi <= 59 && sec <= 59)) return NaN;
  ms += ((h * 60 + mi) * 60 + sec) * 1000;
  if (i === n) return ms;
  let c = s.charCodeAt(i);
  if (c === 46 || c === 44) {
    let k = 0;
    let frac = 0;
    while (++i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) if (k++ < 3) frac = frac * 10 + (c - 48);
    if (k === 0) return NaN;
    while (k++ < 3) frac *= 10;
    ms += frac;
    if (i === n) return ms;
    c = s.charCodeAt(i);
  }
  if ((c === 90 || c === 122) && i + 1 === n) return ms;
  if (c === 32 && n - i === 4 && s.slice(i + 1, n).toUpperCase() === 'UTC') return ms;
  if (c !== 43 && c !== 45) return NaN;
  const oh = d2(s, i + 1);
  let om = 0;
  if (n - i === 6 && s.charCodeAt(i + 3) === 58) om = d2(s, i + 4);
  else if (n - i === 5) om = d2(s, i + 3);
  else if (n - i !== 3) return NaN;
  if (!(oh <= 23 && om <= 59)) return NaN;
  const off = (oh * 60 + om) * 60000;
  return c === 43 ? ms - off : ms + off;
}

const MAX_TIME = 253402300800000; // 10000-01-01T00:00:00Z

/**
 * Milliseconds since the epoch (UTC) of the timestamp in `s[from, to)` in one of the formats of
 * `mask` (`timestampMask`), or NaN. Epoch values may carry a decimal fraction (of seconds).
 */
export function parseTimestamp(s: string, mask: number, from = 0, to = s.length): number {
  const c = s.charCodeAt(from);
  if (!(c >= 48 && c <= 57)) return NaN;
  if (mask & F_ISO && to - from >= 10 && s.charCodeAt(from + 4) === 45) return parseIso(s, from, to);
  if ((mask & (F_EPOCH | F_EPOCH_S | F_EPOCH_MS)) === 0) return NaN;
  let v = 0;
  let i = from;
  for (; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (i < to) {
    if (s.charCodeAt(i) !== 46) return NaN;
    v = Number(s.slice(from, to));
    if (v !== v) return NaN;
  }
  let ms: number;
  if (mask & F_EPOCH || (mask & F_EPOCH_S && mask & F_EPOCH_MS)) ms = v < 1e11 ? v * 1000 : v;
  else if (mask & F_EPOCH_S) ms = v * 1000;
  else if (i === to) ms = v;
  else return NaN;
  const t = Math.round(ms);
  return t < MAX_TIME ? t : NaN;
}

// ---------------------------------------------------------------------------------------------
// Rows

/**
 * One row's mapped values, indexed like `FEED_FIELDS`, as ranges: field `f` is
 * `src[f].slice(from[f], to[f])`, trimmed, empty when `from[f] === to[f]`. Ranges let the CSV
 * reader hand over offsets into its batch text: numbers, timestamps and IPs are checked in place
 * and only the strings a record keeps are cut out.
 */
export class RowValues {
  readonly src: string[] = FEED_FIELDS.map(() => '');
  readonly from = new Int32Array(FEED_FIELDS.length);
  readonly to = new Int32Array(FEED_FIELDS.length);

  /** Sets field `f` to `s[a, b)` without its leading and trailing blanks. */
  set(f: number, s: string, a: number, b: number): void {
    while (a < b && s.charCodeAt(a) <= 32) a++;
    while (b > a && s.charCodeAt(b - 1) <= 32) b--;
    this.src[f] = s;
    this.from[f] = a;
    this.to[f] = b;
  }

  /** Sets field `f` empty. */
  clear(f: number): void {
    this.from[f] = 0;
    this.to[f] = 0;
  }

  /** Field `f` as a string. */
  get(f: number): string {
    return (this.src[f] ?? '').slice(this.from[f], this.to[f]);
  }
}

/** 'AA'..'ZZ' by (first letter × 26 + second), so a country code costs no allocation. */
const COUNTRY_CODES: readonly string[] = Array.from({ length: 676 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));

function quote(v: string): string {
  return `'${v.length > 80 ? `${v.slice(0, 77)}...` : v}'`;
}

function reject(line: number, layout: Layout, f: number, problem: string): FeedReject {
  const field = FEED_FIELDS[f] as FeedField;
  return { line, reason: `'${layout.names[f] ?? field}' ${problem}`, field };
}

function bad(line: number, layout: Layout, v: RowValues, f: number, problem: string): FeedReject {
  return reject(line, layout, f, `${problem}: ${quote(v.get(f))}`);
}

/** The canonical IP in field `f`, or null. */
function ipAt(v: RowValues, f: number): string | null {
  const s = v.src[f] ?? '';
  const a = v.from[f] ?? 0;
  const b = v.to[f] ?? 0;
  if (b - a <= 15 && parseIPv4At(s, a, b) >= 0) return s.slice(a, b);
  return canonicalIp(s.slice(a, b));
}

/**
 * One row's values → a record, or a reject naming the column (as the file spells it) and what is
 * wrong. `now` is the timestamp of a record whose layout maps no timestamp column.
 */
export function normaliseRow(v: RowValues, line: number, layout: Layout, source: string, now: number): FeedRecord | FeedReject {
  const { src, from, to } = v;
  if (from[IP] === to[IP]) return reject(line, layout, IP, 'is empty');
  const ip = ipAt(v, IP);
  if (ip === null) return bad(line, layout, v, IP, 'is not an IP address');
  let port: number | null = null;
  if (from[PORT] !== to[PORT]) {
    port = parseUint(src[PORT] ?? '', 65535, from[PORT], to[PORT]);
    if (port < 0) return bad(line, layout, v, PORT, 'is not a port (0-65535)');
  }
  let timestamp = now;
  if (layout.index[TIMESTAMP] !== -1) {
    if (from[TIMESTAMP] === to[TIMESTAMP]) return reject(line, layout, TIMESTAMP, 'is empty');
    timestamp = parseTimestamp(src[TIMESTAMP] ?? '', layout.timestampMask, from[TIMESTAMP], to[TIMESTAMP]);
    if (timestamp !== timestamp) return bad(line, layout, v, TIMESTAMP, `is not a timestamp (${layout.timestampFormats.join(', ')})`);
  }
  const type = layout.typeConst ?? layout.types.type(v.get(TYPE));
  const family = from[FAMILY] === to[FAMILY] ? null : layout.family.normalise(v.get(FAMILY));
  let asn: number | null = null;
  if (from[ASN] !== to[ASN]) {
    asn = parseAsn(src[ASN] ?? '', from[ASN], to[ASN]);
    if (asn < 0) return bad(line, layout, v, ASN, 'is not an AS number');
  }
  let country: string | null = null;
  if (from[COUNTRY] !== to[COUNTRY]) {
    const s = src[COUNTRY] ?? '';
    const at = from[COUNTRY] ?? 0;
    const x = (s.charCodeAt(at) | 32) - 97;
    const y = (s.charCodeAt(at + 1) | 32) - 97;
    if (to[COUNTRY] !== at + 2 || !(x >= 0 && x < 26 && y >= 0 && y < 26)) return bad(line, layout, v, COUNTRY, 'is not an ISO 3166 alpha-2 country code');
    country = COUNTRY_CODES[x * 26 + y] ?? null;
  }
  let c2_ip: string | null = null;
  if (from[C2_IP] !== to[C2_IP]) {
    c2_ip = ipAt(v, C2_IP);
    if (c2_ip === null) return bad(line, layout, v, C2_IP, 'is not an IP address');
  }
  let c2_port: number | null = null;
  if (from[C2_PORT] !== to[C2_PORT]) {
    c2_port = parseUint(src[C2_PORT] ?? '', 65535, from[C2_PORT], to[C2_PORT]);
    if (c2_port < 0) return bad(line, layout, v, C2_PORT, 'is not a port (0-65535)');
  }
  const protocol = from[PROTOCOL] === to[PROTOCOL] ? null : v.get(PROTOCOL).toLowerCase();
  const hostname = from[HOSTNAME] === to[HOSTNAME] ? null : v.get(HOSTNAME).toLowerCase();
  return { line, ip, port, timestamp, type, family, source, asn, country, c2_ip, c2_port, protocol, hostname };
}

/**
 * Normalises row `r` of a CSV batch: a malformed row (quoting) or one whose field count differs
 * from the header's is rejected; otherwise its mapped columns go to `normaliseRow`. `v` is reused.
 */
export function normaliseCsvRow(b: CsvBatch, r: number, layout: Layout, source: string, now: number, v: RowValues): FeedRecord | FeedReject {
  const line = b.line[r] ?? 0;
  const err = b.error[r] ?? 0;
  if (err !== 0) return { line, reason: CSV_ROW_ERRORS[err as 1 | 2], field: null };
  const base = b.rowField[r] ?? 0;
  const n = (b.rowField[r + 1] ?? 0) - base;
  if (n !== layout.columns) return { line, reason: `has ${n} field${n === 1 ? '' : 's'}; the header has ${layout.columns}`, field: null };
  const idx = layout.index;
  const text = b.text;
  for (let f = 0; f < FIELD_COUNT; f++) {
    const c = idx[f] ?? -1;
    if (c < 0) v.clear(f);
    else if (b.escaped[base + c] === 1) {
      const s = b.field(r, c);
      v.set(f, s, 0, s.length);
    } else v.set(f, text, b.fieldStart[base + c] ?? 0, b.fieldEnd[base + c] ?? 0);
  }
  return normaliseRow(v, line, layout, source, now);
}

/** True when a normalise result is a reject. */
export function isReject(x: FeedRecord | FeedReject): x is FeedReject {
  return 'reason' in x;
}
