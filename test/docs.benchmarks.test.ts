import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/benchmarks.md holds blocks that the benches rewrite whole on every run without --no-docs
 * (between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`), and sections written
 * by hand around them. A section written inside a block is deleted by the next run of that bench:
 * six issue-13 sections once sat inside the crisis alert's block.
 */
const text = readFileSync(join(import.meta.dirname, '..', 'docs', 'benchmarks.md'), 'utf8');

/** Each block: its name and the lines between its marks. */
function blocks(): { name: string; lines: string[] }[] {
  const out: { name: string; lines: string[] }[] = [];
  let open: { name: string; lines: string[] } | null = null;
  for (const line of text.split('\n')) {
    const start = /^<!-- bench:([a-z:-]+):start -->$/.exec(line);
    const end = /^<!-- bench:([a-z:-]+):end -->$/.exec(line);
    if (start !== null) {
      expect(open, `${start[1]} starts inside ${open?.name ?? ''}`).toBeNull();
      open = { name: start[1]!, lines: [] };
    } else if (end !== null) {
      expect(open?.name, `an end mark for ${end[1]} without its start`).toBe(end[1]);
      out.push(open!);
      open = null;
    } else open?.lines.push(line);
  }
  expect(open, `${open?.name ?? ''} is never ended`).toBeNull();
  return out;
}

describe('docs/benchmarks.md', () => {
  it('keeps hand-written sections out of the blocks the benches rewrite: each block has one heading, its bench\'s own', () => {
    const found = blocks();
    expect(found.map((b) => b.name)).toEqual(expect.arrayContaining(['federation', 'crisis-alert', 'taxii', 'feeds', 'canonical', 'cli', 'console', 'taxii:postgres']));
    for (const b of found) {
      const headings = b.lines.filter((l) => /^#{1,6} /.test(l));
      expect(headings, `the block bench:${b.name}`).toHaveLength(1);
      expect(headings[0], `the block bench:${b.name}`).toMatch(/^## .*\(bench:/);
    }
  });
});
