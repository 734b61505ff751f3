/**
 * A feed run on a worker thread of the node (feeds.runner.ts starts it): the whole pipeline —
 * parse, normalise, enrich, deduplicate, route, STIX bundles — and its writes, over a store
 * connection of its own, in short transactions (feeds.run.ts). The node's main thread, which
 * answers the federation endpoint, does none of this work: it only waits, as for any other
 * writer, for the one bundle being written when it writes itself.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from '../../config.js';
import { feedRunDeps, openContext } from '../../context.js';
import { ingestFeed, type IngestOptions } from '../../modules/feeds/feeds.run.js';
import { isHotlineError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';

/** What the runner hands the worker: the node's home, the spooled upload, and the run's options. */
export interface FeedWorkerData {
  home: string;
  file: string;
  options: Omit<IngestOptions, 'input' | 'onProgress' | 'onQueued'>;
}

/** What the worker tells the runner. */
export type FeedWorkerMessage = { type: 'queued' } | { type: 'done' } | { type: 'failed'; code: string; message: string };

const data = workerData as FeedWorkerData;
const post = (m: FeedWorkerMessage): void => parentPort!.postMessage(m);
try {
  const ctx = await openContext(loadConfig(data.home), { log: silentLogger });
  try {
    const deps = await feedRunDeps(ctx);
    await ingestFeed(deps, { ...data.options, input: createReadStream(data.file, { highWaterMark: 1024 * 1024 }), onQueued: () => post({ type: 'queued' }) });
    post({ type: 'done' });
  } finally {
    await ctx.close();
  }
} catch (e) {
  post({ type: 'failed', code: isHotlineError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) });
}
