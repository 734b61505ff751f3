import { fail } from './errors.js';

/**
 * IP addresses as numbers, for code that handles millions of feed records.
 *
 * - IPv4 is a uint32 in a JS number (`1.2.3.4` → `0x01020304`).
 * - IPv6 is four uint32 words, most significant first (`words[0]` holds bits 127..96), in a
 *   `Uint32Array`. No BigInt on the hot path: comparing two addresses is at most four integer
 *   compares, and a range table is a flat `Uint32Array` of 4 words per entry.
 *
 * Text rules (decided here, relied on elsewhere):
 * - IPv4 is a strict dotted quad: four decimal parts 0..255, no signs, spaces or empty parts,
 *   and no leading zeros (`01.2.3.4` is refused: inet_aton would read it as octal, so it is ambiguous).
 * - IPv6 follows RFC 4291 section 2.2: 1..4 hex digits per group (any case), one `::` for one or
 *   more zero groups, an embedded IPv4 dotted quad in the last 32 bits (`::ffff:1.2.3.4`).
 *   Zone ids (`fe80::1%eth0`), brackets, prefixes and surrounding spaces are refused.
 * - Formatting is canonical: RFC 5952 for IPv6 (lowercase, longest run of two or more zero
 *   groups compressed, the first if tied), with IPv4-mapped addresses as `::ffff:1.2.3.4` (section 5).
 */

/** An IPv6 address: four uint32 words, most significant first. */
export type IPv6Words = Uint32Array;

/** A parsed address: IPv4-mapped IPv6 (`::ffff:a.b.c.d`) comes back as IPv4 (see {@link parseIp}). */
export type IpAddress = { readonly version: 4; readonly v4: number } | { readonly version: 6; readonly v6: IPv6Words };

/**
 * Parses a strict dotted quad to a uint32, or returns -1. Allocation-free.
 * @example parseIPv4('203.0.113.7') === 0xcb007107; parseIPv4('010.0.0.1') === -1
 */
export function parseIPv4(s: string): number {
  return parseIPv4At(s, 0, s.length);
}

/** Parses `s[from, to)` as a dotted quad (same rules as {@link parseIPv4}); -1 if it is not one. */
export function parseIPv4At(s: string, from: number, to: number): number {
  const len = to - from;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + part;
}

/** Formats a uint32 as a dotted quad. */
export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const groups = new Uint16Array(8);

/**
 * Parses IPv6 text into `out[off..off+3]` (four words, most significant first), without allocating.
 * Returns false (and leaves `out` in an unspecified state) if `s` is not an IPv6 address.
 */
export function parseIPv6Into(s: string, out: Uint32Array, off = 0): boolean {
  const len = s.length;
  if (len < 2 || len > 45) return false;
  let n = 0; // groups seen
  let gap = -1; // index in groups where `::` stands
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    if (n === 8) return false;
    const start = i;
    let v = 0;
    while (i < len && i - start < 5) {
      const c = s.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      v = v * 16 + d;
      i++;
    }
    if (i < len && s.charCodeAt(i) === 46) {
      // embedded IPv4: the rest of the text, in the last two groups
      if (n > 6) return false;
      const v4 = parseIPv4At(s, start, len);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = len;
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4) return false;
    groups[n++] = v;
    if (i === len) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < len && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === len) return false; // trailing single colon
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const fill = 8 - n;
  for (let w = 0; w < 4; w++) {
    const a = 2 * w;
    const hi = a < gap || gap < 0 ? (groups[a] ?? 0) : a < gap + fill ? 0 : (groups[a - fill] ?? 0);
    const b = a + 1;
    const lo = b < gap || gap < 0 ? (groups[b] ?? 0) : b < gap + fill ? 0 : (groups[b - fill] ?? 0);
    out[off + w] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}

/** Parses IPv6 text to four words, or null. Allocates the result; see {@link parseIPv6Into} for the hot path. */
export function parseIPv6(s: string): IPv6Words | null {
  const out = new Uint32Array(4);
  return parseIPv6Into(s, out) ? out : null;
}

/** True if the words are an IPv4-mapped address (`::ffff:0:0/96`). */
export function isV4Mapped(w: ArrayLike<number>, off = 0): boolean {
  return w[off] === 0 && w[off + 1] === 0 && w[off + 2] === 0xffff;
}

/** Formats four words as canonical IPv6 text (RFC 5952; IPv4-mapped as `::ffff:a.b.c.d`). */
export function formatIPv6(w: ArrayLike<number>, off = 0): string {
  if (isV4Mapped(w, off)) return `::ffff:${formatIPv4(w[off + 3] ?? 0)}`;
  const g = fmtGroups;
  for (let k = 0; k < 4; k++) {
    const word = w[off + k] ?? 0;
    g[2 * k] = word >>> 16;
    g[2 * k + 1] = word & 0xffff;
  }
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let k = 0; k < 8; k++) {
    if (g[k] !== 0) continue;
    let e = k + 1;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) [bestAt, bestLen] = [k, e - k];
    k = e;
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestAt) {
      out += '::';
      k += bestLen - 1;
    } else out += (k === 0 || k === bestAt + bestLen ? '' : ':') + (g[k] ?? 0).toString(16);
  }
  return out;
}

const fmtGroups = new Uint16Array(8);

/**
 * Parses either family. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is returned as the IPv4 address, so
 * lookups and routing treat a dual-stack report of a v4 host like the v4 host. Null if invalid.
 */
export function parseIp(s: string): IpAddress | null {
  if (s.indexOf(':') < 0) {
    const v4 = parseIPv4(s);
    return v4 < 0 ? null : { version: 4, v4 };
  }
  const v6 = parseIPv6(s);
  if (v6 === null) return null;
  return isV4Mapped(v6) ? { version: 4, v4: v6[3] ?? 0 } : { version: 6, v6 };
}

/** Formats a parsed address canonically. */
export function formatIp(a: IpAddress): string {
  return a.version === 4 ? formatIPv4(a.v4) : formatIPv6(a.v6);
}

/** Compares two IPv6 addresses held in word arrays: negative, zero or positive. */
export function compareV6(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[aOff + k] ?? 0;
    const y = b[bOff + k] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Four words to a 128-bit BigInt (for cold paths: building tables, tests). */
export function v6ToBigInt(w: ArrayLike<number>, off = 0): bigint {
  return (BigInt(w[off] ?? 0) << 96n) | (BigInt(w[off + 1] ?? 0) << 64n) | (BigInt(w[off + 2] ?? 0) << 32n) | BigInt(w[off + 3] ?? 0);
}

/** A 128-bit BigInt into `out[off..off+3]`. */
export function bigIntToV6(x: bigint, out: Uint32Array = new Uint32Array(4), off = 0): Uint32Array {
  out[off] = Number((x >> 96n) & 0xffffffffn);
  out[off + 1] = Number((x >> 64n) & 0xffffffffn);
  out[off + 2] = Number((x >> 32n) & 0xffffffffn);
  out[off + 3] = Number(x & 0xffffffffn);
  return out;
}

/** An IP prefix; `start` and `end` are its first and last addresses (inclusive). */
export type Cidr =
  | { readonly version: 4; readonly prefix: number; readonly start: number; readonly end: number }
  | { readonly version: 6; readonly prefix: number; readonly start: IPv6Words; readonly end: IPv6Words };

/**
 * Parses `203.0.113.0/24` or `2001:db8::/32`; a bare address is a host prefix (/32 or /128).
 * Returns a reason instead when the text is not a prefix. Host bits must be zero
 * (`203.0.113.5/24` is refused: in a jurisdiction list it is more likely a typo than an intent).
 * An IPv4-mapped IPv6 prefix (`::ffff:10.0.0.0/104`) is returned as the IPv4 prefix.
 */
export function parseCidrOrReason(s: string): Cidr | string {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const a = parseIp(addr);
  if (a === null) return `"${addr}" is not an IPv4 or IPv6 address`;
  const mapped = a.version === 4 && addr.indexOf(':') >= 0;
  const max = a.version === 4 && !mapped ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) return `"/${p}" is not a prefix length 0..${max}`;
    prefix = Number(p);
  }
  if (mapped) {
    if (prefix < 96) return `"${s}" reaches outside ::ffff:0:0/96; write the IPv4 prefix instead`;
    prefix -= 96;
  }
  if (a.version === 4) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((a.v4 & ~mask) >>> 0 !== 0) return `host bits are set in "${s}"; the prefix is ${formatIPv4((a.v4 & mask) >>> 0)}/${prefix}`;
    return { version: 4, prefix, start: a.v4, end: (a.v4 | ~mask) >>> 0 };
  }
  const start = a.v6;
  const end = new Uint32Array(4);
  for (let k = 0; k < 4; k++) {
    const bits = Math.min(32, Math.max(0, prefix - 32 * k));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const w = start[k] ?? 0;
    if ((w & ~mask) >>> 0 !== 0) {
      const net = start.slice();
      for (let j = k; j < 4; j++) {
        const bj = Math.min(32, Math.max(0, prefix - 32 * j));
        net[j] = ((net[j] ?? 0) & (bj === 0 ? 0 : (0xffffffff << (32 - bj)) >>> 0)) >>> 0;
      }
      return `host bits are set in "${s}"; the prefix is ${formatIPv6(net)}/${prefix}`;
    }
    end[k] = (w | ~mask) >>> 0;
  }
  return { version: 6, prefix, start, end };
}

/** Parses a prefix, or null (see {@link parseCidrOrReason} for the rules and the reason). */
export function parseCidr(s: string): Cidr | null {
  const c = parseCidrOrReason(s);
  return typeof c === 'string' ? null : c;
}

/** Parses a prefix from configuration, failing with `invalid_argument` and the reason. */
export function checkCidr(s: string, where = 'prefix'): Cidr {
  const c = parseCidrOrReason(s);
  return typeof c === 'string' ? fail('invalid_argument', `${where}: ${c}`, { value: s }) : c;
}

/** Canonical text of a prefix: `203.0.113.0/24`, `2001:db8::/32`. */
export function formatCidr(c: Cidr): string {
  return `${c.version === 4 ? formatIPv4(c.start) : formatIPv6(c.start)}/${c.prefix}`;
}

/**
 * True if the prefix holds the address (text, a uint32 for IPv4, or IPv6 words).
 * IPv4-mapped IPv6 text counts as the IPv4 address. For many prefixes per record use `PrefixTable`.
 */
export function cidrContains(c: Cidr, ip: string | number | IPv6Words): boolean {
  if (typeof ip === 'number') return c.version === 4 && ip >= c.start && ip <= c.end;
  if (typeof ip !== 'string') return c.version === 6 && compareV6(ip, 0, c.start, 0) >= 0 && compareV6(ip, 0, c.end, 0) <= 0;
  const a = parseIp(ip);
  if (a === null) return false;
  return a.version === 4 ? cidrContains(c, a.v4) : cidrContains(c, a.v6);
}

/**
 * Special-purpose address blocks that are not globally reachable (IANA's IPv4 and IPv6
 * special-purpose registries, RFC 6890 and successors): a country or ASN the data gives for them
 * (the packages put 192.168.0.0/16 in AU) is no fact about the address, so the IP database
 * answers null for them unless told otherwise. IPv4-mapped IPv6 is handled as IPv4.
 */
export const SPECIAL_PURPOSE_PREFIXES: readonly (readonly [prefix: string, name: string])[] = [
  ['0.0.0.0/8', 'this network (RFC 791)'],
  ['10.0.0.0/8', 'private use (RFC 1918)'],
  ['100.64.0.0/10', 'shared address space (RFC 6598)'],
  ['127.0.0.0/8', 'loopback (RFC 1122)'],
  ['169.254.0.0/16', 'link local (RFC 3927)'],
  ['172.16.0.0/12', 'private use (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0/24', 'documentation, TEST-NET-1 (RFC 5737)'],
  ['192.168.0.0/16', 'private use (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking (RFC 2544)'],
  ['198.51.100.0/24', 'documentation, TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'documentation, TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0/4', 'multicast (RFC 5771)'],
  ['240.0.0.0/4', 'reserved, and limited broadcast (RFC 1112, RFC 919)'],
  ['::/127', 'unspecified and loopback (RFC 4291)'],
  ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation (RFC 8215)'],
  ['100::/64', 'discard only (RFC 6666)'],
  ['2001:db8::/32', 'documentation (RFC 3849)'],
  ['3fff::/20', 'documentation (RFC 9637)'],
  ['5f00::/16', 'segment routing SIDs (RFC 9602)'],
  ['fc00::/7', 'unique local (RFC 4193)'],
  ['fe80::/10', 'link local (RFC 4291)'],
  ['ff00::/8', 'multicast (RFC 4291)'],
];
