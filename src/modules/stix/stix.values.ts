/**
 * Syntax of STIX 2.1 primitive values (section 2): type names, identifiers, timestamps, and the
 * value syntaxes of the cyber-observables (IP addresses, domain names, URLs, …). Hand-written
 * scanners where it pays (timestamps, through shared/clock.ts dateTimeFields; IPs, without allocation);
 * regular expressions compiled once.
 */
import { parseIPv4At, parseIPv6Into } from '../../shared/ip.js';
import { dateTimeFields, digitsAt } from '../../shared/clock.js';

/** Custom property names: ASCII a-z 0-9 _, beginning with a letter, 3 to 250 characters (Customizing STIX). */
const PROPERTY_NAME = /^[a-z][a-z0-9_]{2,249}$/;

/** Length of `--` plus a UUID: the part of an identifier after its type. */
const ID_SUFFIX = 38;

/**
 * True when `s` ends, from index `at`, in `--<UUID>` with an RFC 4122 UUID: variant bits `10`
 * (8, 9, a, b) and a version 1 to 5. RFC 4122 defines versions 1-5 only and the OASIS schemas accept
 * exactly those; STIX asks for v4 (SDO/SRO/meta) or v5 (deterministic SCO ids), which both pass.
 * Versions 6-8 (RFC 9562, e.g. the node's own UUIDv7 message ids) are refused: do not use them
 * for STIX ids. Hex may be upper case. A hand-written scan: this runs several times per object.
 */
function uuidSuffix(s: string, at: number): boolean {
  if (s.length - at !== ID_SUFFIX || s.charCodeAt(at) !== 45 || s.charCodeAt(at + 1) !== 45) return false;
  const u = at + 2;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(u + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  const version = s.charCodeAt(u + 14);
  const variant = s.charCodeAt(u + 19) | 0x20;
  return version >= 49 && version <= 53 && (variant === 56 || variant === 57 || variant === 97 || variant === 98);
}

/** True when `s[0..end)` is a type name: `[a-z][a-z0-9]*(-[a-z0-9]+)*`, 3-250 characters. */
function typeNameAt(s: string, end: number): boolean {
  if (end < 3 || end > 250) return false;
  let prev = 45;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) prev = c;
    else if ((c >= 48 && c <= 57) && i > 0) prev = c;
    else if (c === 45 && prev !== 45) prev = c;
    else return false;
  }
  return prev !== 45;
}

/** True when `s` is a syntactically valid STIX type name. */
export function isTypeName(s: string): boolean {
  return typeNameAt(s, s.length);
}

/** True when `s` may name a custom property. */
export function isPropertyName(s: string): boolean {
  return PROPERTY_NAME.test(s);
}

/** The type part of a STIX identifier, or null when `s` is not one. */
export function identifierType(s: string): string | null {
  const at = s.length - ID_SUFFIX;
  if (!typeNameAt(s, at) || !uuidSuffix(s, at)) return null;
  return s.slice(0, at);
}

/** True when `s` is the identifier of an object of (the valid type name) `type`. */
export function isIdentifierOf(s: string, type: string): boolean {
  return s.length === type.length + ID_SUFFIX && s.startsWith(type) && uuidSuffix(s, type.length);
}

/**
 * The STIX `timestamp` type: RFC 3339 `YYYY-MM-DDTHH:MM:SS[.s+]Z`, UTC only, on a real calendar
 * day (no 30 February), seconds 00-59 or 60 at 23:59 (a leap second). With `millis`, at least
 * three fractional digits are required (the `created` and `modified` properties, section 3.2).
 */
export function isTimestamp(s: string, millis = false): boolean {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 /* Z */) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 /* T */
    || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const f = dateTimeFields(s);
  if (f === undefined || (f.second === 60 && (f.hour !== 23 || f.minute !== 59))) return false;
  if (n === 20) return !millis;
  if (s.charCodeAt(19) !== 46 /* . */ || n - 21 < (millis ? 3 : 1)) return false;
  for (let i = 20; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Compares two valid timestamps chronologically (fractions of any precision): -1, 0 or 1. */
export function compareTimestamps(a: string, b: string): number {
  for (let i = 0; i < 19; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  // Fractional digits sit between index 20 and the final Z; a missing digit counts as 0.
  const na = a.length - 1;
  const nb = b.length - 1;
  for (let i = 20; i < Math.max(na, nb); i++) {
    const ca = i < na ? a.charCodeAt(i) : 48;
    const cb = i < nb ? b.charCodeAt(i) : 48;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

/** Decimal integer 0..max written without sign or leading zeros, from `s[at]` to `s[end]`. */
function decimal(s: string, at: number, end: number, max: number): boolean {
  if (end <= at || end - at > 3 || (end - at > 1 && s.charCodeAt(at) === 48)) return false;
  const v = digitsAt(s, at, end - at);
  return v >= 0 && v <= max;
}

/** Splits an optional `/prefix` off: returns the index of the slash (or the length), -1 when the prefix is bad. */
function cidr(s: string, maxPrefix: number, allow: boolean): number {
  const slash = s.indexOf('/');
  if (slash < 0) return s.length;
  if (!allow || !decimal(s, slash + 1, s.length, maxPrefix)) return -1;
  return slash;
}

const scratch = new Uint32Array(4);

/** A dotted-quad IPv4 address (no leading zeros), optionally in CIDR notation `/0`-`/32` (host bits may be set, as STIX allows). */
export function isIpv4(s: string, allowCidr = true): boolean {
  const end = cidr(s, 32, allowCidr);
  return end > 0 && parseIPv4At(s, 0, end) >= 0;
}

/**
 * An IPv6 address in RFC 4291 text form (1-4 hex digits a group, at most one `::`, an optional
 * trailing dotted IPv4), optionally in CIDR notation `/0`-`/128`. Zone ids (`%eth0`) are refused.
 */
export function isIpv6(s: string, allowCidr = true): boolean {
  const end = cidr(s, 128, allowCidr);
  return end > 1 && s.indexOf(':') >= 0 && parseIPv6Into(end === s.length ? s : s.slice(0, end), scratch);
}

/** Domain names (RFC 1034/1123 letters-digits-hyphens, with IDN letters): labels 1-63, name up to 253. */
const DOMAIN_NAME = /^(?=.{1,253}$)[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?)*$/u;

/** True when `s` is a domain name as the `domain-name` object's `value` must be. */
export function isDomainName(s: string): boolean {
  return DOMAIN_NAME.test(s);
}

/** An RFC 5322 dot-atom addr-spec with a DNS domain of at least two labels. */
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** True when `s` is a single e-mail address (addr-spec). */
export function isEmailAddress(s: string): boolean {
  return s.length <= 320 && EMAIL.test(s);
}

/** RFC 3986 URI, checked at the character level: a scheme, then only URI characters or %XX escapes. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/;

/** True when `s` is an absolute URI (RFC 3986 characters; the authority is not parsed further). */
export function isUri(s: string): boolean {
  return URI.test(s);
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** A colon-delimited, lower-case MAC-48 address (the `mac-addr` object's `value`). */
export function isMacAddress(s: string): boolean {
  return MAC.test(s);
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;

/** The STIX `hex` type: a non-empty, even number of hex digits. */
export function isHex(s: string): boolean {
  return HEX.test(s);
}

/** The STIX `binary` type: non-empty RFC 4648 base64 with its padding. */
export function isBase64(s: string): boolean {
  return BASE64.test(s);
}

/** Hex digits a hash value has, by algorithm (hash-algorithm-ov); SSDEEP, TLSH and custom names take every string. */
export const HASH_HEX_DIGITS: ReadonlyMap<string, number> = new Map([
  ['MD5', 32],
  ['SHA-1', 40],
  ['SHA-256', 64],
  ['SHA-512', 128],
  ['SHA3-256', 64],
  ['SHA3-512', 128],
]);

const HEX_DIGITS = /^[0-9a-fA-F]+$/;

/** True when `s` is exactly `n` hex digits (either case). */
export function isHexDigits(s: string, n: number): boolean {
  return s.length === n && HEX_DIGITS.test(s);
}

/** Custom hash names: `^[a-zA-Z0-9_-]{3,250}$`, as the schema's hashes-type. */
const HASH_KEY = /^[a-zA-Z0-9_-]{3,250}$/;

/** True when `k` may name a hash: a hash-algorithm-ov name (SSDEEP, TLSH included) or a custom name. */
export function isHashKey(k: string): boolean {
  return HASH_KEY.test(k);
}

/** Dictionary keys (the `dictionary` type): 1-250 ASCII letters, digits, `_` and `-`. */
const DICT_KEY = /^[a-zA-Z0-9_-]{1,250}$/;

/** True when `k` is a valid dictionary key. */
export function isDictionaryKey(k: string): boolean {
  return DICT_KEY.test(k);
}

/** The shape of an RFC 5646 language tag (subtags of 1-8 letters or digits; no registry look-up). */
const LANG = /^[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*$/;

/** True when `s` looks like a language tag (`en`, `pt-BR`, `zh-Hant-TW`). */
export function isLanguageTag(s: string): boolean {
  return LANG.test(s);
}
