import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dialectOf } from '../../shared/dialect.js';
import type { Kysely } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import { queueHealth, sinkFailures, type QueueHealth } from '../deadlines/deadlines.health.js';
import type { DeadlinesTables } from '../deadlines/deadlines.tables.js';
import { linkHealth, type LinkHealth } from '../federation/federation.health.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { FeedsTables } from '../feeds/feeds.tables.js';

/** One link as the status shows it: times as ISO 8601 and ages in seconds (null when never). */
export interface LinkStatus extends Omit<LinkHealth, 'last_receipt_at' | 'last_received_at' | 'next_attempt_at'> {
  last_receipt_at: string | null;
  last_receipt_age_s: number | null;
  last_received_at: string | null;
  next_attempt_at: string | null;
}

export interface NodeStatus {
  party: string;
  name: string;
  at: string;
  links: LinkStatus[];
  queue: Omit<QueueHealth, 'oldest_sent_at'> & { oldest_sent_at: string | null; oldest_age_s: number | null };
  sinks: { sink: string; target: string; failed: number; retrying: number; last_error: string | null; last_at: string; last_type: string | null }[];
  last_feed_run: { id: string; source: string; state: string; started_at: string; finished_at: string | null; records: number; error: string | null } | null;
  /** Where the store is (an SQLite file, or a PostgreSQL URL without its password) and its size (PostgreSQL: the database's; no separate log). */
  store: { path: string; bytes: number; wal_bytes: number };
}

export interface StatusDeps {
  db: Kysely<FederationTables> & Kysely<DeadlinesTables> & Kysely<FeedsTables>;
  self: { party: string; name: string };
  now: number;
  /** The SQLite file (its size and its write-ahead log's are read), or a PostgreSQL store's URL without its password. */
  storePath: string;
}

async function databaseSize(db: Kysely<FederationTables>): Promise<number> {
  const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely');
  const r = await sql<{ bytes: number }>`select pg_database_size(current_database()) as bytes`.execute(db);
  return Number(r.rows[0]?.bytes ?? 0);
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const age = (now: number, at: number | null): number | null => (at === null ? null : Math.max(0, Math.round((now - at) / 1000)));
const iso = (at: number | null): string | null => (at === null ? null : isoTime(at));

/**
 * The node's health on one screen (`hotline status`, GET /api/v1/status): each link (last
 * receipt, backlog, last error code), the acknowledgement queue by priority and what is overdue,
 * the sinks' failures, the last feed run, the store's size. Each part is read through the module
 * that owns its tables.
 */
export async function nodeStatus(deps: StatusDeps): Promise<NodeStatus> {
  const { db, now } = deps;
  const links = await linkHealth(db, deps.self.party);
  const q = await queueHealth(db, now);
  const sinks = await sinkFailures(db);
  const { listRuns } = await import('../feeds/feeds.runs.js');
  const run = (await listRuns(db, now, 1))[0];
  return {
    party: deps.self.party, name: deps.self.name, at: isoTime(now),
    links: links.map((l) => ({
      ...l, last_receipt_at: iso(l.last_receipt_at), last_receipt_age_s: age(now, l.last_receipt_at), last_received_at: iso(l.last_received_at), next_attempt_at: iso(l.next_attempt_at),
    })),
    queue: { ...q, oldest_sent_at: iso(q.oldest_sent_at), oldest_age_s: age(now, q.oldest_sent_at) },
    sinks: sinks.map((s) => ({ ...s, last_at: isoTime(s.last_at) })),
    last_feed_run: run === undefined ? null : {
      id: run.id, source: run.source, state: run.state, started_at: run.started_at, finished_at: run.finished_at, records: Number(run.report.records ?? 0), error: run.error,
    },
    store: dialectOf(db) === 'postgres'
      ? { path: deps.storePath, bytes: await databaseSize(db), wal_bytes: 0 }
      : { path: deps.storePath, bytes: sizeOf(deps.storePath), wal_bytes: sizeOf(`${deps.storePath}-wal`) },
  };
}
