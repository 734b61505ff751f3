import { BackgroundLoop } from '../../shared/loop.js';
import { isoTime, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { preservationView } from './law.service.js';
import { DAY_MS, type LawDb, type PreservationView } from './law.types.js';

/** What the reminder processor needs. */
export interface ReminderDeps {
  db: LawDb;
  clock: Clock;
  log: Logger;
  /** `law.remind_days_before` in hotline.json: how long before the expiry to remind. */
  remindDaysBefore: number;
  /** Told of each reminder (a notification sink); the reminder is logged and listed by `preservation list --due` anyway. */
  onReminder?: (p: PreservationView) => void | Promise<void>;
}

/** What one pass did. */
export interface ReminderPass {
  reminded: number;
  expired: number;
}

/** Longest the loop sleeps between passes: expiries are days apart, a minute is plenty. */
const SLEEP_MS = 60_000;

/**
 * Reminds before a preservation expires (Art. 29(7): at least 60 days, then it may lapse unless
 * extended or followed by the mutual-assistance request), once per preservation per expiry: an
 * extension that moves the expiry earns a new reminder. Marks preservations past their expiry
 * `expired`. Driven by the injected clock; state is in the store, so a restart neither repeats
 * nor loses a reminder.
 */
export class PreservationReminders {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly loop: BackgroundLoop;

  constructor(private readonly deps: ReminderDeps) {
    this.loop = new BackgroundLoop({
      pass: () => this.runOnce(),
      sleepMs: () => SLEEP_MS,
      onError: (e) => deps.log.error({ err: e }, 'preservation reminder pass failed'),
    });
  }

  /** One pass: expire what is past, remind what falls due. Passes never overlap. */
  runOnce(): Promise<ReminderPass> {
    const run = this.chain.then(() => this.pass());
    this.chain = run.catch(() => undefined);
    return run;
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.chain;
  }

  private async pass(): Promise<ReminderPass> {
    const { db, log } = this.deps;
    const now = this.deps.clock.now();
    const out: ReminderPass = { reminded: 0, expired: 0 };
    const lapsed = await db.selectFrom('preservations').selectAll().where('state', '=', 'preserved').where('expires_at', '<=', now).execute();
    for (const r of lapsed) {
      const u = await db.updateTable('preservations').set({ state: 'expired', updated_at: now })
        .where('case_id', '=', r.case_id).where('state', '=', 'preserved').where('expires_at', '=', r.expires_at).executeTakeFirst();
      if (u.numUpdatedRows === 0n) continue;
      out.expired++;
      log.warn({ case: r.case_id, reference: r.reference, expires_at: isoTime(Number(r.expires_at)) }, 'preservation expired');
    }
    const due = await db.selectFrom('preservations').selectAll()
      .where('state', '=', 'preserved').where('expires_at', '<=', now + this.deps.remindDaysBefore * DAY_MS)
      .where((eb) => eb.or([eb('reminded_for', 'is', null), eb('reminded_for', '!=', eb.ref('expires_at'))]))
      .execute();
    for (const r of due) {
      // Compare-and-set: another process sharing the store (PostgreSQL) reminds at most once with us.
      const u = await db.updateTable('preservations').set({ reminded_at: now, reminded_for: r.expires_at })
        .where('case_id', '=', r.case_id).where('expires_at', '=', r.expires_at)
        .where((eb) => eb.or([eb('reminded_for', 'is', null), eb('reminded_for', '!=', eb.ref('expires_at'))]))
        .executeTakeFirst();
      if (u.numUpdatedRows === 0n) continue;
      out.reminded++;
      const view = preservationView({ ...r, reminded_at: now, reminded_for: r.expires_at }, now);
      log.warn({
        case: r.case_id, reference: r.reference, party: r.direction === 'out' ? r.responding_party : r.requesting_party,
        expires_at: view.expires_at, days_left: view.days_left, mla_recorded: r.mla_reference !== null,
      }, 'preservation expires soon: extend it (hotline preservation extend) or record the mutual-assistance request');
      try {
        await this.deps.onReminder?.(view);
      } catch (e) {
        log.error({ err: e, case: r.case_id }, 'preservation reminder sink failed');
      }
    }
    return out;
  }
}

// Parsed with the rest of hotline.json (config.ts), which need not load the reminders.
export { parseLawConfig, type LawConfig } from './law.types.js';
