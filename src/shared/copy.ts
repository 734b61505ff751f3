import { Utf8Buffer } from './utf8.js';

/**
 * Rows in the text format of PostgreSQL's COPY: what a `copy <table> (<columns>) from stdin`
 * statement takes as its one parameter (adapters/storage/postgres.ts runs it as COPY). The
 * fastest way into a table: the server parses each row's fields and writes whole pages of rows
 * at once, where an INSERT of a batch's rows from arrays cost it 1.5-1.8 times the CPU (docs/benchmarks.md).
 */

/** The characters COPY's text format gives a meaning: a backslash starts an escape, a tab ends a field, a newline (or CR) a row. */
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field: a text as it is (its special characters escaped), a number in decimal, null as `\N`. */
export function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`COPY field ${v} is not a finite number`);
    return String(v);
  }
  return SPECIAL.test(v) ? v.replace(SPECIALS, (c) => ESCAPED[c]!) : v;
}

/** One row's line (its fields tab-separated, then a newline). */
export function copyLine(fields: readonly (string | number | null)[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]!);
  return `${line}\n`;
}

/**
 * Rows as COPY's data, each line encoded straight into one buffer (shared/utf8.ts): a batch of
 * 5,000 TAXII objects (2.5 MB) built as one string and then encoded whole cost the node twice as
 * much, the string being a chain of 80,000 pieces that must be copied flat before it is encoded.
 */
export function copyData(rows: readonly (readonly (string | number | null)[])[]): Buffer {
  const out = new Utf8Buffer(rows.length * 512);
  for (const fields of rows) out.text(copyLine(fields));
  return out.bytes();
}
