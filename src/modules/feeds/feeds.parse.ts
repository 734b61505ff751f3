import { StringDecoder } from 'node:string_decoder';
import { fail } from '../../shared/errors.js';
import { decodeText, readCsv, type FeedInput } from './feeds.csv.js';
import { readLines } from './feeds.lines.js';
import { canonicalIp, normaliseCsvRow, normaliseRow, RowValues } from './feeds.normalise.js';
import { presetCatalog, resolveLayout, type Layout, type PresetCatalog } from './feeds.presets.js';
import { FamilyNormaliser } from './feeds.rules.js';
import { BundleSplitter, StixContext, stixRecord, type BundleElement } from './feeds.stixin.js';
import { FEED_FIELDS, type FeedFormat, type FeedRecord, type FeedReject, type ParsedBatch } from './feeds.types.js';

/**
 * Parse: a feed's bytes → batches of normalised records and rejects, streaming. The format is
 * checked (or, with `auto`, decided) on a sniff of the first 64 KiB before anything else: a file
 * that is not the format claimed fails at once; after that a bad row is a reject and the run goes on.
 */

/** Options of `parseFeed`. */
export interface ParseOptions {
  format: FeedFormat;
  /** A preset name (`presets/*.json`); default: recognised from the header (CSV) or first object (JSON lines). */
  preset?: string | undefined;
  /** A column mapping `field=column,...` (see `resolveLayout`). */
  mapping?: string | undefined;
  /** The feed's name, given to every record. */
  source: string;
  /** CSV delimiter; default: the most frequent of `,` `;` tab `|` in the first line. */
  delimiter?: string | undefined;
  /** The timestamp of records whose feed carries none (STIX observables, a layout without one); default: the parse's start. */
  now?: number | undefined;
  catalog?: PresetCatalog | undefined;
  /** Text gathered before it is scanned (default 256 Ki characters); small values are for tests of chunk boundaries. */
  scanChars?: number | undefined;
}

const HEAD_BYTES = 64 * 1024;

interface Head {
  chunks: (Buffer | string)[];
  text: string;
  bytes: Buffer;
  done: boolean;
}

async function peek(it: AsyncIterator<Buffer | string>): Promise<Head> {
  const chunks: (Buffer | string)[] = [];
  let size = 0;
  let done = false;
  while (size < HEAD_BYTES) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    chunks.push(r.value);
    size += r.value.length;
  }
  const bytes = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).subarray(0, HEAD_BYTES);
  let text = new StringDecoder('utf8').write(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { chunks, text, bytes, done };
}

async function* replay(head: Head, it: AsyncIterator<Buffer | string>): AsyncGenerator<Buffer | string> {
  try {
    yield* head.chunks;
    if (head.done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

async function* fromSync(input: Iterable<Buffer | string>): AsyncGenerator<Buffer | string> {
  yield* input;
}

function notFormat(message: string): never {
  return fail('feed_format', message);
}

const BUNDLE_MARK = /"type"\s*:\s*"bundle"|"objects"\s*:\s*\[/;

/** What the first bytes say the input is; refuses binary, compressed, empty and other JSON inputs. */
export function sniffFormat(bytes: Buffer, text: string, complete: boolean): { format: 'csv' | 'jsonl' | 'stix'; firstLine: string; firstLineError: string | null } {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0x1f && b1 === 0x8b) notFormat('The input is gzip-compressed; decompress it first (gunzip)');
  if (b0 === 0x50 && b1 === 0x4b && bytes[2] === 3 && bytes[3] === 4) notFormat('The input is a ZIP archive; extract the feed from it first');
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) notFormat('The input is UTF-16 text; convert it to UTF-8 first');
  if (bytes.subarray(0, 4).toString('latin1') === '%PDF') notFormat('The input is a PDF document, not a feed');
  let control = 0;
  const probe = Math.min(bytes.length, 8192);
  for (let i = 0; i < probe; i++) {
    const c = bytes[i] ?? 0;
    if (c === 0) notFormat(`The input is binary (a NUL byte at offset ${i}), not a text feed`);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
  }
  if (control > probe / 100) notFormat(`The input is binary (${control} control bytes in the first ${probe}), not a text feed`);
  const t = text.trimStart();
  if (t === '') notFormat('The input is empty');
  const nl = t.indexOf('\n');
  const firstLine = (nl < 0 ? t : t.slice(0, nl)).replace(/\r$/, '');
  if (t[0] === '[') notFormat('The input is a JSON array; give JSON lines (one object per line) or a STIX bundle');
  if (t[0] === '<') notFormat(`The input looks like HTML or XML (${JSON.stringify(firstLine.slice(0, 60))}), not a feed; an error page?`);
  if (t[0] !== '{') return { format: 'csv', firstLine, firstLineError: null };
  if (nl >= 0 || complete) {
    try {
      const o: unknown = JSON.parse(firstLine);
      if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
        return { format: (o as Record<string, unknown>).type === 'bundle' ? 'stix' : 'jsonl', firstLine, firstLineError: null };
      }
    } catch (e) {
      if (BUNDLE_MARK.test(t.slice(0, 4096))) return { format: 'stix', firstLine, firstLineError: null };
      return { format: 'jsonl', firstLine, firstLineError: (e as Error).message };
    }
  }
  if (BUNDLE_MARK.test(t.slice(0, 4096))) return { format: 'stix', firstLine, firstLineError: null };
  return { format: 'jsonl', firstLine, firstLineError: 'it is not a complete JSON object' };
}

function checkClaim(claimed: FeedFormat, s: ReturnType<typeof sniffFormat>): 'csv' | 'jsonl' | 'stix' {
  const line = JSON.stringify(s.firstLine.slice(0, 60));
  const what = s.format === 'stix' ? 'a STIX bundle' : s.format === 'jsonl' ? 'JSON' : 'not JSON (CSV or text)';
  if (s.format === 'jsonl' && s.firstLineError !== null && claimed === 'csv') return 'csv';
  if (s.format === 'jsonl' && s.firstLineError !== null) {
    notFormat(`The input starts with '{' but its first line is not a JSON object (${s.firstLineError}) and it is not a STIX bundle: ${line}`);
  }
  if (claimed === 'auto' || claimed === s.format) return s.format;
  if (claimed === 'csv') notFormat(`--format csv, but the input is ${what}: ${line}; use --format ${s.format === 'stix' ? 'stix' : 'jsonl'} or auto`);
  if (claimed === 'jsonl') notFormat(s.format === 'stix' ? '--format jsonl, but the input is a STIX bundle; use --format stix' : `--format jsonl, but line 1 is not a JSON object: ${line}`);
  return notFormat(`--format stix, but the input is not a STIX bundle (no {"type": "bundle", "objects": [...]}); it is ${what}: ${line}`);
}

const DELIMITERS = [',', ';', '\t', '|'];

/** The delimiter of a CSV text: the most frequent of `,` `;` tab `|` outside quotes in its first non-comment line. */
export function sniffDelimiter(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    let n = 0;
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === d && !quoted) n++;
    }
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/**
 * Reads a feed: CSV through a preset or mapping, JSON lines (objects with a preset's column names or
 * the record's own), or a STIX 2.1 bundle (streamed: IP observables and single-IP indicators), and
 * yields batches of records and rejects. Refuses before any record: an input that is not the format
 * claimed (or binary, compressed, empty), an unknown preset, a header no preset fits, a mapping to a
 * missing column.
 */
export async function* parseFeed(input: FeedInput, opts: ParseOptions): AsyncGenerator<ParsedBatch> {
  const it = Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : fromSync(input);
  let head: Head;
  try {
    head = await peek(it);
    if (head.bytes.length === 0) notFormat('The input is empty');
  } catch (e) {
    await it.return?.();
    throw e;
  }
  const source = replay(head, it);
  try {
    const sniff = sniffFormat(head.bytes, head.text, head.done);
    const format = checkClaim(opts.format, sniff);
    const now = opts.now ?? Date.now();
    const catalog = opts.catalog ?? presetCatalog();
    if (format === 'csv') yield* parseCsv(source, opts, opts.delimiter ?? sniffDelimiter(head.text), now, catalog);
    else if (format === 'jsonl') yield* parseJsonl(source, opts, now, catalog);
    else yield* parseStix(source, opts, now, catalog);
  } finally {
    await source.return(undefined);
    await it.return?.();
  }
}

async function splitLine(text: string, delimiter: string): Promise<string[]> {
  for await (const b of readCsv([text], { delimiter })) if (b.rows > 0) return b.row(0);
  return [];
}

async function* parseCsv(input: AsyncIterable<Buffer | string>, opts: ParseOptions, delimiter: string, now: number, catalog: PresetCatalog): AsyncGenerator<ParsedBatch> {
  let layout: Layout | null = null;
  let comments: { text: string; line: number }[] = [];
  const values = new RowValues();
  let bytes = 0;
  let lines = 0;
  const onComment = (text: string, line: number): void => {
    if (layout !== null) return;
    if (comments.length >= 1000) comments = comments.slice(-100);
    comments.push({ text, line });
  };
  for await (const b of readCsv(input, { delimiter, comment: '#', onComment, minChars: opts.scanChars })) {
    bytes += b.bytes;
    lines += b.lines;
    let r = 0;
    if (layout === null) {
      if (b.rows === 0) continue;
      const first = b.row(0).map((f) => f.trim());
      const firstLine = b.line[0] ?? 1;
      let header = first;
      r = 1;
      const ipAt = first.findIndex((f) => canonicalIp(f) !== null);
      if (ipAt >= 0) {
        const comment = comments.filter((c) => c.line < firstLine).pop();
        if (comment === undefined) notFormat(`line ${firstLine}: the first row is data, not a header ('${first[ipAt]}' is an IP address); a CSV feed needs a header line naming its columns`);
        header = (await splitLine(comment.text.trim(), delimiter)).map((f) => f.trim());
        r = 0;
      }
      layout = resolveLayout({ header, preset: opts.preset, mapping: opts.mapping, catalog });
      comments = [];
    }
    const records: FeedRecord[] = [];
    const rejects: FeedReject[] = [];
    for (; r < b.rows; r++) {
      const x = normaliseCsvRow(b, r, layout, opts.source, now, values);
      if ('reason' in x) rejects.push(x);
      else records.push(x);
    }
    yield { records, rejects, bytes, lines };
    bytes = 0;
    lines = 0;
  }
  if (layout === null) notFormat('The CSV input has no header line (only comments or blank lines)');
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  return null;
}

async function* parseJsonl(input: AsyncIterable<Buffer | string>, opts: ParseOptions, now: number, catalog: PresetCatalog): AsyncGenerator<ParsedBatch> {
  let layout: Layout | null = null;
  const values = new RowValues();
  for await (const lb of readLines(input, undefined, opts.scanChars)) {
    const records: FeedRecord[] = [];
    const rejects: FeedReject[] = [];
    for (let k = 0; k < lb.lines.length; k++) {
      const text = lb.lines[k];
      const line = lb.first + k;
      if (text === null || text === undefined) {
        rejects.push({ line, reason: 'is longer than 1 MiB', field: null });
        continue;
      }
      if (text.trim() === '') continue;
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch (e) {
        rejects.push({ line, reason: `is not JSON: ${(e as Error).message}`, field: null });
        continue;
      }
      if (typeof o !== 'object' || o === null || Array.isArray(o)) {
        rejects.push({ line, reason: 'is not a JSON object', field: null });
        continue;
      }
      const obj = o as Record<string, unknown>;
      layout ??= resolveLayout({ header: Object.keys(obj), preset: opts.preset, mapping: opts.mapping, catalog });
      let bad: FeedReject | null = null;
      for (let f = 0; f < FEED_FIELDS.length && bad === null; f++) {
        let raw: unknown;
        let key = '';
        for (const name of layout.keys[f] ?? []) {
          raw = obj[name];
          key = name;
          if (raw !== undefined) break;
        }
        const v = scalar(raw);
        if (v === null) bad = { line, reason: `'${key}' is not a string or number`, field: FEED_FIELDS[f] ?? null };
        else values.set(f, v, 0, v.length);
      }
      const x = bad ?? normaliseRow(values, line, layout, opts.source, now);
      if ('reason' in x) rejects.push(x);
      else records.push(x);
    }
    yield { records, rejects, bytes: lb.bytes, lines: lb.lines.length };
  }
}

async function* parseStix(input: AsyncIterable<Buffer | string>, opts: ParseOptions, now: number, catalog: PresetCatalog): AsyncGenerator<ParsedBatch> {
  const generic = catalog.presets.get('generic');
  const ctx = new StixContext(opts.source, now, new FamilyNormaliser(generic?.family ?? { none: new Set(), strip: [], aliases: new Map() }));
  const splitter = new BundleSplitter();
  let elements: BundleElement[] = [];
  let lineMark = 1;
  const batch = (bytes: number, lastLine: number): ParsedBatch => {
    const records: FeedRecord[] = [];
    const rejects: FeedReject[] = [];
    for (const el of elements) {
      let o: unknown;
      try {
        o = JSON.parse(el.text);
      } catch (e) {
        rejects.push({ line: el.line, reason: `object is not valid JSON: ${(e as Error).message}`, field: null });
        continue;
      }
      if (typeof o !== 'object' || o === null || Array.isArray(o)) {
        rejects.push({ line: el.line, reason: 'an element of objects is not an object', field: null });
        continue;
      }
      const x = stixRecord(o as Record<string, unknown>, el.line, ctx);
      if (x === null) continue;
      if ('reason' in x) rejects.push(x);
      else records.push(x);
    }
    elements = [];
    const lines = lastLine - lineMark;
    lineMark = lastLine;
    return { records, rejects, bytes, lines };
  };
  let bytes = 0;
  let lastLine = 1;
  let endsWithLf = true;
  for await (const chunk of decodeText(input)) {
    bytes += chunk.bytes;
    splitter.push(chunk.text, elements);
    for (let i = chunk.text.indexOf('\n'); i >= 0; i = chunk.text.indexOf('\n', i + 1)) lastLine++;
    if (chunk.text.length > 0) endsWithLf = chunk.text.endsWith('\n');
    if (elements.length >= 4096 || bytes >= 1024 * 1024) {
      yield batch(bytes, lastLine);
      bytes = 0;
    }
  }
  const cut = splitter.end(elements);
  const last = batch(bytes, endsWithLf ? lastLine : lastLine + 1);
  if (cut !== null) last.rejects.push({ line: cut, reason: 'the bundle is cut short here (the input ended inside it)', field: null });
  yield last;
}
