/**
 * The worker thread of feeds.stage.ts: parse → normalise → enrich → deduplicate → route, over the
 * chunks its caller hands it; posts the routed records packed, batch by batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isV4Mapped, parseIPv4, parseIPv6Into } from '../../shared/ip.js';
import { isHotlineError } from '../../shared/errors.js';
import { keyOf, SeenKeys } from './feeds.dedupe.js';
import { IpDatabase } from './feeds.ipdb.js';
import { parseFeed } from './feeds.parse.js';
import { buildRouter } from './feeds.route.js';
import { BatchWriter, type StageData, type StageMessage } from './feeds.stage.js';
import type { FeedRecord } from './feeds.types.js';

const data = workerData as StageData;
const port = parentPort!;
const post = (m: StageMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

/** Batches posted and not yet taken: past two, the worker waits (and so reads no more input). */
let untaken = 0;
let onTaken: (() => void) | null = null;
let onChunk: ((c: Buffer | string | null) => void) | null = null;
port.on('message', (m: { type: 'chunk'; chunk: Uint8Array | string } | { type: 'end' } | { type: 'taken' }) => {
  if (m.type === 'taken') {
    untaken--;
    const w = onTaken;
    onTaken = null;
    w?.();
  } else {
    const w = onChunk;
    onChunk = null;
    w?.(m.type === 'end' ? null : typeof m.chunk === 'string' ? m.chunk : Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
  }
});

/**
 * Input is decoded and scanned in pieces of at most 32 KiB, and rows are batched from 64 Ki
 * characters of text: every string of a batch then stays below V8's large-object size (~128 KiB)
 * and dies in the young generation with its batch. Whole 1 MiB chunks made 1 Mi-character strings,
 * allocated in the large-object space and kept there (and the rows sliced from them) until a full
 * collection: 20–25 MB of this thread's heap (docs/benchmarks.md, issue 9 reruns).
 */
const PIECE_BYTES = 32 * 1024;
const SCAN_CHARS = 64 * 1024;

async function* input(): AsyncGenerator<Buffer | string> {
  for (;;) {
    const c = await new Promise<Buffer | string | null>((r) => {
      onChunk = r;
      post({ type: 'more' });
    });
    if (c === null) return;
    if (typeof c === 'string' || c.length <= PIECE_BYTES) yield c;
    else for (let i = 0; i < c.length; i += PIECE_BYTES) yield c.subarray(i, Math.min(c.length, i + PIECE_BYTES));
  }
}

/** Fills what the feed did not carry (ASN, country) from the offline database. */
function enrich(ipdb: IpDatabase, r: FeedRecord, scratch: Uint32Array): void {
  if (r.asn !== null && r.country !== null) return;
  let e;
  if (r.ip.indexOf(':') < 0) e = ipdb.lookupV4(parseIPv4(r.ip));
  else if (parseIPv6Into(r.ip, scratch)) e = isV4Mapped(scratch) ? ipdb.lookupV4(scratch[3]!) : ipdb.lookupV6(scratch);
  else return;
  if (r.asn === null) r.asn = e.asn;
  if (r.country === null) r.country = e.country;
}

try {
  const ipdb = await IpDatabase.open({ cacheDir: data.ipdbDir });
  const seen = SeenKeys.from(data.seen);
  const router = buildRouter(data.jurisdictions);
  const parties: string[] = [];
  const partyIndex = new Map<string, number>();
  const key = new Int32Array(2);
  const scratch = new Uint32Array(4);
  const out = new BatchWriter();
  const skipBefore = data.skipBefore ?? 0;
  for await (const batch of parseFeed(input(), { ...data.parse, scanChars: SCAN_CHARS })) {
    let duplicates = 0;
    let unrouted = 0;
    let skipped = 0;
    for (const r of batch.records) {
      if (r.line < skipBefore) {
        skipped++;
        continue;
      }
      enrich(ipdb, r, scratch);
      keyOf(r, key);
      if (seen.seen(key[0]!, key[1]!, Math.floor(r.timestamp / 60_000), data.windowMinutes)) {
        duplicates++;
        continue;
      }
      const party = router.route(r);
      if (party === null) {
        unrouted++;
        continue;
      }
      let p = partyIndex.get(party);
      if (p === undefined) {
        p = parties.length;
        parties.push(party);
        partyIndex.set(party, p);
      }
      out.add(r, p, key[0]!, key[1]!);
    }
    const packed = out.take();
    post({
      type: 'batch', ...packed, parties: [...parties], records: batch.records.length - skipped, duplicates, unrouted,
      rejects: skipBefore === 0 ? batch.rejects : batch.rejects.filter((x) => x.line >= skipBefore), bytes: batch.bytes, lines: batch.lines,
    }, [packed.nums.buffer as ArrayBuffer]);
    if (++untaken > 2) await new Promise<void>((r) => (onTaken = r));
  }
  post({ type: 'end' });
} catch (e) {
  post({ type: 'error', code: isHotlineError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) });
}
