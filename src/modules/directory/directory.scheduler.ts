import { BackgroundLoop } from '../../shared/loop.js';
import { isoTime } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { underLease, type Leases } from '../../shared/leases.js';
import { sendPing } from './directory.pings.js';
import { scheduleKey as key, type DirectoryDeps, type PingScheduleEntry } from './directory.types.js';

/** What the scheduler needs: how to send (the outbox with the hooks, on the node's clock), what to send, where to log. */
export interface PingSchedulerDeps {
  directory: DirectoryDeps;
  schedule: readonly PingScheduleEntry[];
  log: Logger;
  /** Told when pings were queued (e.g. to wake delivery). */
  onSent?: (count: number) => void;
  /** Several processes of one node (PostgreSQL): a pass runs only under the `ping-schedule` lease, so a slot is sent once. */
  leases?: Leases;
}

const MINUTE = 60_000;
/** Longest the loop sleeps between looks (the clock decides what is due, timers only wake it). */
const MAX_SLEEP_MS = MINUTE;
/** After a failed ping (peer not pinned, channel not agreed), when to try that entry again. */
const RETRY_MS = 5 * MINUTE;

/**
 * Sends the configured ping tests (`ping_schedule` in hotline.json). An entry is due `every_minutes`
 * after the last ping stored to that peer on that channel (scheduled or by hand), and at once if
 * there was none. Due time comes from the store, so a restart neither skips nor repeats a slot; a
 * node that was down for several periods sends one ping, not one per missed period.
 */
export class PingScheduler {
  /** runOnce passes never overlap (one at a time, in order). */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly retryAt = new Map<string, number>();
  private readonly loop: BackgroundLoop;

  constructor(private readonly deps: PingSchedulerDeps) {
    this.loop = new BackgroundLoop({
      pass: () => this.runOnce(),
      // Sleep until the next entry falls due (at least 1 s, at most MAX_SLEEP_MS).
      sleepMs: async () => {
        const next = await this.nextDue();
        return next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(1_000, next - deps.directory.clock.now()));
      },
      onError: (e) => deps.log.error({ err: e }, 'ping schedule pass failed'),
    });
  }

  /** Sends every ping that is due now; returns how many were queued. */
  runOnce(): Promise<number> {
    const run = this.chain.then(() => this.leased());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** When the next entry falls due (ms), or undefined with no schedule. */
  async nextDue(): Promise<number | undefined> {
    let next: number | undefined;
    for (const e of this.deps.schedule) {
      const due = Math.max(await this.dueAt(e), this.retryAt.get(key(e)) ?? 0);
      next = next === undefined ? due : Math.min(next, due);
    }
    return next;
  }

  start(): void {
    if (this.deps.schedule.length === 0) return;
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.chain;
  }

  private async dueAt(e: PingScheduleEntry): Promise<number> {
    const row = await this.deps.directory.db.selectFrom('directory_pings')
      .select((eb) => eb.fn.max('sent_at').as('last'))
      .where('direction', '=', 'out').where('peer', '=', e.to).where('channel', '=', e.channel)
      .executeTakeFirst();
    const last = row?.last ?? null;
    return last === null ? Number.NEGATIVE_INFINITY : Number(last) + e.every_minutes * MINUTE;
  }

  private leased(): Promise<number> {
    return underLease(this.deps.leases, 'ping-schedule', () => this.pass(), 0);
  }

  private async pass(): Promise<number> {
    const now = this.deps.directory.clock.now();
    let sent = 0;
    for (const e of this.deps.schedule) {
      if ((this.retryAt.get(key(e)) ?? 0) > now || (await this.dueAt(e)) > now) continue;
      try {
        const env = await sendPing(this.deps.directory, { to: e.to, channel: e.channel, text: scheduledText(this.deps.directory.self.party, e) });
        this.retryAt.delete(key(e));
        sent++;
        this.deps.log.info({ to: e.to, channel: e.channel, id: env.id, next_due: isoTime(now + e.every_minutes * MINUTE) }, 'scheduled ping sent');
      } catch (err) {
        this.retryAt.set(key(e), now + RETRY_MS);
        this.deps.log.warn({ err, to: e.to, channel: e.channel }, 'scheduled ping could not be queued; will retry');
      }
    }
    if (sent > 0) this.deps.onSent?.(sent);
    return sent;
  }
}

// Parsed with the rest of hotline.json (config.ts), which need not load the scheduler.
export { parsePingSchedule } from './directory.types.js';


function scheduledText(party: string, e: PingScheduleEntry): string {
  return `Scheduled ping test from ${party} on ${e.channel} (every ${e.every_minutes} min). On-duty officer: please answer with "hotline pong <this message's id> --as <your user name>".`;
}
