import { afterEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/pg.js';
import { describeEachDialect } from '../../../test/helpers/stores.js';
import { nextState } from '../cases/cases.machine.js';
import type { Store } from '../../adapters/storage/schema.js';
import { FakeClock, isoTime } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { parseLawConfig, PreservationReminders } from './law.reminders.js';
import { listPreservations } from './law.service.js';
import type { PreservationsTable } from './law.tables.js';
import { DAY_MS, type PreservationView } from './law.types.js';

const dbs: Store[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((d) => d.destroy()));
});

const T0 = Date.UTC(2026, 0, 15);

function row(caseId: string, expires: number | null, state = 'preserved'): PreservationsTable {
  return {
    case_id: caseId, request_id: caseId, requesting_party: 'us', responding_party: 'ru', direction: 'out', state, reference: 'R', outcome: 'preserved',
    reason: null, response_id: null, preserved_at: T0, expires_at: expires, extensions: '[]', mla_reference: null, mla_sent_at: null, mla_message_id: null,
    reminded_at: null, reminded_for: null, created_at: T0, updated_at: T0,
  };
}

describe('the case machine of a preservation request', () => {
  it('takes a further preservation-request (an extension) in every open state, and no other machine does', () => {
    for (const s of ['open', 'acknowledged', 'answered'] as const) expect(nextState('preservation-request', s, 'preservation-request')).toBe(s);
    expect(nextState('preservation-request', 'closed', 'preservation-request')).toBeUndefined();
    for (const k of ['inquiry', 'notification', 'ping']) expect(nextState(k, 'open', 'preservation-request')).toBeUndefined();
  });
});

describe('parseLawConfig', () => {
  it('defaults to 7 days; takes 1 to 365; refuses anything else naming the field', () => {
    expect(parseLawConfig(undefined)).toEqual({ remindDaysBefore: 7 });
    expect(parseLawConfig({})).toEqual({ remindDaysBefore: 7 });
    expect(parseLawConfig({ remind_days_before: 3 })).toEqual({ remindDaysBefore: 3 });
    for (const bad of [0, -1, 1.5, 366, '7', null]) {
      expect(() => parseLawConfig({ remind_days_before: bad })).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('law.remind_days_before') }));
    }
    expect(() => parseLawConfig({ remind: 3 })).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('"law.remind"') }));
    expect(() => parseLawConfig([])).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
});

describeEachDialect('PreservationReminders', (dialect) => {
  it('reminds remind_days_before the expiry, once per preservation per expiry, across a restart; expires what is past', async () => {
    const db = await openTestStore(dialect);
    dbs.push(db);
    const expires = T0 + 60 * DAY_MS;
    await db.insertInto('preservations').values([row('c1', expires), row('c2', expires + DAY_MS), row('c3', null, 'requested'), row('c4', T0, 'refused')]).execute();
    const clock = new FakeClock(expires - 3 * DAY_MS - 1);
    const seen: PreservationView[] = [];
    const make = (): PreservationReminders => new PreservationReminders({ db, clock, log: silentLogger, remindDaysBefore: 3, onReminder: (p) => void seen.push(p) });
    let r = make();
    expect(await r.runOnce()).toEqual({ reminded: 0, expired: 0 });
    clock.advance(1);
    expect(await r.runOnce()).toEqual({ reminded: 1, expired: 0 });
    expect(seen.map((p) => [p.case, p.expires_at, p.days_left, p.reminded_at])).toEqual([['c1', isoTime(expires), 3, isoTime(clock.now())]]);
    r = make();
    expect(await r.runOnce()).toEqual({ reminded: 0, expired: 0 });
    expect((await listPreservations(db, clock.now(), { due: true })).map((p) => p.case)).toEqual(['c1']);

    // The expiry moves (an answered extension): a new reminder for the new date.
    await db.updateTable('preservations').set({ expires_at: expires + 10 * DAY_MS }).where('case_id', '=', 'c1').execute();
    expect((await listPreservations(db, clock.now(), { due: true })).map((p) => p.case)).toEqual([]);
    clock.set(expires + DAY_MS - 3 * DAY_MS);
    expect(await r.runOnce()).toEqual({ reminded: 1, expired: 0 });
    expect(seen.map((p) => p.case)).toEqual(['c1', 'c2']);
    clock.set(expires + 7 * DAY_MS);
    expect(await r.runOnce()).toEqual({ reminded: 1, expired: 1 });
    expect(seen.map((p) => p.case)).toEqual(['c1', 'c2', 'c1']);
    const states = await db.selectFrom('preservations').select(['case_id', 'state']).orderBy('case_id').execute();
    expect(states).toEqual([{ case_id: 'c1', state: 'preserved' }, { case_id: 'c2', state: 'expired' }, { case_id: 'c3', state: 'requested' }, { case_id: 'c4', state: 'refused' }]);
  });

  it('a failing sink does not stop the pass, and the reminder still counts once', async () => {
    const db = await openTestStore(dialect);
    dbs.push(db);
    await db.insertInto('preservations').values([row('c1', T0 + DAY_MS), row('c2', T0 + DAY_MS)]).execute();
    const clock = new FakeClock(T0);
    const r = new PreservationReminders({ db, clock, log: silentLogger, remindDaysBefore: 7, onReminder: () => { throw new Error('sink down'); } });
    expect(await r.runOnce()).toEqual({ reminded: 2, expired: 0 });
    expect(await r.runOnce()).toEqual({ reminded: 0, expired: 0 });
  });
});
