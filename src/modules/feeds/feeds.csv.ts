import { StringDecoder } from 'node:string_decoder';
import { fail } from '../../shared/errors.js';

/**
 * Streaming text readers for feeds: UTF-8 decoding across chunk boundaries (a split multi-byte
 * character, a split BOM), and an RFC 4180 CSV reader that yields rows as offsets into one string
 * (no per-row arrays). Memory stays flat: at most one batch of text (`minChars` plus a chunk) and
 * the longest row are held.
 */

/** A feed's bytes: a stream of Buffers (a file, stdin, an HTTP body) or strings, or a list of them. */
export type FeedInput = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

/** Decoded text of one input chunk, and how many input bytes it came from. */
export interface TextChunk {
  text: string;
  bytes: number;
}

/**
 * Decodes a stream of UTF-8 Buffers (or strings, passed through) to text, dropping a BOM at the
 * very start. A multi-byte character split across chunks is joined; invalid bytes become U+FFFD.
 */
export async function* decodeText(input: FeedInput): AsyncGenerator<TextChunk> {
  const decoder = new StringDecoder('utf8');
  let first = true;
  for await (const chunk of input) {
    let text: string;
    let bytes: number;
    if (typeof chunk === 'string') {
      text = chunk;
      bytes = Buffer.byteLength(chunk);
    } else {
      text = decoder.write(chunk);
      bytes = chunk.length;
    }
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    yield { text, bytes };
  }
  const tail = decoder.end();
  if (tail.length > 0) yield { text: first && tail.charCodeAt(0) === 0xfeff ? tail.slice(1) : tail, bytes: 0 };
}

/** Why a row is malformed (`CsvBatch.error`); 0 is a well-formed row. */
export const CSV_ROW_ERRORS = ['', 'text after a closing quote', 'a quoted field is not closed (unbalanced quote)'] as const;

const AFTER_QUOTE = 1;
const UNTERMINATED = 2;
const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Options of `readCsv`. */
export interface CsvOptions {
  /** One character: `,` (default), `;`, tab, `|`. */
  delimiter?: string;
  /** Lines starting with this character are comments, not rows (none by default). */
  comment?: string;
  /** Called with a comment line's text after the comment character, and its line number. */
  onComment?: (text: string, line: number) => void;
  /** Most rows in one batch (default 8192). */
  maxRows?: number;
  /** Text gathered before a batch is scanned (default 256 Ki characters). */
  minChars?: number;
  /**
   * Longest row (default 1 Mi characters). A quoted field still open past it is taken to be an
   * unbalanced quote: its row is re-read up to the next line break ignoring quotes and flagged, so
   * the rest of the file is still read.
   */
  maxRowChars?: number;
}

/**
 * A batch of CSV rows, as offsets into `text`. Field `f` of the batch spans
 * `text.slice(fieldStart[f], fieldEnd[f])` (inside the quotes for a quoted field); row `r` has the
 * fields `rowField[r] .. rowField[r + 1] - 1`. The reader reuses one batch object: it is valid until
 * the next batch is asked for (copy what you keep, e.g. with `row()`).
 */
export class CsvBatch {
  text = '';
  rows = 0;
  /** Input bytes read since the previous batch. */
  bytes = 0;
  /** Physical lines consumed since the previous batch (blank and comment lines included). */
  lines = 0;
  rowField = new Int32Array(1024);
  /** Physical line (1-based) where each row starts. */
  line = new Int32Array(1024);
  /** Per row: an index into `CSV_ROW_ERRORS`. */
  error = new Uint8Array(1024);
  fieldStart = new Int32Array(8192);
  fieldEnd = new Int32Array(8192);
  /** 1 where a quoted field holds doubled quotes (`""`) to be unescaped. */
  escaped = new Uint8Array(8192);

  /** How many fields row `r` has. */
  fieldCount(r: number): number {
    return (this.rowField[r + 1] ?? 0) - (this.rowField[r] ?? 0);
  }

  /** Field `c` of row `r`, unescaped; `''` past the row's last field. */
  field(r: number, c: number): string {
    const base = this.rowField[r] ?? 0;
    if (c >= (this.rowField[r + 1] ?? 0) - base) return '';
    const f = base + c;
    const s = this.text.slice(this.fieldStart[f], this.fieldEnd[f]);
    return this.escaped[f] === 1 ? s.replaceAll('""', '"') : s;
  }

  /** Row `r` as an array of strings (allocates; for headers and tests). */
  row(r: number): string[] {
    const out: string[] = [];
    for (let c = 0, n = this.fieldCount(r); c < n; c++) out.push(this.field(r, c));
    return out;
  }

  /** Makes room for `fields` fields and `rows` rows, keeping what is there. */
  reserve(rows: number, fields: number): void {
    if (rows >= this.rowField.length) {
      const n = Math.max(rows + 1, this.rowField.length * 2);
      this.rowField = grow(this.rowField, new Int32Array(n));
      this.line = grow(this.line, new Int32Array(n));
      this.error = grow(this.error, new Uint8Array(n));
    }
    if (fields >= this.fieldStart.length) {
      const n = Math.max(fields + 1, this.fieldStart.length * 2);
      this.fieldStart = grow(this.fieldStart, new Int32Array(n));
      this.fieldEnd = grow(this.fieldEnd, new Int32Array(n));
      this.escaped = grow(this.escaped, new Uint8Array(n));
    }
  }
}

function grow<T extends Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

class ScanState {
  readonly delim: number;
  readonly delimStr: string;
  readonly comment: number;
  readonly onComment: ((text: string, line: number) => void) | undefined;
  readonly maxRows: number;
  readonly minChars: number;
  readonly maxRowChars: number;
  /** The next physical line's number. */
  line = 1;
  /** Read the next row ignoring quotes (recovery from an unbalanced quote). */
  noQuoteNext = false;
  /** The last scan stopped because the batch was full (not at an incomplete row). */
  full = false;

  constructor(o: CsvOptions) {
    const d = o.delimiter ?? ',';
    if (d.length !== 1 || d === '"' || d === '\n' || d === '\r') fail('invalid_argument', `A CSV delimiter is one character other than a quote or line break, not ${JSON.stringify(d)}`);
    this.delim = d.charCodeAt(0);
    this.delimStr = d;
    this.comment = o.comment === undefined || o.comment === '' ? -1 : o.comment.charCodeAt(0);
    this.onComment = o.onComment;
    this.maxRows = o.maxRows ?? 8192;
    this.minChars = o.minChars ?? 256 * 1024;
    this.maxRowChars = o.maxRowChars ?? 1024 * 1024;
  }
}

/**
 * Scans whole rows of `text` from `pos` into `b` (reset first) and returns where it stopped: at the
 * first incomplete row, or after `maxRows` rows (`st.full`). With `final`, the text's end ends a row.
 */
function scan(st: ScanState, text: string, pos: number, final: boolean, b: CsvBatch): number {
  const len = text.length;
  const delim = st.delim;
  const delimStr = st.delimStr;
  let line = st.line;
  let rows = 0;
  let nf = 0;
  let noQuote = st.noQuoteNext;
  // The next line feed and delimiter at or after `pos` (-1: none in the text; -2: not looked for yet).
  let nextNl = -2;
  let nextDelim = -2;
  st.noQuoteNext = false;
  st.full = false;
  b.text = text;
  b.rowField[0] = 0;
  rowLoop: while (pos < len) {
    if (rows >= st.maxRows) {
      st.full = true;
      break;
    }
    if (nextNl !== -1 && nextNl < pos) nextNl = text.indexOf('\n', pos);
    const rowPos = pos;
    const rowLine = line;
    let c = text.charCodeAt(pos);
    if (c === LF || (c === CR && nextNl === pos + 1)) {
      pos = nextNl + 1;
      line++;
      continue;
    }
    if (c === CR && pos + 1 >= len) {
      if (!final) break;
      pos = len;
      line++;
      continue;
    }
    if (c === st.comment) {
      if (nextNl < 0 && !final) break;
      const end = nextNl < 0 ? len : nextNl;
      st.onComment?.(text.slice(pos + 1, end > pos + 1 && text.charCodeAt(end - 1) === CR ? end - 1 : end), line);
      pos = end + 1;
      line++;
      continue;
    }
    b.reserve(rows + 1, nf);
    let err = noQuote ? UNTERMINATED : 0;
    for (;;) {
      if (nf >= b.fieldStart.length) b.reserve(rows + 1, nf);
      let start = pos;
      let end = pos;
      let p: number;
      let esc = 0;
      let junk = false;
      if (!noQuote && text.charCodeAt(pos) === QUOTE) {
        let q = text.indexOf('"', pos + 1);
        for (;;) {
          if (q < 0) {
            if (!final) {
              pos = rowPos;
              line = rowLine;
              break rowLoop;
            }
            // An unbalanced quote at the end of the input: read the row again ignoring quotes.
            pos = rowPos;
            line = rowLine;
            nf = b.rowField[rows] ?? 0;
            nextNl = -2;
            nextDelim = -2;
            noQuote = true;
            continue rowLoop;
          }
          if (q + 1 >= len && !final) {
            pos = rowPos;
            line = rowLine;
            break rowLoop;
          }
          if (text.charCodeAt(q + 1) !== QUOTE) break;
          esc = 1;
          q = text.indexOf('"', q + 2);
        }
        while (nextNl !== -1 && nextNl < q) {
          line++;
          nextNl = text.indexOf('\n', nextNl + 1);
        }
        start = pos + 1;
        end = q;
        p = q + 1;
        c = p < len ? text.charCodeAt(p) : -1;
        if (c === CR) {
          if (p + 1 < len && nextNl === p + 1) {
            p++;
            c = LF;
          } else if (p + 1 >= len) {
            if (!final) {
              pos = rowPos;
              line = rowLine;
              break rowLoop;
            }
            c = -1;
          }
        }
        if (c !== delim && c !== LF && c !== -1) {
          err = AFTER_QUOTE;
          junk = true;
          if (nextDelim !== -1 && nextDelim < p) nextDelim = text.indexOf(delimStr, p);
        }
      } else {
        if (nextDelim !== -1 && nextDelim < pos) nextDelim = text.indexOf(delimStr, pos);
        p = pos;
        c = 0;
      }
      if (c !== delim && c !== LF && c !== -1) {
        if (nextDelim >= 0 && (nextDelim < nextNl || nextNl < 0)) {
          p = nextDelim;
          c = delim;
        } else if (nextNl >= 0) {
          p = nextNl;
          c = LF;
        } else {
          p = len;
          c = -1;
        }
        if (!junk) {
          end = p;
          if (c !== delim && end > start && text.charCodeAt(end - 1) === CR) end--;
        }
      }
      if (c === -1 && !final) {
        pos = rowPos;
        line = rowLine;
        break rowLoop;
      }
      b.fieldStart[nf] = start;
      b.fieldEnd[nf] = end;
      b.escaped[nf] = esc;
      nf++;
      pos = p + 1;
      if (c === delim) continue;
      line++;
      break;
    }
    b.line[rows] = rowLine;
    b.error[rows] = err;
    rows++;
    b.rowField[rows] = nf;
    noQuote = false;
  }
  b.rows = rows;
  st.line = line;
  return pos;
}

/**
 * Reads CSV (RFC 4180: quoted fields with delimiters, doubled quotes and line breaks inside, CRLF or
 * LF, a last line without a line break, a BOM) and yields batches of rows with their physical line
 * numbers. Blank lines are skipped. A malformed row is yielded with its `error` set; the header is
 * row 0 of the first batch, like any row.
 */
export async function* readCsv(input: FeedInput, opts: CsvOptions = {}): AsyncGenerator<CsvBatch> {
  const st = new ScanState(opts);
  const b = new CsvBatch();
  let pending = '';
  let bytes = 0;
  let lineMark = 1;
  let rowsOut = false;
  const stamp = (): CsvBatch => {
    rowsOut ||= b.rows > 0;
    b.bytes = bytes;
    bytes = 0;
    b.lines = st.line - lineMark;
    lineMark = st.line;
    return b;
  };
  for await (const chunk of decodeText(input)) {
    bytes += chunk.bytes;
    pending = pending.length === 0 ? chunk.text : pending + chunk.text;
    // Until the first row (the header) is out, scan every chunk: a bad header is refused at once.
    if (pending.length < st.minChars && rowsOut) continue;
    let pos = 0;
    for (;;) {
      pos = scan(st, pending, pos, false, b);
      if (b.rows > 0) yield stamp();
      if (st.full) continue;
      if (pending.length - pos <= st.maxRowChars) break;
      if (b.rows > 0) continue;
      // One incomplete row longer than the limit: an unbalanced quote, or no line breaks at all.
      st.noQuoteNext = true;
      const again = scan(st, pending, pos, false, b);
      if (b.rows === 0) fail('invalid_argument', `line ${st.line}: no line break within ${st.maxRowChars} characters; this does not look like a CSV file`);
      pos = again;
      yield stamp();
    }
    pending = pending.slice(pos);
  }
  let pos = 0;
  do {
    pos = scan(st, pending, pos, true, b);
    if (b.rows > 0 || pos >= pending.length) yield stamp();
  } while (pos < pending.length);
}
