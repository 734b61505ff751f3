import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../shared/dialect.js';
import { fail } from '../../shared/errors.js';
import { liveHolders, type LeasesTables } from '../../shared/leases.js';
import { pidAlive } from '../../shared/pids.js';
import type { IngestOptions, RunReport } from './feeds.run.js';
import type { FeedsTables } from './feeds.tables.js';

/**
 * Uploaded feeds as jobs any process of the node can run (issue 13: "feed runs are jobs any
 * process can claim and resume"). The upload is spooled into the store (`feed_inputs`, chunks of
 * about 1 MiB) under a run in state `receiving`, then `queued`. A process claims a queued run (a
 * compare-and-set of its `holder`: two processes cannot both take it) and runs it from the
 * chunks; every write of the run also records how far its committed work reached
 * (`resume_line`, feeds.run.ts). A run whose holder is gone (PostgreSQL: the holder's `process:`
 * lease lapsed, leases.ts; SQLite, one process per home: any holder but this process) is claimed
 * again and resumed from there. Its chunks are deleted when it ends (complete or failed).
 */

/** What a job was started with (the run's `options`, JSON). */
export type JobOptions = Omit<IngestOptions, 'input' | 'onProgress' | 'onQueued' | 'id' | 'dryRun' | 'job'>;

/** A chunk of the spooled upload is written once this many bytes arrived. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Spools an upload into the store as the job `id`: the run is `receiving` while it arrives (held by
 * `holder`), then `queued` with its options (`options(bytes)`: they depend on the size). An upload
 * that fails (too large, cut off, empty) leaves nothing: its run and chunks are deleted.
 */
export async function spoolUpload(
  db: Kysely<FeedsTables>,
  job: { id: string; holder: string; source: string; now: number },
  input: AsyncIterable<Buffer>,
  options: (bytes: number) => JobOptions & { inputName: string },
): Promise<number> {
  const { id, now } = job;
  await db.insertInto('feed_runs').values({
    id, source: job.source, input: 'upload', state: 'receiving', pid: process.pid, started_at: now, updated_at: now, finished_at: null,
    report: JSON.stringify(emptyJobReport(job.source)), error: null, options: '{}', holder: job.holder, resume_line: 0,
  }).execute();
  let bytes = 0;
  let seq = 0;
  try {
    let parts: Buffer[] = [];
    let held = 0;
    const write = async (): Promise<void> => {
      if (held === 0) return;
      await db.insertInto('feed_inputs').values({ run_id: id, seq: seq++, data: Buffer.concat(parts, held) }).execute();
      parts = [];
      held = 0;
    };
    for await (const chunk of input) {
      bytes += chunk.length;
      parts.push(chunk);
      held += chunk.length;
      if (held >= CHUNK_BYTES) await write();
    }
    await write();
    if (bytes === 0) fail('feed_format', 'The upload is empty; send the feed as the request body');
    const o = options(bytes);
    // Queued, still held by the process that received it (it claims it at once), or by anyone once that process is gone.
    await db.updateTable('feed_runs').set({ state: 'queued', input: o.inputName, options: JSON.stringify(o) })
      .where('id', '=', id).where('state', '=', 'receiving').execute();
  } catch (e) {
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('feed_inputs').where('run_id', '=', id).execute();
      await trx.deleteFrom('feed_runs').where('id', '=', id).execute();
    }).catch(() => undefined);
    throw e;
  }
  return bytes;
}

/**
 * Leaves the spooled job `id` queued for any process of the node, not for the one that spooled it
 * (`hotline feed ingest` hands its run to the running node this way: the CLI runs nothing).
 */
export async function releaseJob(db: Kysely<FeedsTables>, id: string): Promise<void> {
  await db.updateTable('feed_runs').set({ holder: null, pid: null }).where('id', '=', id).where('state', '=', 'queued').execute();
}

/** The report of a job that has read nothing yet (its TLP and destinations are set when it starts). */
function emptyJobReport(source: string): RunReport {
  return {
    source, tlp: 'amber', bytes: 0, lines: 0, records: 0, rejected: 0, rejects: [], duplicates: 0, unrouted: 0, peers: [],
    domestic: { party: '', collection: '', records: 0, distinct_ips: 0, families: [], messages: [], objects: 0 }, elapsed_ms: 0,
  };
}

/** The input of the job `id`, chunk by chunk, as it was uploaded (one chunk read at a time). */
export async function* jobInput(db: Kysely<FeedsTables>, id: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const row = await db.selectFrom('feed_inputs').select('data').where('run_id', '=', id).where('seq', '=', seq).executeTakeFirst();
    if (row === undefined) return;
    // A copy that owns its whole buffer (handed over to the parse worker as it is).
    yield Buffer.from(row.data);
  }
}

/**
 * Which holders are gone, as the process `self` judges it: on PostgreSQL a holder whose
 * `process:` lease is not live (whatever machine it runs on); on SQLite (one node process per
 * home) any holder but `self`.
 */
export async function goneHolders(db: Kysely<FeedsTables>, self: string, now: number): Promise<(holder: string | null) => boolean> {
  if (dialectOf(db) === 'sqlite') return (h) => h !== self;
  const live = await liveHolders(db as unknown as Kysely<LeasesTables>, now);
  return (h) => h === null || !live.has(h);
}

/**
 * How many times a job is taken over from a process that stopped while running it; the next time
 * it is failed instead: a job that ends every process that runs it (out of memory, a crash) must
 * not go from process to process for ever. A clean stop (requeueJobs) is not counted.
 */
export const MAX_TAKEOVERS = 3;

/**
 * Claims a job for the process `holder`: `o.id` if given (the upload it just received), else the
 * oldest job queued for anyone (or for this process), or one whose holder is gone, or one this
 * process holds as running but does not run (`o.running`: the jobs it runs or is claiming; its
 * worker ended and the end could not be recorded, the store being unreachable then). A
 * compare-and-set of the run's state and holder: of two processes claiming one job, one gets it.
 * Taking over a running job counts an attempt; past {@link MAX_TAKEOVERS} the job is failed
 * (`feed_abandoned`) and its input deleted. Answers the run's id, or null.
 */
export async function claimJob(db: Kysely<FeedsTables>, holder: string, now: number, o: { id?: string; running?: { has(id: string): boolean } } = {}): Promise<string | null> {
  let q = db.selectFrom('feed_runs').select(['id', 'state', 'holder', 'attempts']).where('options', 'is not', null).where('state', 'in', ['queued', 'running']);
  if (o.id !== undefined) q = q.where('id', '=', o.id);
  const candidates = await q.orderBy('started_at').orderBy('id').limit(20).execute();
  if (candidates.length === 0) return null;
  const gone = await goneHolders(db, holder, now);
  for (const c of candidates) {
    if (c.state === 'running' && c.holder === holder && (o.running === undefined || o.running.has(c.id))) continue;
    // Running, or queued for the process that received it: left to its holder while it lives.
    if (c.holder !== null && c.holder !== holder && !gone(c.holder)) continue;
    const takeover = c.state === 'running';
    const abandon = takeover && Number(c.attempts) >= MAX_TAKEOVERS;
    const taken = await db.transaction().execute(async (trx) => {
      let u = abandon
        ? trx.updateTable('feed_runs').set({
          state: 'failed', holder: null, pid: null, updated_at: now, finished_at: now,
          error: `[feed_abandoned] The run was resumed ${MAX_TAKEOVERS} times and each time the process running it stopped before it finished (killed, or out of memory); it is not tried again. See the node's log, then upload the feed again, or in smaller parts`,
        })
        : trx.updateTable('feed_runs').set({ state: 'running', holder, pid: process.pid, updated_at: now, attempts: Number(c.attempts) + (takeover ? 1 : 0) });
      u = u.where('id', '=', c.id).where('state', '=', c.state).where('attempts', '=', Number(c.attempts));
      u = c.holder === null ? u.where('holder', 'is', null) : u.where('holder', '=', c.holder);
      const n = Number((await u.executeTakeFirst()).numUpdatedRows);
      if (n === 1 && abandon) await trx.deleteFrom('feed_inputs').where('run_id', '=', c.id).execute();
      return n;
    });
    if (taken === 1 && !abandon) return c.id;
  }
  return null;
}

/** A job as its process runs it: options, and where it resumes (the report and line of its last committed write). */
export interface Job {
  id: string;
  options: JobOptions & { inputName: string };
  report: RunReport;
  resumeLine: number;
  startedAt: number;
}

export async function loadJob(db: Kysely<FeedsTables>, id: string): Promise<Job> {
  const r = await db.selectFrom('feed_runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (r === undefined || r.options === null) fail('not_found', `No feed job ${id}`);
  return {
    id, options: JSON.parse(r.options) as Job['options'], report: JSON.parse(r.report) as RunReport, resumeLine: Number(r.resume_line), startedAt: Number(r.started_at),
  };
}

/**
 * Gives the jobs this process holds back (it is stopping): queued again, where they stopped,
 * for the next process that looks for work.
 */
export async function requeueJobs(db: Kysely<FeedsTables>, holder: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('feed_runs').set({ state: 'queued', holder: null, pid: null, updated_at: now })
    .where('id', 'in', [...ids]).where('holder', '=', holder).where('state', '=', 'running').execute();
}

/**
 * Marks as `interrupted` the runs whose process is gone and that no other process will finish:
 * a run of the CLI (not a job) whose process is not alive, and an upload whose receiving process
 * is gone (its chunks are deleted). A job that was running or queued is not: a process of the
 * node resumes it. A CLI run's process is judged by its pid only on the machine it ran on
 * (`holder` is `host:pid`); elsewhere it is left as it is.
 */
export async function markInterrupted(db: Kysely<FeedsTables>, now: number): Promise<void> {
  const rows = await db.selectFrom('feed_runs').select(['id', 'pid', 'holder', 'options', 'state']).where('state', 'in', ['running', 'receiving']).execute();
  if (rows.length === 0) return;
  const pg = dialectOf(db) === 'postgres';
  const live = pg ? await liveHolders(db as unknown as Kysely<LeasesTables>, now) : null;
  for (const r of rows) {
    if (r.options !== null) {
      if (r.state !== 'receiving') continue;
      const gone = live === null ? !localAlive(r.holder, r.pid) : r.holder === null || !live.has(r.holder);
      if (!gone) continue;
      await db.transaction().execute(async (trx) => {
        const u = await trx.updateTable('feed_runs').set({ state: 'interrupted', updated_at: now, finished_at: now, error: 'The process receiving the upload stopped before it was complete; upload the feed again' })
          .where('id', '=', r.id).where('state', '=', 'receiving').executeTakeFirst();
        if (Number(u.numUpdatedRows) === 1) await trx.deleteFrom('feed_inputs').where('run_id', '=', r.id).execute();
      });
      continue;
    }
    if (localAlive(r.holder, r.pid)) continue;
    await db.updateTable('feed_runs').set({ state: 'interrupted', updated_at: now, error: 'The process running it stopped before it finished; ingest the same input again: what was already sent is recognised and not sent twice' })
      .where('id', '=', r.id).where('state', '=', 'running').execute();
  }
}

/** The holder of a CLI run (`host:pid`). */
export function cliHolder(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Whether the process holding a run may be alive: on another machine it may (its pid says nothing
 * here); on this one, its pid answers (a process of another user's answers too: it is alive).
 */
function localAlive(holder: string | null, pid: number | null): boolean {
  if (holder !== null && holder.split(':')[0] !== hostname()) return true;
  return pid !== null && pidAlive(Number(pid));
}
