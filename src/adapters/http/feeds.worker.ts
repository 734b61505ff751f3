/**
 * A feed run on a worker thread of the node (feeds.runner.ts starts it): the whole pipeline —
 * parse, normalise, enrich, deduplicate, route, STIX bundles — and its writes, over a store
 * connection of its own, in short transactions (feeds.run.ts). The node's main thread, which
 * answers the federation endpoint, does none of this work: it only waits for the one bundle being
 * written when it writes itself (on SQLite the worker gives way to it before each, gate.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../../config.js';
import { WriterGate } from '../storage/gate.js';
import { feedRunDeps, openContext } from '../../context.js';
import { jobInput, loadJob } from '../../modules/feeds/feeds.jobs.js';
import { ingestFeed } from '../../modules/feeds/feeds.run.js';
import { isHotlineError, isStoreUnavailable } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';

/** What the runner hands the worker: the node's home, the job it claimed (feeds.jobs.ts) and who holds it. */
export interface FeedWorkerData {
  home: string;
  id: string;
  holder: string;
  /** SQLite: the node's writer gate, where this worker gives way to the main thread (adapters/storage/gate.ts). */
  gate?: SharedArrayBuffer;
}

/** What the worker tells the runner. */
export type FeedWorkerMessage = { type: 'queued' } | { type: 'done' } | { type: 'failed'; code: string; message: string; unavailable: boolean };

const data = workerData as FeedWorkerData;
const post = (m: FeedWorkerMessage): void => parentPort!.postMessage(m);
try {
  const ctx = await openContext(loadConfig(data.home), { log: silentLogger, ...(data.gate === undefined ? {} : { writerTurn: { gate: new WriterGate(data.gate), first: false } }) });
  try {
    const deps = await feedRunDeps(ctx);
    // The job's input is read from the store, where it was spooled (any process of the node can run it),
    // from the start: a resumed run skips what its last write counted as done.
    const job = await loadJob(ctx.db, data.id);
    await ingestFeed(deps, {
      ...job.options, id: job.id, input: jobInput(ctx.db, job.id), onQueued: () => post({ type: 'queued' }),
      job: { holder: data.holder, resume: { report: job.report, line: job.resumeLine, startedAt: job.startedAt } },
    });
    post({ type: 'done' });
  } finally {
    await ctx.close();
  }
} catch (e) {
  // `unavailable`: the store failed, not the run (it is given back to the queue and resumed, feeds.runner.ts).
  post({ type: 'failed', code: isHotlineError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e), unavailable: isStoreUnavailable(e) });
}
