import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { HotlineError, type ErrorCode } from '../../shared/errors.js';
import { workerScript } from '../../shared/workers.js';
import type { SeenExport } from './feeds.dedupe.js';
import type { ParseOptions } from './feeds.parse.js';
import type { Jurisdiction } from './feeds.route.js';
import type { FeedRecord, FeedReject } from './feeds.types.js';

/**
 * The first half of a feed run on a worker thread of its own (feeds.stage.worker.ts): parse →
 * normalise → enrich → deduplicate → route. What it hands back per batch is the routed records,
 * packed (numbers in one transferred Float64Array, strings in one string), and the counts; the
 * calling thread builds the STIX bundles and writes them (feeds.run.ts). Two threads, so a run
 * uses two cores; the input is read by the caller and handed over chunk by chunk as the worker
 * asks for it, and the worker waits when two batches are not yet taken (bounded memory).
 */

/** What the worker needs: serialisable, the deduplication table transferred. */
export interface StageData {
  parse: Pick<ParseOptions, 'format' | 'preset' | 'mapping' | 'delimiter' | 'source'>;
  ipdbDir: string;
  jurisdictions: readonly Jurisdiction[];
  windowMinutes: number;
  seen: SeenExport;
  /** Records (and rejects) on a line before this one are skipped, not counted: a resumed run wrote them already (feeds.jobs.ts). */
  skipBefore?: number;
}

/** Numbers per record: line, timestamp, port, asn, c2_port, party, type, key hi, key lo, then 6 string lengths. */
export const NUMS = 15;

/** One batch from the worker. */
export interface StageBatch {
  /** Routed records. */
  n: number;
  nums: Float64Array;
  text: string;
  parties: string[];
  /** Records read (routed, duplicates and unrouted). */
  records: number;
  duplicates: number;
  unrouted: number;
  rejects: FeedReject[];
  bytes: number;
  lines: number;
}

export type StageMessage =
  | { type: 'more' }
  | ({ type: 'batch' } & StageBatch)
  | { type: 'end' }
  | { type: 'error'; code: string; message: string };

/** Packs a routed record (worker side). */
export class BatchWriter {
  n = 0;
  private nums = new Float64Array(NUMS * 1024);
  private parts: string[] = [];

  add(r: FeedRecord, party: number, hi: number, lo: number): void {
    if ((this.n + 1) * NUMS > this.nums.length) {
      const t = new Float64Array(this.nums.length * 2);
      t.set(this.nums);
      this.nums = t;
    }
    const o = this.n * NUMS;
    const a = this.nums;
    a[o] = r.line;
    a[o + 1] = r.timestamp;
    a[o + 2] = r.port ?? -1;
    a[o + 3] = r.asn ?? -1;
    a[o + 4] = r.c2_port ?? -1;
    a[o + 5] = party;
    a[o + 6] = r.type === 'infected-host' ? 0 : r.type === 'c2-server' ? 1 : 2;
    a[o + 7] = hi;
    a[o + 8] = lo;
    this.str(r.ip, o + 9);
    this.str(r.family, o + 10);
    this.str(r.country, o + 11);
    this.str(r.c2_ip, o + 12);
    this.str(r.protocol, o + 13);
    this.str(r.hostname, o + 14);
    this.n++;
  }

  private str(s: string | null, at: number): void {
    if (s === null) this.nums[at] = -1;
    else {
      this.nums[at] = s.length;
      this.parts.push(s);
    }
  }

  /** The packed batch; the writer starts over. */
  take(): { n: number; nums: Float64Array; text: string } {
    const out = { n: this.n, nums: this.nums.slice(0, this.n * NUMS), text: this.parts.join('') };
    this.n = 0;
    this.parts = [];
    return out;
  }
}

/** Reads packed records into one reused record (caller side): the builder copies what it keeps. */
export class BatchReader {
  readonly record: FeedRecord = {
    line: 0, ip: '', port: null, timestamp: 0, type: 'other', family: null, source: '', asn: null, country: null, c2_ip: null, c2_port: null, protocol: null, hostname: null,
  };
  party = 0;
  hi = 0;
  lo = 0;
  private at = 0;
  private pos = 0;

  constructor(private readonly b: { nums: Float64Array; text: string }, source: string) {
    this.record.source = source;
  }

  /** Moves to record `i` (in order). */
  read(i: number): FeedRecord {
    const a = this.b.nums;
    const o = i * NUMS;
    const r = this.record;
    r.line = a[o]!;
    r.timestamp = a[o + 1]!;
    r.port = a[o + 2]! < 0 ? null : a[o + 2]!;
    r.asn = a[o + 3]! < 0 ? null : a[o + 3]!;
    r.c2_port = a[o + 4]! < 0 ? null : a[o + 4]!;
    this.party = a[o + 5]!;
    r.type = FEED_TYPES_BY_CODE[a[o + 6]!]!;
    this.hi = a[o + 7]!;
    this.lo = a[o + 8]!;
    this.at = o + 9;
    r.ip = this.str()!;
    r.family = this.str();
    r.country = this.str();
    r.c2_ip = this.str();
    r.protocol = this.str();
    r.hostname = this.str();
    return r;
  }

  private str(): string | null {
    const len = this.b.nums[this.at++]!;
    if (len < 0) return null;
    const s = this.b.text.slice(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

/**
 * The parse worker's heap limits. Its heap holds a few batches (live: ~15 MB; the deduplication
 * table and the IP database are array buffers, outside it), so: a small young generation, and an
 * old generation capped at 256 MB, far above what it holds. The cap is also what makes V8 grow the
 * old generation by at most ~1.4× its live size between full collections (up to 4× under a cap
 * over 1 GB, the default): garbage of promoted batches reached 45–50 MB before (issue 9 item 14).
 */
export const STAGE_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 } as const;

/**
 * For a process whose work is one feed run on its main thread (`hotline feed ingest`,
 * bench:feeds): V8 lets the old generation grow to as much as 4× its live size between full
 * collections, and the run's promoted-then-dropped bundle entries made that 45–65 MB of garbage on
 * a 10M-row run. This makes it 1.3× for every heap of the process (the flag is read each time a
 * limit is set, so it applies from now on). The node does not call it: its runs are on workers
 * whose heap limits do the same for them alone (feeds.runner.ts).
 */
export function tuneHeapForFeedRun(): void {
  setFlagsFromString('--heap-growing-percent=30');
}

const FEED_TYPES_BY_CODE: readonly FeedRecord['type'][] = ['infected-host', 'c2-server', 'other'];

/**
 * Runs the first half of the pipeline on a worker thread over `input`; yields its batches. The
 * worker stops when the caller stops iterating (or fails: its error is thrown here, with its code).
 */
export async function* runStage(input: AsyncIterable<Buffer | string>, data: StageData): AsyncGenerator<StageBatch> {
  const worker = new Worker(workerScript(import.meta.url, './feeds.stage.worker.js'), {
    workerData: data, transferList: data.seen.tables.map((t) => t.buffer as ArrayBuffer),
    resourceLimits: STAGE_LIMITS,
  });
  const it = input[Symbol.asyncIterator]();
  const queue: StageBatch[] = [];
  let done = false;
  let error: unknown;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const feed = async (): Promise<void> => {
    try {
      const r = await it.next();
      if (r.done === true) worker.postMessage({ type: 'end' });
      else if (typeof r.value === 'string') worker.postMessage({ type: 'chunk', chunk: r.value });
      else {
        // A chunk that owns its whole buffer (a file stream's) is handed over as it is; a slice of
        // a shared pool (small stdin or socket chunks) is copied first.
        const v = r.value;
        const own = v.byteOffset === 0 && v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength;
        const chunk = own ? v : new Uint8Array(v);
        worker.postMessage({ type: 'chunk', chunk }, [chunk.buffer as ArrayBuffer]);
      }
    } catch (e) {
      error ??= e;
      poke();
    }
  };
  worker.on('message', (m: StageMessage) => {
    if (m.type === 'more') void feed();
    else if (m.type === 'batch') queue.push(m);
    else if (m.type === 'end') done = true;
    else error ??= new HotlineError(m.code as ErrorCode, m.message);
    poke();
  });
  worker.on('error', (e) => {
    error ??= (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new HotlineError('internal', `The feed's parse worker went over its ${STAGE_LIMITS.maxOldGenerationSizeMb} MB heap; a feed whose rows or objects are this big cannot be read`)
      : e;
    poke();
  });
  worker.on('exit', () => {
    if (!done) error ??= new HotlineError('internal', 'The feed\'s parse worker stopped before the end of the input');
    poke();
  });
  try {
    for (;;) {
      const b = queue.shift();
      if (b !== undefined) {
        yield b;
        worker.postMessage({ type: 'taken' });
        continue;
      }
      if (error !== undefined) throw error;
      if (done) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
    if (!done) await it.return?.();
  }
}
