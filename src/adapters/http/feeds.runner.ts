import { rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { NodeContext } from '../../context.js';
import { settleRun } from '../../modules/feeds/feeds.run.js';
import { fail } from '../../shared/errors.js';
import { workerScript } from '../../shared/workers.js';
import type { FeedWorkerData, FeedWorkerMessage } from './feeds.worker.js';

/**
 * The heap limits of a run's worker (it builds the bundles and writes them; parsing is on a worker
 * of its own, feeds.stage.ts): a young generation of 8 MB, not V8's default 32 MB, which its
 * bundles' records would fill; and an old generation capped at 512 MB, far above the ~20 MB it
 * holds, which also keeps V8 from letting garbage grow to 4× that between full collections.
 */
const RUN_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512 } as const;

/**
 * The node's feed runs, each on a worker thread (feeds.worker.ts), at most
 * `feeds.maxConcurrentRuns` at once: an upload beyond it is refused with `feeds_busy` before its
 * body is read. A slot is reserved when an upload starts (so that two uploads arriving together
 * cannot both take the last one) and released when its run ends, or when the upload fails.
 */
export class FeedRunner {
  private reserved = 0;
  private readonly workers = new Map<string, Worker>();

  constructor(private readonly ctx: NodeContext, private readonly onQueued: () => void) {}

  /** Runs now (or, before its upload is read, reserved); for tests and /metrics. */
  get active(): number {
    return this.reserved;
  }

  /** Takes a run slot, or refuses with `feeds_busy`; give it back with `release` if the run is not started. */
  reserve(): void {
    const max = Math.max(1, Math.floor(this.ctx.config.feeds.maxConcurrentRuns));
    if (this.reserved >= max) {
      fail('feeds_busy', `This node runs ${max} feed run${max === 1 ? '' : 's'} at a time (config feeds.maxConcurrentRuns) and is running ${max === 1 ? 'one' : 'them'} now; upload again when it has finished (GET /api/v1/feed-runs)`);
    }
    this.reserved++;
  }

  release(): void {
    this.reserved = Math.max(0, this.reserved - 1);
  }

  /** Starts a reserved run on a worker; the spooled upload is removed when the run ends. */
  start(data: FeedWorkerData & { options: { id: string } }): void {
    const id = data.options.id;
    const worker = new Worker(workerScript(import.meta.url, './feeds.worker.js'), { workerData: data, resourceLimits: RUN_LIMITS });
    this.workers.set(id, worker);
    let settled = false;
    const end = (failure?: { code: string; message: string }): void => {
      if (settled) return;
      settled = true;
      this.workers.delete(id);
      this.release();
      rmSync(data.file, { force: true });
      if (failure !== undefined) {
        this.ctx.log.warn({ run: id, code: failure.code }, `feed run failed: ${failure.message}`);
        void settleRun(this.ctx.db, { id, source: data.options.source, input: data.options.inputName }, `[${failure.code}] ${failure.message}`, 'failed', this.ctx.clock.now())
          .catch((e: unknown) => this.ctx.log.error({ err: e, run: id }, 'could not record the feed run\'s failure'));
      }
    };
    worker.on('message', (m: FeedWorkerMessage) => {
      if (m.type === 'queued') this.onQueued();
      else if (m.type === 'done') end();
      else end({ code: m.code, message: m.message });
    });
    worker.on('error', (e) => end({ code: 'internal', message: e.message }));
    worker.on('exit', (code) => end(code === 0 ? undefined : { code: 'internal', message: `the feed run's worker stopped (exit code ${code})` }));
  }

  /** Stops every run (the node is stopping): each is marked `interrupted`, to be run again. */
  async stop(): Promise<void> {
    const running = [...this.workers.entries()];
    for (const [, w] of running) w.removeAllListeners('exit');
    await Promise.all(running.map(([, w]) => w.terminate()));
    for (const [id] of running) {
      this.workers.delete(id);
      await settleRun(this.ctx.db, { id }, 'The node stopped before the run finished; upload the same feed again: what was already sent is recognised and not sent twice', 'interrupted', this.ctx.clock.now())
        .catch(() => undefined);
    }
    this.reserved = 0;
  }
}
