import type { Clock } from '../../shared/clock.js';
import { BackgroundLoop } from '../../shared/loop.js';
import { KeyedPool } from '../../shared/pool.js';
import { HotlineError, isHotlineError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { dialectOf } from '../../shared/dialect.js';
import { underLease, type Leases } from '../../shared/leases.js';
import { redactUrls } from '../../shared/redact.js';
import type { AlertSettings } from '../alerts/alerts.types.js';
import { deliverTo } from './deadlines.alerts.js';
import { decideRound, type Trx } from './deadlines.round.js';
import type { NotificationSinks } from './deadlines.sinks.js';
import type { DeadlinesDb, NotifyConfig } from './deadlines.types.js';

/** How the processor paces itself; times in ms. */
export interface DeadlineOptions {
  /** How often the loop looks for due steps and deliveries. */
  pollMs: number;
  /** First retry of a failed sink delivery; doubles each attempt up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** After this many failed attempts a delivery is given up (state `failed`, logged). */
  maxAttempts: number;
  /** Most sink targets (a webhook URL, an e-mail address) being delivered to at once; one call per target at a time. */
  concurrency: number;
  /** How long one sink call may take before it counts as failed. */
  sinkTimeoutMs: number;
}

export const DEFAULT_DEADLINE_OPTIONS: Readonly<DeadlineOptions> = {
  pollMs: 1000, baseBackoffMs: 1000, maxBackoffMs: 5 * 60_000, maxAttempts: 50, concurrency: 8, sinkTimeoutMs: 10_000,
};

export interface DeadlineDeps {
  db: DeadlinesDb;
  clock: Clock;
  party: string;
  notify: NotifyConfig;
  /** Where notifications go (adapters; main.ts composes them from `notify`). */
  sinks: NotificationSinks;
  /** How alerts are worded: the node's language, time zone and console URL (default English, UTC, no link). */
  alerts?: AlertSettings;
  log: Logger;
  options?: Partial<DeadlineOptions>;
  /** The node's time zone (`time_zone`): rota shifts are in it. Default UTC. */
  timeZone?: string;
  /**
   * Several processes of one node on one PostgreSQL store: a sink target is delivered to under its
   * lease (`sink:<sink> <target>`), one process at a time; absent (SQLite): no leases. Deadlines are
   * claimed row by row with FOR UPDATE SKIP LOCKED on PostgreSQL whether or not this is set.
   */
  leases?: Leases;
}

/** What one pass did. */
export interface DeadlineRun {
  /** Steps decided (escalation steps and overdue alerts queued). */
  decided: number;
  /** Sink deliveries that succeeded, and that failed (to be retried or given up). */
  sent: number;
  failed: number;
}

/**
 * Fires due escalation steps and overdue alerts, and delivers queued notifications to their
 * sinks. Each step is decided in one transaction that moves the deadline's `next_step` forward
 * (compare-and-set) and inserts the notification (unique on message id + step): a step is
 * decided exactly once, whatever crashes or restarts; sinks get it at least once. Deliveries
 * run per target (one call at a time to each webhook URL or address, at most `concurrency`
 * targets at once, each call bounded by `sinkTimeoutMs`) and the loop does not wait for them:
 * a dead webhook holds one slot, not the escalation of other messages.
 */
export class DeadlineProcessor {
  private readonly options: DeadlineOptions;
  private readonly loop: BackgroundLoop;
  /** Sink targets being delivered to now, keyed `<sink> <target>`. */
  private readonly targets: KeyedPool<string>;
  /** Aborts sink calls in flight when the node stops. */
  private abort = new AbortController();

  constructor(private readonly deps: DeadlineDeps) {
    this.options = { ...DEFAULT_DEADLINE_OPTIONS, ...deps.options };
    this.loop = new BackgroundLoop({
      pass: () => this.pass(),
      sleepMs: () => this.options.pollMs,
      onError: (e) => deps.log.error({ err: e }, 'deadline pass failed'),
    });
    this.targets = new KeyedPool<string>({
      limit: () => this.options.concurrency,
      onEnd: () => {
        if (this.loop.running) this.loop.wake();
      },
      onError: (e, target) => deps.log.error({ err: e, target }, 'notification delivery failed'),
    });
  }

  start(): void {
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.loop.start();
  }

  /** Stops the loop, aborts the sink calls in flight (they stay pending) and waits for them to end. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.abort.abort();
    await this.targets.idle();
  }

  /** Runs a pass now (e.g. after a notification was queued). */
  wake(): void {
    this.loop.wake();
  }

  /** One pass: decide every due step, then attempt every due delivery, and wait for them (tests drive the processor with this). */
  async runOnce(): Promise<DeadlineRun> {
    const decided = await this.decideDue();
    const counts = { sent: 0, failed: 0 };
    const upTo = this.deps.clock.now();
    await this.targets.runAll(await this.dueTargets(upTo), (key) => this.leased(key, () => this.drainTarget(key, upTo, counts)));
    return { decided, ...counts };
  }

  /** The loop's pass: decide every due step, then start deliveries to the due targets it has slots for, without waiting for them. */
  private async pass(): Promise<void> {
    await this.decideDue();
    const upTo = this.deps.clock.now();
    for (const key of await this.dueTargets(upTo)) {
      if (this.targets.full) break;
      this.targets.start(key, () => this.leased(key, () => this.drainTarget(key, upTo, { sent: 0, failed: 0 })));
    }
  }

  /**
   * Steps decided per transaction. Each renders an alert in the node's language (about 0.1-0.2 ms).
   * SQLite: 25, which keeps a round's hold on the event loop to a few ms while arrivals wait (p99
   * send→receipt at 200/s rose to ~100 ms with rounds of 100: docs/benchmarks.md, issue 10); the
   * round cannot yield inside its transaction, which holds the store's one writer. PostgreSQL: 200,
   * rendered in slices of 25 with the event loop let in between (the transaction holds only the
   * rows it claimed): a round is about ten statements, each a round trip, whatever its size, and
   * rounds of 25 made a receiving node's escalation its largest share of statements.
   */
  private static readonly STEPS_PER_ROUND = { sqlite: 25, postgres: 200 } as const;
  /** Alerts rendered between two turns of the event loop in a PostgreSQL round. */
  private static readonly RENDER_SLICE = 25;

  /** Runs `job` for a sink target under its lease (when leases are in use); nothing when another process holds it. */
  private leased(key: string, job: () => Promise<void>): Promise<void> {
    return underLease(this.deps.leases, `sink:${key}`, job, undefined);
  }

  private async decideDue(): Promise<number> {
    const { db, clock } = this.deps;
    const postgres = dialectOf(db) === 'postgres';
    let decided = 0;
    // Bounded: each round moves every row it read forward (or finds it moved by another process);
    // the rounds end with the first that was not full and left nothing due now (decideRound).
    for (let round = 0; round < 1000; round++) {
      const now = clock.now();
      // One transaction (one fsync) per round, then let the event loop serve requests: a burst of
      // arrivals (each needs its step 0, and each step writes its alert) must not stall the node's
      // HTTP for the whole pass. On PostgreSQL the round claims its rows (FOR UPDATE SKIP LOCKED):
      // several processes of the node decide disjoint deadlines instead of conflicting on the same
      // ones; the compare-and-set in decideRound() and the notification's unique key still make a step
      // decided once whatever happens. Logged after the commit: a transaction run again after a
      // conflict logs nothing twice.
      const round_ = await db.transaction().execute((trx) => decideRound(trx as Trx, this.deps, postgres
        ? { now, limit: DeadlineProcessor.STEPS_PER_ROUND.postgres, postgres, yieldEvery: DeadlineProcessor.RENDER_SLICE }
        : { now, limit: DeadlineProcessor.STEPS_PER_ROUND.sqlite, postgres }));
      for (const d of round_.fired) this.deps.log.info(d.log, d.what);
      decided += round_.fired.length;
      if (!round_.more) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return decided;
  }

  /** Targets with a delivery due at `upTo`, longest waiting first, as `<sink> <target>` keys. */
  private async dueTargets(upTo: number): Promise<string[]> {
    const rows = await this.deps.db.selectFrom('notification_deliveries')
      .select(['sink', 'target']).select((eb) => eb.fn.min('next_attempt_at').as('first'))
      .where('state', '=', 'pending').where('next_attempt_at', '<=', upTo)
      .groupBy(['sink', 'target']).orderBy('first').orderBy('target').limit(1000).execute();
    return rows.map((r) => `${r.sink} ${r.target}`);
  }

  /** Delivers a target's due notifications one at a time, oldest first, until none is due or one fails. */
  private async drainTarget(key: string, upTo: number, counts: { sent: number; failed: number }): Promise<void> {
    const space = key.indexOf(' ');
    const sink = key.slice(0, space);
    const target = key.slice(space + 1);
    const { db, clock } = this.deps;
    for (;;) {
      if (this.abort.signal.aborted) return;
      const r = await db.selectFrom('notification_deliveries')
        .innerJoin('notifications', 'notifications.id', 'notification_deliveries.notification_id')
        .select(['notification_deliveries.notification_id', 'notification_deliveries.attempts', 'notifications.payload'])
        .where('notification_deliveries.sink', '=', sink).where('notification_deliveries.target', '=', target)
        .where('notification_deliveries.state', '=', 'pending').where('notification_deliveries.next_attempt_at', '<=', upTo)
        .orderBy('notification_deliveries.next_attempt_at').orderBy('notification_deliveries.notification_id')
        .limit(1).executeTakeFirst();
      if (r === undefined) return;
      const error = await this.attempt(sink, target, JSON.parse(r.payload) as Record<string, unknown>);
      // Stopped mid-call: not the sink's failure; the delivery stays pending for the next start.
      if (error !== null && this.abort.signal.aborted) return;
      const attempts = Number(r.attempts) + 1;
      const now = clock.now();
      // A sink removed since (`not_found`) is given up at once: there is nothing to retry.
      const giveUp = error !== null && (attempts >= this.options.maxAttempts || error.startsWith('not_found:'));
      const backoff = Math.min(this.options.baseBackoffMs * 2 ** (attempts - 1), this.options.maxBackoffMs);
      await db.updateTable('notification_deliveries')
        .set(error === null
          ? { state: 'sent', attempts, sent_at: now, next_attempt_at: null, last_error: null }
          : { state: giveUp ? 'failed' : 'pending', attempts, last_error: error, next_attempt_at: giveUp ? null : now + backoff })
        .where('notification_id', '=', r.notification_id).where('sink', '=', sink).where('target', '=', target)
        .execute();
      if (error === null) {
        counts.sent++;
        continue;
      }
      counts.failed++;
      this.deps.log.warn({ notification: r.notification_id, sink, target: redactUrls(target), attempts, err: redactUrls(error) }, giveUp ? 'notification given up' : 'notification failed; will retry');
      return;
    }
  }

  /** One sink call, bounded by `sinkTimeoutMs` even if the sink ignores its signal; the error (code first) or null. */
  private async attempt(sink: string, target: string, payload: Record<string, unknown>): Promise<string | null> {
    const { sinks, clock } = this.deps;
    const ms = this.options.sinkTimeoutMs;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(ms)]);
    const call = deliverTo(this.deps.db, sinks, { sink, target, payload, date: new Date(clock.now()) }, signal);
    if (call === null) return `sink_failed: no ${sink} sink is configured`;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HotlineError('sink_failed', `the ${sink} sink ${target} did not finish within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([call, late]);
      return null;
    } catch (e) {
      return isHotlineError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    } finally {
      clearTimeout(timer);
      call.catch(() => undefined);
    }
  }
}
