import type { Generated } from 'kysely';

/**
 * The tables of the feed pipeline, as Kysely sees them; created by the migration `0008_feeds`.
 * Times are integer milliseconds since the epoch, except `seen_min` (minutes).
 */

/** Who is responsible for which addresses: each peer's, and this node's own (its `party`). */
export interface FeedJurisdictionsTable {
  party: string;
  /** JSON: ISO 3166-1 alpha-2 codes, upper case. */
  countries: string;
  /** JSON: AS numbers. */
  asns: string;
  /** JSON: canonical CIDR prefixes, v4 and v6. */
  prefixes: string;
  updated_at: number;
}

/**
 * Deduplication keys already reported: a 64-bit hash of (ip, port, type, family) as two signed
 * 32-bit halves, and the record time (minutes) it was reported for. Written in the transaction
 * that queues the report, so a crash never loses a key nor keeps one whose report was lost.
 */
export interface FeedSeenTable {
  hi: number;
  lo: number;
  seen_min: number;
  stored_at: number;
}

/** One ingestion of a feed: what it read and what went where (`report`, JSON: RunReport). */
export interface FeedRunsTable {
  id: string;
  source: string;
  /** The file, URL or `-` it read. */
  input: string;
  /**
   * receiving (an upload being spooled) | queued (a job waiting for a process) | running |
   * complete | failed | interrupted
   */
  state: string;
  /** The process running it (a CLI run left `running` by a dead process is `interrupted`). */
  pid: number | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  report: string;
  error: string | null;
  /** A job's options (JSON: feeds.jobs.ts `JobOptions`); null for a run of the CLI (not a job). */
  options: string | null;
  /** The process holding it (leases.ts `processHolder`; for a CLI run, `host:pid`). */
  holder: string | null;
  /** Every input record on a line before this one is written (a resumed job skips them). */
  resume_line: Generated<number>;
  /** How many times a process took the job over from one that stopped while running it (feeds.jobs.ts `claimJob`). */
  attempts: Generated<number>;
}

/** An uploaded feed's bytes, in chunks (`seq` from 0), until its run ends. */
export interface FeedInputsTable {
  run_id: string;
  seq: number;
  data: Buffer;
}

/** A type alias (not an interface) so that it fits Kysely's `withTables<T>()`. */
export type FeedsTables = {
  feed_jurisdictions: FeedJurisdictionsTable;
  feed_seen: FeedSeenTable;
  feed_runs: FeedRunsTable;
  feed_inputs: FeedInputsTable;
};
