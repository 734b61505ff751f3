/** The line reader of JSON-lines feeds (feeds.parse.ts). */
import { decodeText, type FeedInput } from './feeds.csv.js';

/** A batch of lines from `readLines`. A line longer than the limit is `null` (skipped, to be rejected). */
export interface LineBatch {
  lines: (string | null)[];
  /** The physical line number of `lines[0]`. */
  first: number;
  bytes: number;
}

/**
 * Reads lines (LF or CRLF) in batches, for JSON lines: JSON text has no raw line breaks inside
 * strings, so a line is a record. A line past `maxLineChars` (default 1 Mi) is yielded as `null`
 * without being held.
 */
export async function* readLines(input: FeedInput, maxLineChars = 1024 * 1024, minChars: number | undefined = 256 * 1024): AsyncGenerator<LineBatch> {
  let pending = '';
  let skipping = false;
  let bytes = 0;
  let chars = 0;
  let out: (string | null)[] = [];
  let first = 1;
  const take = (text: string): void => {
    chars += text.length;
    for (const part of text.split('\n')) out.push(part.length > maxLineChars ? null : part.endsWith('\r') ? part.slice(0, -1) : part);
  };
  const flush = (): LineBatch => {
    const batch = { lines: out, first, bytes };
    first += out.length;
    out = [];
    bytes = 0;
    chars = 0;
    return batch;
  };
  for await (const chunk of decodeText(input)) {
    bytes += chunk.bytes;
    let text = chunk.text;
    if (skipping) {
      const nl = text.indexOf('\n');
      if (nl < 0) continue;
      skipping = false;
      text = text.slice(nl + 1);
    }
    pending = pending.length === 0 ? text : pending + text;
    const nl = pending.lastIndexOf('\n');
    if (nl >= 0) {
      take(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > maxLineChars) {
      out.push(null);
      pending = '';
      skipping = true;
    }
    // The first lines go out at once: a layout that does not fit is refused before more is read.
    if (out.length >= 8192 || chars >= (minChars ?? 256 * 1024) || (first === 1 && out.length > 0)) yield flush();
  }
  if (pending.length > 0 && !skipping) take(pending);
  if (out.length > 0 || bytes > 0) yield flush();
}
