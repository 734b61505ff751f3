import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { NodeContext } from '../../context.js';
import { dialectOf } from '../../shared/dialect.js';
import { ERROR_CODES, fail, HotlineError, type ErrorCode } from '../../shared/errors.js';
import { endedHere, liveProcesses, processHolder, type LeasesTables } from '../../shared/leases.js';
import { releaseJob, spoolUpload, type JobOptions } from '../../modules/feeds/feeds.jobs.js';
import { showRun, type RunView } from '../../modules/feeds/feeds.runs.js';
import { parseFeed, type ParseOptions } from '../../modules/feeds/feeds.parse.js';
import { FEED_JOB_POLL_MS } from '../http/feeds.runner.js';
import { EXIT } from './output.js';

/**
 * `hotline feed ingest` while the node runs: the run is handed to the node as a job (feeds.jobs.ts),
 * as an upload is, instead of being run by the CLI's own process. On SQLite a second process
 * writing bundles held the store's write lock against the node's event loop, which then stood
 * still for seconds at a time (a FLASH waited with it); the node runs its jobs on a worker that
 * gives way to its main thread (adapters/storage/gate.ts). The CLI spools the input into the store,
 * leaves it queued for any process of the node, and follows the run until it ends.
 */

/** Which node process will run a job: on this machine by its pid file, on PostgreSQL any live process lease (another machine's too) but of a process here that ended; undefined when none runs. */
export async function nodeRunning(ctx: NodeContext, home: string): Promise<string | undefined> {
  const { runningNode } = await import('../../pidfile.js');
  const here = await runningNode(home);
  if (here !== undefined) return `the node (pid ${here.pid}${here.address === null ? '' : ` on ${here.address}`})`;
  if (dialectOf(ctx.db) !== 'postgres') return undefined;
  // Not one of this machine's that has ended (killed with -9): its lease stays live for seconds, and a run handed to it would wait.
  const live = (await liveProcesses(ctx.db as unknown as Kysely<LeasesTables>, ctx.clock.now())).filter((p) => !endedHere(p));
  return live.length === 0 ? undefined : `the node (${live.length} process${live.length === 1 ? '' : 'es'} on the shared store)`;
}

/** How often the CLI reads the run's progress (ms). */
const FOLLOW_MS = 500;

/** Every how many reads of the run the CLI checks that the node still runs. */
const NODE_CHECK_POLLS = 10;

/** Runs that have ended, whatever way. */
const ENDED = new Set(['complete', 'failed', 'interrupted']);

/** Most of the input read to check its head before anything is spooled (bytes). */
const HEAD_CHECK_BYTES = 1024 * 1024;

/**
 * Parses the input's first batch as the run will, so that a feed the format, preset or mapping
 * does not fit is refused here, before it is spooled, and nothing is stored. Answers the whole
 * input again (what was read, then the rest). Past {@link HEAD_CHECK_BYTES} without a first
 * batch, the parse sees an end there: its refusal could be the cut's, so it is not believed and
 * the node's run decides.
 */
export async function checkedInput(input: AsyncIterable<Buffer | string>, opts: ParseOptions): Promise<AsyncIterable<Buffer>> {
  const it = input[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let bytes = 0;
  let ended = false;
  const head: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<Buffer>> {
        if (ended || bytes >= HEAD_CHECK_BYTES) return { done: true, value: undefined };
        const r = await it.next();
        if (r.done === true) {
          ended = true;
          return { done: true, value: undefined };
        }
        const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        read.push(b);
        bytes += b.length;
        return { done: false, value: b };
      },
    }),
  };
  try {
    for await (const batch of parseFeed(head, opts)) {
      void batch;
      break;
    }
  } catch (e) {
    if (ended || bytes < HEAD_CHECK_BYTES) throw e;
  }
  return (async function* rest(): AsyncGenerator<Buffer> {
    yield* read;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  })();
}

export interface HandOver {
  input: AsyncIterable<Buffer | string>;
  /** What the head of the input is checked with ({@link checkedInput}). */
  parse: ParseOptions;
  source: string;
  options: (bytes: number) => JobOptions & { inputName: string };
  /** The node's home (to see whether the node still runs while the run is followed). */
  home: string;
  /** Told of the run's progress while the node runs it. */
  onProgress: (v: RunView) => void;
  /** Told once when the run waits: queued behind the node's other runs, or the node stopped. */
  onWaiting: (message: string) => void;
  /** Once the input's head passed the check, before it is spooled. */
  onHandOver: () => void;
}

/**
 * Spools the input as a job queued for any process of the node and follows it to its end; answers
 * the ended run. A run that failed is refused with the code and message it failed with. Ctrl-C
 * while the input is spooled leaves nothing; after that, it stops the following only (the run goes
 * on in the node).
 */
export async function runInNode(ctx: NodeContext, o: HandOver): Promise<RunView> {
  const id = randomUUID();
  const input = await checkedInput(o.input, o.parse);
  o.onHandOver();
  // Ctrl-C while the input is spooled ends the read, and the spool deletes what it wrote.
  const it = input[Symbol.asyncIterator]();
  let abort: (e: unknown) => void = () => {};
  const aborted = new Promise<never>((_, reject) => { abort = reject; });
  aborted.catch(() => undefined);
  const onInt = (): void => {
    abort(new HotlineError('interrupted', 'Interrupted while the feed was read: nothing was queued or kept'));
    // A read waiting for more (stdin that sends nothing) ends with its stream.
    if (o.input instanceof Readable) o.input.destroy();
  };
  process.once('SIGINT', onInt);
  try {
    const bytes: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => Promise.race([it.next(), aborted]) }) };
    await spoolUpload(ctx.db, { id, holder: processHolder(), source: o.source, now: ctx.clock.now() }, bytes, o.options);
    await releaseJob(ctx.db, id);
  } finally {
    process.removeListener('SIGINT', onInt);
  }
  const stop = (): void => {
    process.stderr.write(`\nStopped following. Feed run ${id} goes on in the node: hotline feed show ${id}\n`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', stop);
  try {
    let waited = 0;
    let told = false;
    for (let polls = 1; ; polls++) {
      const v = await showRun(ctx.db, id, ctx.clock.now());
      if (ENDED.has(v.state)) return ended(v);
      // A node killed (or stopped) meanwhile resumes the run when it starts again; until then nothing moves.
      if (!told && polls % NODE_CHECK_POLLS === 0 && (await nodeRunning(ctx, o.home)) === undefined) {
        told = true;
        o.onWaiting(`The node is not running any more: feed run ${id} goes on when it starts again (hotline start; Ctrl-C stops following, not the run)`);
      }
      if (v.state === 'queued') {
        waited += FOLLOW_MS;
        // The node looks for jobs every FEED_JOB_POLL_MS; past a few of those, all its run slots are taken, or it stopped.
        if (waited === 4 * FEED_JOB_POLL_MS) o.onWaiting(`Feed run ${id} is queued: the node runs as many feed runs as config feeds.maxConcurrentRuns allows, or it has stopped; it starts when one ends (Ctrl-C stops following, not the run)`);
      } else {
        o.onProgress(v);
      }
      await new Promise((r) => setTimeout(r, FOLLOW_MS));
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

/** The ended run; a failed or interrupted one as the error it ended with. */
function ended(v: RunView): RunView {
  if (v.state === 'complete') return v;
  const m = /^\[([a-z_]+)\] ([\s\S]*)$/.exec(v.error ?? '');
  const code = m !== null && (ERROR_CODES as readonly string[]).includes(m[1]!) ? m[1] as ErrorCode : 'internal';
  return fail(code, `Feed run ${v.id} ${v.state}: ${m === null ? v.error ?? 'no reason recorded' : m[2]!}`, { id: v.id });
}
