import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail, isHotlineError } from '../../shared/errors.js';
import { enqueueIn, peersOf, type Draft, type OutboxDeps } from '../federation/federation.outbox.js';
import type { Tlp } from '../federation/federation.types.js';
import type { StixObject } from '../stix/stix.types.js';
import type { CollectionRepository } from '../taxii/taxii.collections.js';
import { bundleBudget, indicatorsDraft } from '../taxii/taxii.indicators.js';
import type { StixStore } from '../taxii/taxii.store.js';
import type { TaxiiTables } from '../taxii/taxii.tables.js';
import { DistinctCounter, keyOf, loadSeen, PendingKeys, saveSeen, SeenKeys } from './feeds.dedupe.js';
import { isV4Mapped, parseIPv4, parseIPv6Into } from '../../shared/ip.js';
import type { IpDatabase } from './feeds.ipdb.js';
import { parseFeed, type ParseOptions } from './feeds.parse.js';
import { buildRouter, type Jurisdiction } from './feeds.route.js';
import { BundleBuilder } from './feeds.stix.js';
import type { FeedsTables } from './feeds.tables.js';
import type { FeedRecord, FeedReject } from './feeds.types.js';

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
  ipdb: IpDatabase;
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
}

/** A feed's likely record count from its size (rows are rarely under 50 bytes), to size deduplication once. */
export function expectedRecords(bytes: number): number {
  return Math.min(50_000_000, Math.ceil(bytes / 50));
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
 * Every flush is ONE transaction: a destination's bundle when it is full (or every destination's,
 * every 50,000 records and at the end), the deduplication keys of exactly the records in it, and
 * the run's report. A crash loses only what was not flushed, and its keys with it, so running the
 * same file again sends exactly what had not been sent.
 */
export async function ingestFeed(deps: FeedRunDeps, o: IngestOptions): Promise<{ id: string; report: RunReport }> {
  const id = o.id ?? randomUUID();
  const started = deps.clock.now();
  const router = buildRouter(deps.jurisdictions);
  const db = deps.db;
  const dry = o.dryRun === true;
  const budget = bundleBudget(deps.outbox.limits.maxEnvelopeBytes) - 4096;
  const domestic = dry ? null : await domesticCollection(deps);
  const report: RunReport = {
    source: o.source, tlp: o.tlp, bytes: 0, lines: 0, records: 0, rejected: 0, rejects: [], duplicates: 0, unrouted: 0, peers: [],
    domestic: { party: deps.self.party, collection: DOMESTIC, records: 0, distinct_ips: 0, families: [], messages: [], objects: 0 }, elapsed_ms: 0,
  };
  if (!dry) {
    await db.insertInto('feed_runs').values({
      id, source: o.source, input: o.inputName, state: 'running', pid: process.pid, started_at: started, updated_at: started, finished_at: null, report: JSON.stringify(report), error: null,
    }).execute();
  }
  const keepSince = started - o.keepDays * 86_400_000;
  if (!dry) await db.deleteFrom('feed_seen').where('stored_at', '<', keepSince).execute();
  const seen = dry ? new SeenKeys(o.expectedRecords ?? 0) : await loadSeen(db, keepSince, o.expectedRecords ?? 0);
  const ips = new Map<string, DistinctCounter>();
  const families = new Map<string, Set<string>>();
  /** Per destination: its bundle being built, and the keys of the records in it (written with it). */
  type Destination = { builder: BundleBuilder; keys: PendingKeys; report: DestinationReport; caseId?: string; part: number };
  const dest = new Map<string, Destination>();
  const destination = (party: string): Destination => {
    let d = dest.get(party);
    if (d === undefined) {
      const r: DestinationReport = party === deps.self.party ? report.domestic : { party, records: 0, distinct_ips: 0, families: [], messages: [], objects: 0 };
      if (party !== deps.self.party) report.peers.push(r);
      d = { builder: new BundleBuilder({ producer: deps.self, tlp: o.tlp, source: o.source, maxBytes: budget }), keys: new PendingKeys(), report: r, part: 0 };
      dest.set(party, d);
      families.set(party, new Set());
      ips.set(party, new DistinctCounter());
    }
    return d;
  };
  const key = new Int32Array(2);
  const scratch = new Uint32Array(4);
  let waiting = 0;

  /** Writes the bundles of these destinations (all when none are named), with their records' keys. */
  const flush = async (only?: string): Promise<void> => {
    const now = deps.clock.now();
    const built: { party: string; bytes: Buffer; objects: number }[] = [];
    const keys: FeedsTables['feed_seen'][] = [];
    for (const [party, d] of dest) {
      if (d.builder.isEmpty() || (only !== undefined && party !== only)) continue;
      waiting -= d.builder.records;
      const b = d.builder.build();
      d.report.objects += b.objects;
      keys.push(...d.keys.take(now));
      // The builder reuses its buffer: keep a copy for what is written after the next build.
      if (!dry) built.push({ party, bytes: Buffer.from(b.bytes), objects: b.objects });
    }
    for (const [party, d] of dest) {
      d.report.families = [...families.get(party)!].sort();
      d.report.distinct_ips = ips.get(party)!.estimate();
    }
    report.elapsed_ms = now - started;
    if (dry) return;
    const drafts: Draft[] = [];
    const parties: string[] = [];
    const local: string[] = [];
    for (const b of built) {
      const d = dest.get(b.party)!;
      if (b.party === deps.self.party) {
        local.push(b.bytes.toString('utf8'));
        continue;
      }
      d.part++;
      drafts.push(indicatorsDraft(b.party, b.bytes, {
        tlp: o.tlp, ...(d.caseId === undefined ? {} : { case: d.caseId }),
        body: { stix: { objects: b.objects, part: d.part }, feed: { run: id, source: o.source }, text: `Feed ${o.source}: part ${d.part} of run ${id}` },
      }));
      parties.push(b.party);
    }
    // Read outside the transaction: the store has one connection.
    const peers = await peersOf(deps.outbox, drafts);
    await db.transaction().execute(async (trx) => {
      for (const text of local) {
        const objects = (JSON.parse(text) as { objects: StixObject[] }).objects;
        await deps.store.add(trx as unknown as Kysely<TaxiiTables>, domestic!.id, objects.map((object) => ({ object, text: JSON.stringify(object), tlp: o.tlp })), {
          source: 'local', added_by: `feed:${o.source}`, recipients: null, message_id: null,
        });
      }
      const envs = await enqueueIn(deps.outbox, trx as unknown as Parameters<typeof enqueueIn>[1], drafts, peers);
      envs.forEach((env, i) => {
        const d = dest.get(parties[i]!)!;
        d.caseId ??= env.case;
        d.report.messages.push(env.id);
      });
      await saveSeen(trx, keys);
      await trx.updateTable('feed_runs').set({ report: JSON.stringify(report), updated_at: now }).where('id', '=', id).execute();
    });
  };

  try {
    for await (const batch of parseFeed(o.input, { format: o.format, preset: o.preset, mapping: o.mapping, delimiter: o.delimiter, source: o.source })) {
      report.bytes += batch.bytes;
      report.lines += batch.lines;
      report.rejected += batch.rejects.length;
      for (const r of batch.rejects) if (report.rejects.length < REJECTS_KEPT) report.rejects.push(r);
      for (const r of batch.records) {
        report.records++;
        enrich(deps.ipdb, r, scratch);
        keyOf(r, key);
        if (seen.seen(key[0]!, key[1]!, Math.floor(r.timestamp / 60_000), o.windowMinutes)) {
          report.duplicates++;
          continue;
        }
        const party = router.route(r);
        if (party === null) {
          report.unrouted++;
          continue;
        }
        const d = destination(party);
        // A bundle that would go over its budget is written first; the record starts the next one.
        if (!d.builder.add(r)) {
          await flush(party);
          d.builder.add(r);
        }
        d.keys.push(key[0]!, key[1]!, Math.floor(r.timestamp / 60_000));
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
    if (!dry) await db.updateTable('feed_runs').set({ state: 'complete', report: JSON.stringify(report), updated_at: deps.clock.now(), finished_at: deps.clock.now() }).where('id', '=', id).execute();
    return { id, report };
  } catch (e) {
    if (!dry) {
      const message = isHotlineError(e) ? `[${e.code}] ${e.message}` : String(e);
      await db.updateTable('feed_runs').set({ state: 'failed', error: message, report: JSON.stringify(report), updated_at: deps.clock.now(), finished_at: deps.clock.now() }).where('id', '=', id).execute();
    }
    throw e;
  }
}

/** Fills what the feed did not carry (ASN, country) from the offline database. */
function enrich(ipdb: IpDatabase, r: FeedRecord, scratch: Uint32Array): void {
  if (r.asn !== null && r.country !== null) return;
  let e;
  if (r.ip.indexOf(':') < 0) e = ipdb.lookupV4(parseIPv4(r.ip));
  else if (parseIPv6Into(r.ip, scratch)) e = isV4Mapped(scratch) ? ipdb.lookupV4(scratch[3]!) : ipdb.lookupV6(scratch);
  else return;
  if (r.asn === null) r.asn = e.asn;
  if (r.country === null) r.country = e.country;
}

async function domesticCollection(deps: FeedRunDeps): Promise<{ id: string }> {
  const c = await deps.collections.find(DOMESTIC);
  if (c !== undefined) return c;
  try {
    const made = await deps.collections.add({ alias: DOMESTIC, title: 'Domestic indicators', description: 'Feed records in this node\'s own jurisdiction', channel: 'cert' });
    await deps.collections.grant(DOMESTIC, 'channel:cert', { read: true, write: false });
    return made;
  } catch (e) {
    if (isHotlineError(e) && e.code === 'collection_exists') return (await deps.collections.find(DOMESTIC))!;
    throw e;
  }
}

/** Marks runs left `running` by a process that is gone as `interrupted`. */
export async function markInterrupted(db: Kysely<FeedsTables>, now: number): Promise<void> {
  const running = await db.selectFrom('feed_runs').select(['id', 'pid']).where('state', '=', 'running').execute();
  for (const r of running) {
    if (r.pid !== null && alive(Number(r.pid))) continue;
    await db.updateTable('feed_runs').set({ state: 'interrupted', updated_at: now, error: 'The process running it stopped before it finished; ingest the same input again: what was already sent is recognised and not sent twice' })
      .where('id', '=', r.id).where('state', '=', 'running').execute();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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

function toView(r: FeedsTables['feed_runs']): RunView {
  return {
    id: r.id, source: r.source, input: r.input, state: r.state, started_at: new Date(Number(r.started_at)).toISOString(),
    finished_at: r.finished_at === null ? null : new Date(Number(r.finished_at)).toISOString(), error: r.error, report: JSON.parse(r.report) as RunReport,
  };
}
