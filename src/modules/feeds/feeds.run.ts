import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail, isHotlineError, isStoreUnavailable } from '../../shared/errors.js';
import { messageFields } from '../federation/federation.messages.js';
import { enqueueIn, queueLocks, type OutboxDeps } from '../federation/federation.outbox.js';
import { lockedTransaction } from '../../shared/serial.js';
import type { Tlp } from '../federation/federation.types.js';
import type { StixObject } from '../stix/stix.types.js';
import type { CollectionRepository } from '../taxii/taxii.collections.js';
import { bundleBudget, indicatorsDraft } from '../taxii/taxii.indicators.js';
import type { StixStore } from '../taxii/taxii.store.js';
import type { TaxiiTables } from '../taxii/taxii.tables.js';
import { DistinctCounter, keyOfParts, PendingKeys, SEEN_START_MAX, SeenKeys } from './feeds.dedupe.js';
import { claimSeen, forget, loadSeen } from './feeds.seen.js';
import type { ParseOptions } from './feeds.parse.js';
import type { Jurisdiction } from './feeds.route.js';
import { BatchReader, runStage } from './feeds.stage.js';
import { BundleBuilder } from './feeds.stix.js';
import type { FeedsTables } from './feeds.tables.js';
import type { FeedReject } from './feeds.types.js';
import { cliHolder } from './feeds.jobs.js';

/** What one destination received in a run. */
export interface DestinationReport {
  party: string;
  records: number;
  /** Distinct addresses (a HyperLogLog estimate: exact for small counts, within about 1% for large ones). */
  distinct_ips: number;
  families: string[];
  /** Peers: the `indicators` messages queued; the domestic collection: none. */
  messages: string[];
  objects: number;
}

/** What a run read and what went where; stored as the run's `report` and updated at every flush. */
export interface RunReport {
  source: string;
  tlp: Tlp;
  bytes: number;
  lines: number;
  records: number;
  rejected: number;
  /** The first rejects, with line and reason. */
  rejects: FeedReject[];
  duplicates: number;
  unrouted: number;
  /** Peers, by party. */
  peers: DestinationReport[];
  /** This node's own jurisdiction, stored in its domestic collection. */
  domestic: DestinationReport & { collection: string };
  elapsed_ms: number;
}

export interface FeedRunDeps {
  /** The store (its feed tables; a flush reaches the outbox and STIX tables in the same transaction). */
  db: Kysely<FeedsTables>;
  outbox: OutboxDeps;
  store: StixStore;
  collections: CollectionRepository;
  clock: Clock;
  /** Where the offline IP database's cache is (`ipdbDir`): the parse worker opens it. */
  ipdbDir: string;
  /** Every party's jurisdiction (this node's own included), as `Jurisdictions.list()` gives it. */
  jurisdictions: readonly Jurisdiction[];
  /** This node's party and name (the producer of the STIX objects). */
  self: { party: string; name: string };
}

export interface IngestOptions extends Pick<ParseOptions, 'format' | 'preset' | 'mapping' | 'delimiter'> {
  input: AsyncIterable<Buffer | string>;
  /** The file, URL or `-`, as the person named it (for the run's record). */
  inputName: string;
  /** The feed's name (defaults to the preset's or the file's). */
  source: string;
  tlp: Tlp;
  /** Records repeating a key reported less than this long before (or after) are duplicates. */
  windowMinutes: number;
  /** Reported keys older than this (by when they were stored) are forgotten at the start of a run. */
  keepDays: number;
  /** Parse, enrich, dedupe, route and build the bundles, but queue and store nothing (for benchmarks and trials). */
  dryRun?: boolean;
  /** Roughly how many records the input holds (e.g. its size / 50), to size the deduplication table once. */
  expectedRecords?: number;
  /** The run's id (default: a new UUID). */
  id?: string;
  onProgress?: (r: Readonly<RunReport>) => void;
  /** Called after a bundle was queued to a peer or stored (e.g. to wake the delivery loop). */
  onQueued?: () => void;
  /**
   * A job (feeds.jobs.ts): its run is recorded already and held by `holder` (every write checks
   * that it still is: a process that lost it to another stops); it resumes from `resume` (the
   * report and line of its last committed write) and its input chunks are deleted when it ends.
   */
  job?: { holder: string; resume: { report: RunReport; line: number; startedAt: number } };
}

/**
 * A feed's likely record count from its size (rows are rarely under 50 bytes), to size the
 * deduplication table at the start; bounded (feeds.dedupe.ts `SEEN_START_MAX`), it grows beyond.
 */
export function expectedRecords(bytes: number): number {
  return Math.min(SEEN_START_MAX, Math.ceil(bytes / 50));
}

/** The alias of the collection that records in this node's own jurisdiction go to. */
export const DOMESTIC = 'domestic';

/** Flush every destination's batch when one is full (its builder refuses a record), or when this many records wait. */
const FLUSH_RECORDS = 50_000;
const REJECTS_KEPT = 100;

/**
 * One feed run: parse → normalise (feeds.parse.ts) → enrich (offline IP database, where the feed
 * gave no ASN or country) → deduplicate (feeds.dedupe.ts) → route (feeds.route.ts) → STIX bundles
 * per destination (feeds.stix.ts) → queue `indicators` messages to peers and store the domestic
 * objects. Streaming: what is held is one batch of input and one bundle per destination.
 *
 * Every write is ONE short transaction per bundle: a destination's bundle when it is full (and
 * every destination's every 50,000 records and at the end), the deduplication keys of exactly
 * the records in it (claimed: a key another run reported meanwhile drops its record), and the
 * run's report, and how far the run's committed work reaches (`resume_line`). A crash loses only
 * what was not written, and its keys with it, so running the same file again sends exactly what
 * had not been sent; a job (an upload, feeds.jobs.ts) is resumed from `resume_line` by whichever
 * process takes it over, the records written after it found as duplicates. Short transactions
 * are what let the node and a CLI run share the store (each waits at most one bundle's write for
 * the other).
 */
export async function ingestFeed(deps: FeedRunDeps, o: IngestOptions): Promise<{ id: string; report: RunReport }> {
  const id = o.id ?? randomUUID();
  const job = o.job;
  const resume = job?.resume;
  const started = resume?.startedAt ?? deps.clock.now();
  const db = deps.db;
  const dry = o.dryRun === true;
  const budget = bundleBudget(deps.outbox.limits.maxEnvelopeBytes) - 4096;
  const domestic = dry ? null : await domesticCollection(deps);
  const report = emptyReport(o.source, o.tlp, deps.self.party);
  /** Where a resumed job starts reading: every record on a line before it was written. */
  const skipBefore = resume?.line ?? 0;
  const resumed = resume !== undefined && (skipBefore > 0 || resume.report.records > 0 || resume.report.peers.length > 0);
  if (resumed) {
    // Counters continue from the last write; bytes and lines are counted again from the start (the whole input is read again).
    Object.assign(report, resume.report, { bytes: 0, lines: 0, source: o.source, tlp: o.tlp });
    report.domestic = { ...resume.report.domestic, party: deps.self.party, collection: DOMESTIC };
  }
  // A resumed run reads again what was written after its last checkpoint: those records must be
  // found as duplicates (their keys were written with their bundles), which a window under an
  // hour (0: no deduplication) would not do.
  const windowMinutes = resumed ? Math.max(60, o.windowMinutes) : o.windowMinutes;
  // A resumed run's next parts to a peer go on in the case of its first part.
  const cases = new Map<string, string>();
  if (resumed) {
    for (const p of report.peers) {
      const first = p.messages[0] === undefined ? undefined : await messageFields(deps.outbox.db, p.messages[0], ['case_id']);
      if (first !== undefined) cases.set(p.party, first.case_id);
    }
  }
  const holder = job?.holder ?? cliHolder();
  if (!dry && job === undefined) {
    await db.insertInto('feed_runs').values({
      id, source: o.source, input: o.inputName, state: 'running', pid: process.pid, started_at: started, updated_at: started, finished_at: null, report: JSON.stringify(report), error: null,
      options: null, holder, resume_line: 0,
    }).execute();
  }
  const keepSince = deps.clock.now() - o.keepDays * 86_400_000;
  if (!dry) await forget(db, keepSince);
  const seen = dry ? new SeenKeys(o.expectedRecords ?? 0) : await loadSeen(db, keepSince, o.expectedRecords ?? 0);
  const ips = new Map<string, DistinctCounter>();
  const families = new Map<string, Set<string>>();
  /** Per destination: its bundle being built, and the keys of the records in it (written with it). */
  type Destination = { builder: BundleBuilder; keys: PendingKeys; report: DestinationReport; caseId?: string; part: number; first: number | null; ipsBefore: number };
  const dest = new Map<string, Destination>();
  const destination = (party: string): Destination => {
    let d = dest.get(party);
    if (d === undefined) {
      // A resumed run's destinations continue from its report (their messages are numbered on).
      const had = party === deps.self.party ? report.domestic : report.peers.find((p) => p.party === party);
      const r: DestinationReport = had ?? { party, records: 0, distinct_ips: 0, families: [], messages: [], objects: 0 };
      if (had === undefined) report.peers.push(r);
      d = {
        builder: new BundleBuilder({ producer: deps.self, tlp: o.tlp, source: o.source, maxBytes: budget }), keys: new PendingKeys(), report: r,
        part: r.messages.length, first: null, ipsBefore: r.distinct_ips, ...(cases.has(party) ? { caseId: cases.get(party)! } : {}),
      };
      dest.set(party, d);
      families.set(party, new Set(r.families));
      ips.set(party, new DistinctCounter());
    }
    return d;
  };
  let waiting = 0;
  /** The line of the record being read: every record before it is read. */
  let line = skipBefore;
  /** How far committed work reaches once `flushing` is written: the first line still waiting in another destination, or the line being read. */
  const checkpoint = (flushing: Destination): number => {
    let at = line;
    for (const x of dest.values()) if (x !== flushing && x.first !== null && x.first < at) at = x.first;
    return at;
  };
  /** The run's row, as this run's writes change it: while its holder is still this process (a job another process took over is not written). */
  const ownRun = (trx: Kysely<FeedsTables>) => trx.updateTable('feed_runs').where('id', '=', id).where('holder', '=', holder);
  const takenOver = (): never => fail('already_running', `Feed run ${id} was taken over by another process of the node (this one held it past its lease); it goes on there`);

  /** The run's report as stored: every destination's families and distinct addresses brought up to date. */
  const reportText = (now: number): string => {
    for (const [party, d] of dest) {
      d.report.families = [...families.get(party)!].sort();
      // After a resume: the estimate before it plus the one since (an upper bound); never more than the records (the estimate is within ~2%).
      d.report.distinct_ips = Math.min(d.report.records, d.ipsBefore + ips.get(party)!.estimate());
    }
    report.elapsed_ms = now - started;
    return JSON.stringify(report);
  };

  /**
   * Writes one destination's bundle in a transaction of its own (short: one bundle, ≤ ~750 KB),
   * with its records' keys and the run's report. The keys are claimed first: a record whose key
   * another run reported meanwhile (within the window) is dropped from the bundle as a duplicate.
   */
  const flushOne = async (party: string, d: Destination): Promise<void> => {
    if (d.builder.isEmpty()) return;
    const records = d.builder.records;
    if (dry) {
      waiting -= records;
      d.report.objects += d.builder.build().objects;
      d.keys.clear();
      return;
    }
    const local = party === deps.self.party;
    // Read outside the transaction: the store has one connection.
    const peers = local ? null : new Map([[party, await deps.outbox.peers.get(party)]]);
    const now = deps.clock.now();
    const keys = d.keys.take(now);
    const resumeLine = checkpoint(d);
    // The transaction may run more than once (PostgreSQL runs it again after a serialization
    // failure): the bundle is built once, by the first attempt (the builder starts over when it
    // builds), and every attempt starts from the report as it was before the flush.
    const before = { duplicates: report.duplicates, records: d.report.records, objects: d.report.objects, messages: d.report.messages.length, part: d.part, caseId: d.caseId };
    let built: { text: string | null; bytes: Buffer | null; objects: number; dropped: number } | undefined;
    await lockedTransaction(db, local ? [] : queueLocks(deps.outbox, [party]), async (trx) => {
      report.duplicates = before.duplicates;
      d.report.records = before.records;
      d.report.objects = before.objects;
      d.report.messages.length = before.messages;
      d.part = before.part;
      d.caseId = before.caseId;
      const taken = await claimSeen(trx, keys, windowMinutes, keepSince);
      // A key another run claimed between two attempts, after the bundle was built, stays in it: sent twice at worst, never lost.
      if (built === undefined) {
        let dropped = 0;
        if (taken.size > 0) {
          // Its own scratch: `key` holds the key of the record that is waiting for this flush.
          const k = new Int32Array(2);
          dropped = d.builder.drop((ip, port, type, family) => {
            keyOfParts(ip, port, type, family, k);
            return taken.has(`${k[0]},${k[1]}`);
          });
        }
        if (d.builder.isEmpty()) {
          built = { text: null, bytes: null, objects: 0, dropped };
        } else {
          const b = d.builder.build();
          // Copies: the builder reuses its buffer at its next build.
          built = local ? { text: b.text, bytes: null, objects: b.objects, dropped } : { text: null, bytes: Buffer.from(b.bytes), objects: b.objects, dropped };
        }
      }
      report.duplicates += built.dropped;
      d.report.records -= built.dropped;
      if (built.objects > 0) {
        d.report.objects += built.objects;
        if (local) {
          const objects = (JSON.parse(built.text!) as { objects: StixObject[] }).objects;
          await deps.store.add(trx as unknown as Kysely<TaxiiTables>, domestic!.id, objects.map((object) => ({ object, text: JSON.stringify(object), tlp: o.tlp })), {
            source: 'local', added_by: `feed:${o.source}`, recipients: null, message_id: null,
          });
        } else {
          d.part++;
          const draft = indicatorsDraft(party, built.bytes!, {
            tlp: o.tlp, ...(d.caseId === undefined ? {} : { case: d.caseId }),
            body: { stix: { objects: built.objects, part: d.part }, feed: { run: id, source: o.source }, text: `Feed ${o.source}: part ${d.part} of run ${id}` },
          });
          const [env] = await enqueueIn(deps.outbox, trx as unknown as Parameters<typeof enqueueIn>[1], [draft], peers!);
          d.caseId ??= env!.case;
          d.report.messages.push(env!.id);
        }
      }
      // The checkpoint is written with the work it counts: a crash after this transaction resumes at `resumeLine`.
      const u = await ownRun(trx).set({ report: reportText(now), updated_at: now, resume_line: resumeLine }).executeTakeFirst();
      if (Number(u.numUpdatedRows) !== 1) takenOver();
    });
    d.first = null;
    waiting -= records;
    o.onQueued?.();
  };

  /** Writes the bundles of these destinations (all when none are named), each in its own transaction. */
  const flush = async (only?: string): Promise<void> => {
    for (const [party, d] of dest) if (only === undefined || party === only) await flushOne(party, d);
    if (dry) reportText(deps.clock.now());
  };

  try {
    const stage = runStage(o.input, {
      parse: { format: o.format, preset: o.preset, mapping: o.mapping, delimiter: o.delimiter, source: o.source },
      ipdbDir: deps.ipdbDir, jurisdictions: deps.jurisdictions, windowMinutes, seen: seen.export(), skipBefore,
    });
    for await (const batch of stage) {
      report.bytes += batch.bytes;
      report.lines += batch.lines;
      report.records += batch.records;
      report.duplicates += batch.duplicates;
      report.unrouted += batch.unrouted;
      report.rejected += batch.rejects.length;
      for (const r of batch.rejects) if (report.rejects.length < REJECTS_KEPT) report.rejects.push(r);
      const reader = new BatchReader(batch, o.source);
      for (let i = 0; i < batch.n; i++) {
        const r = reader.read(i);
        line = r.line;
        const party = batch.parties[reader.party]!;
        const d = destination(party);
        // A bundle that would go over its budget is written first; the record starts the next one.
        if (!d.builder.add(r)) {
          await flush(party);
          d.builder.add(r);
        }
        d.first ??= r.line;
        if (!dry) d.keys.push(reader.hi, reader.lo, Math.floor(r.timestamp / 60_000));
        d.report.records++;
        ips.get(party)!.add(r.ip);
        if (r.family !== null) families.get(party)!.add(r.family);
        if (++waiting >= FLUSH_RECORDS) await flush();
      }
      report.elapsed_ms = deps.clock.now() - started;
      o.onProgress?.(report);
    }
    await flush();
    report.elapsed_ms = deps.clock.now() - started;
    if (!dry) {
      // A job's input goes with its end, in one transaction.
      await db.transaction().execute(async (trx) => {
        const u = await ownRun(trx).set({ state: 'complete', report: reportText(deps.clock.now()), updated_at: deps.clock.now(), finished_at: deps.clock.now() }).executeTakeFirst();
        if (Number(u.numUpdatedRows) !== 1) takenOver();
        if (job !== undefined) await trx.deleteFrom('feed_inputs').where('run_id', '=', id).execute();
      });
    }
    return { id, report };
  } catch (e) {
    // A job stopped by the store (unreachable, restarting, busy) is not failed: it is resumed (feeds.runner.ts).
    const resumable = job !== undefined && isStoreUnavailable(e);
    if (!dry && !resumable && !(isHotlineError(e) && e.code === 'already_running')) await recordFailure(db, { id, holder, job: job !== undefined }, e, () => JSON.stringify(report), deps.clock.now());
    throw e;
  }
}

/**
 * Marks a run `failed` with its reason (`[code] message`). The store may be what failed (busy):
 * the mark is tried a few times; a CLI run whose mark never lands stays `running` until its
 * process is gone, and then shows as `interrupted` with the advice to run the input again (a job
 * is resumed instead). Only while `holder` still holds the run; a job's input goes with the mark.
 */
async function recordFailure(db: Kysely<FeedsTables>, run: { id: string; holder: string; job: boolean }, e: unknown, report: () => string, now: number): Promise<void> {
  const message = isHotlineError(e) ? `[${e.code}] ${e.message}` : `[internal] ${e instanceof Error ? e.message : String(e)}`;
  for (let i = 0; i < 3; i++) {
    try {
      await db.transaction().execute(async (trx) => {
        const u = await trx.updateTable('feed_runs').set({ state: 'failed', error: message, report: report(), updated_at: now, finished_at: now })
          .where('id', '=', run.id).where('holder', '=', run.holder).executeTakeFirst();
        if (run.job && Number(u.numUpdatedRows) === 1) await trx.deleteFrom('feed_inputs').where('run_id', '=', run.id).execute();
      });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }
}

/** The report of a run that has read nothing yet. */
function emptyReport(source: string, tlp: Tlp, party: string): RunReport {
  return {
    source, tlp, bytes: 0, lines: 0, records: 0, rejected: 0, rejects: [], duplicates: 0, unrouted: 0, peers: [],
    domestic: { party, collection: DOMESTIC, records: 0, distinct_ips: 0, families: [], messages: [], objects: 0 }, elapsed_ms: 0,
  };
}

/**
 * Ends a run that its own code could not end (its worker failed before it started, or was
 * stopped): recorded as `failed` or `interrupted` with the reason, if it is not recorded yet or
 * still `running`; a run that ended by itself keeps what it recorded.
 */
export async function settleRun(
  db: Kysely<FeedsTables>, run: { id: string; source?: string; input?: string; holder?: string }, error: string, state: 'failed' | 'interrupted', now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const settled = await trx.insertInto('feed_runs').values({
      id: run.id, source: run.source ?? '', input: run.input ?? '', state, pid: null, started_at: now, updated_at: now, finished_at: now,
      report: JSON.stringify(emptyReport(run.source ?? '', 'amber', '')), error, options: null, holder: run.holder ?? null, resume_line: 0,
    }).onConflict((oc) => oc.column('id').doUpdateSet({ state, error, updated_at: now, finished_at: now })
      // A job is settled only by its holder (another process may have taken it over).
      .where((eb) => eb.and([eb('feed_runs.state', '=', 'running'), ...(run.holder === undefined ? [] : [eb('feed_runs.holder', '=', run.holder)])])))
      .returning('id').executeTakeFirst();
    if (settled !== undefined) await trx.deleteFrom('feed_inputs').where('run_id', '=', run.id).execute();
  });
}

async function domesticCollection(deps: FeedRunDeps): Promise<{ id: string }> {
  const c = await deps.collections.find(DOMESTIC);
  if (c !== undefined) return c;
  try {
    const made = await deps.collections.add({ alias: DOMESTIC, title: 'Domestic indicators', description: 'Feed records in this node\'s own jurisdiction', channel: 'cert' });
    await deps.collections.grant(DOMESTIC, 'channel:cert', { read: true, write: false });
    return made;
  } catch (e) {
    // Another run (or process) made it meanwhile.
    const made = await deps.collections.find(DOMESTIC);
    if (made !== undefined) return made;
    throw e;
  }
}
