import type { Kysely, Selectable } from 'kysely';
import { fail } from '../../shared/errors.js';
import { markInterrupted } from './feeds.jobs.js';
import type { RunReport } from './feeds.run.js';
import type { FeedsTables } from './feeds.tables.js';

/** A run as listed and shown. */
export interface RunView {
  id: string;
  source: string;
  input: string;
  state: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  report: RunReport;
}

export async function listRuns(db: Kysely<FeedsTables>, now: number, limit = 50): Promise<RunView[]> {
  await markInterrupted(db, now);
  const rows = await db.selectFrom('feed_runs').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toView);
}

export async function showRun(db: Kysely<FeedsTables>, id: string, now: number): Promise<RunView> {
  await markInterrupted(db, now);
  const r = await db.selectFrom('feed_runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (r === undefined) fail('not_found', `No feed run ${id} on this node; see "hotline feed runs"`);
  return toView(r);
}

function toView(r: Selectable<FeedsTables['feed_runs']>): RunView {
  return {
    id: r.id, source: r.source, input: r.input, state: r.state, started_at: new Date(Number(r.started_at)).toISOString(),
    finished_at: r.finished_at === null ? null : new Date(Number(r.finished_at)).toISOString(), error: r.error, report: JSON.parse(r.report) as RunReport,
  };
}
