import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeenKeys } from './feeds.dedupe.js';
import { checkJurisdiction } from './feeds.route.js';
import { BatchReader, runStage } from './feeds.stage.js';

const dir = mkdtempSync(join(tmpdir(), 'hotline-stage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ~4,000 rows (~250 KB): several 32 KiB pieces and 64 Ki-character batches. */
function feed(): string {
  const rows = ['timestamp,ip,port,family,type,protocol'];
  for (let i = 0; i < 4000; i++) rows.push(`2026-11-30T${String(i % 24).padStart(2, '0')}:00:00Z,10.${(i >> 8) & 255}.${i & 255}.${i % 7},${1024 + i},mirai,bot,tcp`);
  return `${rows.join('\n')}\n`;
}

async function run(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<{ ips: string[]; records: number; duplicates: number }> {
  const source = (async function* () {
    yield* input;
  })();
  const ips: string[] = [];
  let records = 0;
  let duplicates = 0;
  for await (const b of runStage(source, {
    parse: { format: 'csv', preset: 'generic', source: 't' }, ipdbDir: dir, windowMinutes: 60,
    jurisdictions: [checkJurisdiction({ party: 'xx', prefixes: ['10.0.0.0/8'] })], seen: new SeenKeys(0).export(),
  })) {
    records += b.records;
    duplicates += b.duplicates;
    const reader = new BatchReader(b, 't');
    for (let i = 0; i < b.n; i++) ips.push(`${reader.read(i).ip}:${reader.record.port}`);
  }
  return { ips, records, duplicates };
}

describe('runStage: the parse worker\'s input', () => {
  it('reads the same records whether chunks are slices of one shared buffer (copied), whole buffers of their own (handed over), or text; a shared buffer stays usable', async () => {
    const text = feed();
    const want = await run([text]);
    expect(want.records).toBe(4000);
    expect(want.ips.length).toBeGreaterThan(3900);

    // Slices of one buffer at uneven cuts, some over 32 KiB: handing one over would detach the others.
    const shared = Buffer.from(text);
    const cuts = [0, 7, 40_000, 40_001, 113_000, 180_007, shared.length];
    const slices = cuts.slice(1).map((end, i) => shared.subarray(cuts[i], end));
    expect(await run(slices)).toEqual(want);
    expect(shared.buffer.byteLength).toBeGreaterThanOrEqual(shared.length);
    expect(shared.toString()).toBe(text);

    // Chunks that own their buffers (as a file stream's do), 100 KB each: split into pieces by the worker.
    const own: Buffer[] = [];
    for (let i = 0; i < shared.length; i += 100_000) own.push(Buffer.from(new Uint8Array(shared.subarray(i, i + 100_000))));
    expect(await run(own)).toEqual(want);
  }, 60_000);
});
