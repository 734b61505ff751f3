import { Worker } from 'node:worker_threads';
import type { NodeContext } from '../../context.js';
import { claimJob, requeueJobs } from '../../modules/feeds/feeds.jobs.js';
import { settleRun } from '../../modules/feeds/feeds.run.js';
import { fail, isStoreUnavailable } from '../../shared/errors.js';
import { processHolder } from '../../shared/leases.js';
import { workerScript } from '../../shared/workers.js';
import type { FeedWorkerData, FeedWorkerMessage } from './feeds.worker.js';

/**
 * The heap limits of a run's worker (it builds the bundles and writes them; parsing is on a worker
 * of its own, feeds.stage.ts): a young generation of 8 MB, not V8's default 32 MB, which its
 * bundles' records would fill; and an old generation capped at 512 MB, far above the ~20 MB it
 * holds, which also keeps V8 from letting garbage grow to 4× that between full collections.
 */
const RUN_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512 } as const;

/** How often a process looks for a job to run (queued, or whose holder is gone) when it has a free slot (ms). */
export const FEED_JOB_POLL_MS = 2_000;

/**
 * The feed runs of this process, each on a worker thread (feeds.worker.ts), at most
 * `feeds.maxConcurrentRuns` at once: an upload beyond it is refused with `feeds_busy` before its
 * body is read. A slot is reserved when an upload starts (so that two uploads arriving together
 * cannot both take the last one) and released when its run ends, or when the upload fails.
 *
 * Runs are jobs in the store (feeds.jobs.ts): the upload this process received is claimed by it
 * at once; with a slot free, it also looks for work every {@link FEED_JOB_POLL_MS}: a queued job,
 * or one whose holder is gone (a process killed with -9 on any machine, on PostgreSQL when its
 * `process:` lease lapsed), which it resumes; or one it holds itself but no longer runs (its
 * worker ended and the store could not record how: the run would otherwise stay `running` for as
 * long as this process lives).
 */
export class FeedRunner {
  private reserved = 0;
  private readonly workers = new Map<string, Worker>();
  /** Uploads this process is claiming (startUpload): with {@link workers}, the jobs it runs. */
  private readonly claiming = new Set<string>();
  /** Runs whose worker ended and whose end (failed, or back to the queue) is being recorded. */
  private readonly ending = new Set<string>();
  /** Whether this process runs the job (or is claiming it, or recording its end): one it holds and does not run is resumed (claimJob). */
  private readonly runs = { has: (id: string): boolean => this.workers.has(id) || this.claiming.has(id) || this.ending.has(id) };
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> = Promise.resolve();
  /** Slots held by looks for queued jobs, while they claim (0 or 1). */
  private looks = 0;
  private stopped = false;
  readonly holder: string;

  constructor(private readonly ctx: NodeContext, private readonly onQueued: () => void, holder?: string) {
    this.holder = holder ?? processHolder();
  }

  /** Runs now (or, before its upload is read, reserved); for tests and /metrics. */
  get active(): number {
    return this.reserved;
  }

  private get max(): number {
    return Math.max(1, Math.floor(this.ctx.config.feeds.maxConcurrentRuns));
  }

  /**
   * Takes a run slot, or refuses with `feeds_busy`; give it back with `release` if the run is not
   * started. A slot held by a look for queued jobs (which may find none) is waited for, not
   * refused: an upload that came while the node looked was told it was busy with nothing running.
   */
  async reserve(): Promise<void> {
    const max = this.max;
    while (this.reserved >= max && this.looks > 0) await this.looking;
    if (this.reserved >= max) {
      fail('feeds_busy', `This node runs ${max} feed run${max === 1 ? '' : 's'} at a time (config feeds.maxConcurrentRuns) and is running ${max === 1 ? 'one' : 'them'} now; upload again when it has finished (GET /api/v1/feed-runs)`);
    }
    this.reserved++;
  }

  release(): void {
    this.reserved = Math.max(0, this.reserved - 1);
  }

  /** Looks for jobs now and then every {@link FEED_JOB_POLL_MS} (the node's start: what a stopped or killed process left is resumed). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.poke();
    this.timer = setInterval(() => this.poke(), FEED_JOB_POLL_MS);
    this.timer.unref();
  }

  /** Looks for jobs once (after the one before has finished looking). */
  poke(): void {
    this.looking = this.looking.then(() => this.lookForJobs()).catch((e: unknown) => this.ctx.log.warn({ err: e }, 'could not look for feed jobs'));
  }

  private async lookForJobs(): Promise<void> {
    while (!this.stopped && this.reserved < this.max) {
      this.reserved++;
      this.looks++;
      let id: string | null = null;
      try {
        id = await claimJob(this.ctx.db, this.holder, this.ctx.clock.now(), { running: this.runs });
      } finally {
        this.looks--;
        if (id === null) this.release();
      }
      if (id === null || this.stopped) return;
      this.ctx.log.info({ run: id }, 'feed run claimed');
      this.run(id);
    }
  }

  /**
   * Runs the upload `id` this process just spooled, in the slot it reserved; if another process
   * claimed it first (it was queued), the slot is given back and the run goes on there.
   */
  async startUpload(id: string): Promise<void> {
    this.claiming.add(id);
    let got: string | null;
    try {
      got = await claimJob(this.ctx.db, this.holder, this.ctx.clock.now(), { id });
    } finally {
      this.claiming.delete(id);
    }
    if (got === null) this.release();
    else this.run(id);
  }

  /** Runs a claimed job on a worker, in a slot reserved for it. */
  private run(id: string): void {
    const gate = this.ctx.writerGate;
    const data: FeedWorkerData = { home: this.ctx.config.home, id, holder: this.holder, ...(gate === undefined ? {} : { gate: gate.shared }) };
    const worker = new Worker(workerScript(import.meta.url, './feeds.worker.js'), { workerData: data, resourceLimits: RUN_LIMITS });
    this.workers.set(id, worker);
    let settled = false;
    const end = (failure?: { code: string; message: string; unavailable?: boolean }): void => {
      if (settled) return;
      settled = true;
      this.workers.delete(id);
      // Until its end is recorded, the run is still this process's (claimJob leaves it alone).
      this.ending.add(id);
      let recorded: Promise<unknown> = Promise.resolve();
      if (failure?.unavailable === true) {
        // The store failed, not the run: back to the queue, resumed from its checkpoint by whichever
        // process claims it next (this one, at its next look, once the store answers). If even that
        // write fails, the run stays held by this process, which resumes it (claimJob, `running`).
        this.ctx.log.warn({ run: id, code: failure.code }, `feed run stopped, the store being unavailable (${failure.message}); it is resumed when the store answers`);
        recorded = requeueJobs(this.ctx.db, this.holder, [id], this.ctx.clock.now()).catch(() => undefined);
      } else if (failure !== undefined) {
        this.ctx.log.warn({ run: id, code: failure.code }, `feed run failed: ${failure.message}`);
        // Only while this process still holds it (a run taken over by another process goes on there).
        recorded = settleRun(this.ctx.db, { id, holder: this.holder }, `[${failure.code}] ${failure.message}`, 'failed', this.ctx.clock.now())
          .catch((e: unknown) => this.ctx.log.error({ err: e, run: id }, 'could not record the feed run\'s failure; it is resumed'));
      }
      void recorded.then(() => {
        this.ending.delete(id);
        this.release();
        // A slot is free: a job may be waiting.
        if (!this.stopped) this.poke();
      });
    };
    worker.on('message', (m: FeedWorkerMessage) => {
      if (m.type === 'queued') this.onQueued();
      else if (m.type === 'done') end();
      else end({ code: m.code, message: m.message, unavailable: m.unavailable });
    });
    worker.on('error', (e) => end({ code: 'internal', message: e.message, unavailable: isStoreUnavailable(e) }));
    worker.on('exit', (code) => end(code === 0 ? undefined : { code: 'internal', message: `the feed run's worker stopped (exit code ${code})` }));
  }

  /** Stops every run (the node is stopping): each is queued again where it stopped, for the next process that looks for work. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.looking;
    const running = [...this.workers.entries()];
    for (const [, w] of running) w.removeAllListeners('exit');
    await Promise.all(running.map(([, w]) => w.terminate()));
    for (const [id] of running) this.workers.delete(id);
    await requeueJobs(this.ctx.db, this.holder, running.map(([id]) => id), this.ctx.clock.now()).catch(() => undefined);
    this.reserved = 0;
  }
}
