import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { decodeText, readCsv, type CsvOptions, type FeedInput } from './feeds.csv.js';
import { readLines } from './feeds.lines.js';

interface Row {
  line: number;
  error: number;
  fields: string[];
}

async function rows(input: FeedInput, opts: CsvOptions = {}): Promise<{ rows: Row[]; bytes: number; lines: number; comments: [string, number][] }> {
  const out: Row[] = [];
  const comments: [string, number][] = [];
  let bytes = 0;
  let lines = 0;
  for await (const b of readCsv(input, { ...opts, onComment: opts.comment === undefined ? undefined : (t, l) => comments.push([t, l]) })) {
    bytes += b.bytes;
    lines += b.lines;
    for (let r = 0; r < b.rows; r++) out.push({ line: b.line[r] ?? -1, error: b.error[r] ?? -1, fields: b.row(r) });
  }
  return { rows: out, bytes, lines, comments };
}

/** The input as Buffers cut at the given byte offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [0, ...at.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++) out.push(bytes.subarray(points[i - 1], points[i]));
  return out;
}

const TRICKY = Buffer.from(
  '\uFEFFname,"quoted, comma",multi\r\n' +
    '"a ""b""",x,"line1\r\nline2"\r\n' +
    '\r\n' +
    '# a comment\n' +
    'Köln,Москва,😀\n' +
    '"",,\n' +
    'z,"w"junk,q\n' +
    'last,"no newline",end',
  'utf8',
);

const TRICKY_ROWS: Row[] = [
  { line: 1, error: 0, fields: ['name', 'quoted, comma', 'multi'] },
  { line: 2, error: 0, fields: ['a "b"', 'x', 'line1\r\nline2'] },
  { line: 6, error: 0, fields: ['Köln', 'Москва', '😀'] },
  { line: 7, error: 0, fields: ['', '', ''] },
  { line: 8, error: 1, fields: ['z', 'w', 'q'] },
  { line: 9, error: 0, fields: ['last', 'no newline', 'end'] },
];

describe('readCsv', () => {
  it('reads RFC 4180: quotes, doubled quotes, line breaks in quotes, BOM, CRLF, blank and comment lines, a last line without a break', async () => {
    const r = await rows([TRICKY], { comment: '#' });
    expect(r.rows).toEqual(TRICKY_ROWS);
    expect(r.comments).toEqual([[' a comment', 5]]);
    expect(r.bytes).toBe(TRICKY.length);
    expect(r.lines).toBe(9);
  });

  it('takes # as data without the comment option, and counts a file ending in a line break right', async () => {
    const r = await rows(['#x,1\n\n\na,b\n']);
    expect(r.rows).toEqual([
      { line: 1, error: 0, fields: ['#x', '1'] },
      { line: 4, error: 0, fields: ['a', 'b'] },
    ]);
    expect(r.lines).toBe(4);
  });

  it('reads other delimiters, keeping the others as data', async () => {
    for (const d of [';', '\t', '|']) {
      const r = await rows([`a${d}"b${d}c"${d}d,e\n1${d}${d}3`], { delimiter: d });
      expect(r.rows.map((x) => x.fields)).toEqual([
        ['a', `b${d}c`, 'd,e'],
        ['1', '', '3'],
      ]);
    }
  });

  it('refuses a delimiter that cannot be one', async () => {
    await expect(rows(['a'], { delimiter: '"' })).rejects.toThrow(HotlineError);
    await expect(rows(['a'], { delimiter: ';;' })).rejects.toThrow(/one character/);
  });

  it('flags an unbalanced quote at the end and still reads the rows after it', async () => {
    const r = await rows(['a,b\n"open,1\n2,3\n4,5']);
    expect(r.rows).toEqual([
      { line: 1, error: 0, fields: ['a', 'b'] },
      { line: 2, error: 2, fields: ['"open', '1'] },
      { line: 3, error: 0, fields: ['2', '3'] },
      { line: 4, error: 0, fields: ['4', '5'] },
    ]);
  });

  it('flags a quoted field longer than maxRowChars mid-stream and reads on', async () => {
    const body = `a,b\n"open,1\n${'x,y\n'.repeat(400)}`;
    const chunks = cut(Buffer.from(body), Array.from({ length: 40 }, (_, i) => i * 50));
    const r = await rows(chunks, { maxRowChars: 200, minChars: 1 });
    expect(r.rows[1]).toEqual({ line: 2, error: 2, fields: ['"open', '1'] });
    expect(r.rows).toHaveLength(402);
    expect(r.rows[401]).toEqual({ line: 402, error: 0, fields: ['x', 'y'] });
  });

  it('fails on text without line breaks past maxRowChars', async () => {
    await expect(rows([Buffer.alloc(5000, 'x')], { maxRowChars: 1000, minChars: 1 })).rejects.toThrow(/no line break within 1000/);
  });

  it('yields batches of at most maxRows, reusing offsets into one text', async () => {
    const text = `h1,h2\n${Array.from({ length: 100 }, (_, i) => `${i},"v${i}"`).join('\n')}\n`;
    let batches = 0;
    const seen: string[] = [];
    for await (const b of readCsv([text], { maxRows: 7 })) {
      expect(b.rows).toBeLessThanOrEqual(7);
      if (b.rows > 0) batches++;
      for (let r = 0; r < b.rows; r++) seen.push(b.field(r, 1));
      expect(b.field(0, 5)).toBe('');
    }
    expect(batches).toBe(15);
    expect(seen).toEqual(['h2', ...Array.from({ length: 100 }, (_, i) => `v${i}`)]);
  });

  it('gives the same rows whichever two bytes a chunk boundary falls between (and for every pair of boundaries)', async () => {
    const reference = await rows([TRICKY], { comment: '#' });
    for (let i = 1; i < TRICKY.length; i++) {
      const r = await rows(cut(TRICKY, [i]), { comment: '#', minChars: 1 });
      expect(r, `split at ${i}`).toEqual(reference);
    }
    for (let i = 1; i < TRICKY.length; i += 3) {
      for (let j = i + 1; j < TRICKY.length; j += 2) {
        const r = await rows(cut(TRICKY, [i, j]), { comment: '#', minChars: 1 });
        expect(r.rows, `split at ${i}, ${j}`).toEqual(reference.rows);
      }
    }
  });

  it('gives the same rows for random splits into many chunks (fast-check)', async () => {
    const reference = await rows([TRICKY], { comment: '#' });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: TRICKY.length - 1 }), { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), async (at, minChars) => {
        expect(await rows(cut(TRICKY, at), { comment: '#', minChars })).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it('reads generated CSV back to its fields whatever the splits (fast-check)', async () => {
    const field = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('"', '""', ',', '\n', '\r\n', 'Ж', '😀', ' x '));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), async (table, at) => {
        const text = table.map((row) => row.map((f) => `"${f.replaceAll('"', '""')}"`).join(',')).join('\r\n');
        const bytes = Buffer.from(text);
        const r = await rows(cut(bytes, at.map((x) => x % Math.max(1, bytes.length))), { minChars: 1 });
        expect(r.rows.map((x) => x.fields)).toEqual(table);
        expect(r.rows.every((x) => x.error === 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeText', () => {
  it('drops a BOM split over chunks and joins a split multi-byte character', async () => {
    const bytes = Buffer.from('\uFEFFé😀x', 'utf8');
    let text = '';
    let n = 0;
    for await (const c of decodeText(cut(bytes, [1, 2, 4, 6, 8]))) {
      text += c.text;
      n += c.bytes;
    }
    expect(text).toBe('é😀x');
    expect(n).toBe(bytes.length);
  });
});

describe('readLines', () => {
  it('reads LF and CRLF lines with their numbers, whatever the splits; an over-long line is null', async () => {
    const text = Buffer.from(`{"a":1}\r\n\n{"b":"é"}\n${'x'.repeat(300)}\n{"c":3}`);
    const expected = ['{"a":1}', '', '{"b":"é"}', null, '{"c":3}'];
    for (let i = 1; i < text.length; i += 7) {
      const got: (string | null)[] = [];
      let first = 0;
      for await (const b of readLines(cut(text, [i, i + 100]), 200, 1)) {
        if (first === 0) first = b.first;
        expect(b.first).toBe(got.length + 1);
        got.push(...b.lines);
      }
      expect(got, `split at ${i}`).toEqual(expected);
      expect(first).toBe(1);
    }
  });
});
