/**
 * RFC 8785 (JCS) canonical JSON, written from docs/protocol.md section 6 and the RFC alone.
 * Input is a JSON value as JSON.parse builds it. Refuses what JCS cannot represent (lone
 * surrogates, non-finite numbers, undefined, functions) instead of guessing.
 */

export type Json = null | boolean | number | string | Json[] | { [name: string]: Json };

/** UTF-16 code-unit order (RFC 8785 section 3.2.3), written out rather than left to sort()'s default. */
export function compareUtf16(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const SHORT: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** A JSON string as ECMAScript JSON.stringify writes it, refusing lone surrogates (I-JSON). */
export function jcsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT[c];
    if (short !== undefined) out += short;
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw new Error(`lone high surrogate at index ${i}`);
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) throw new Error(`lone low surrogate at index ${i}`);
    else out += s[i]!;
  }
  return out + '"';
}

/** ECMAScript Number::toString, which is what JCS specifies; -0 is written 0. */
export function jcsNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`${n} is not a JSON number`);
  if (Object.is(n, -0)) return '0';
  return String(n);
}

/** The JCS text of a JSON value. */
export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return jcsNumber(value);
    case 'string':
      return jcsString(value);
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map((v) => canonicalize(v)).join(',') + ']';
      const names = Object.keys(value).sort(compareUtf16);
      const record = value as Record<string, unknown>;
      return '{' + names.map((k) => jcsString(k) + ':' + canonicalize(record[k])).join(',') + '}';
    }
    default:
      throw new Error(`${typeof value} is not a JSON value`);
  }
}

/** The UTF-8 bytes of the JCS form. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
