/**
 * Issue 3, the law-enforcement 24/7 channel between two real nodes on loopback, on one fake clock:
 * an expedited preservation request us→ru with every Art. 29(2) field; ru answers preserved with a
 * reference; both sides track expires_at = preserved_at + 60 days (Art. 29(7)); the reminder fires
 * once, 7 days before; an extension moves the expiry (and earns a new reminder); the follow-up
 * mutual-assistance request is recorded on both sides; the preservation then expires.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { FakeClock, isoTime } from '../src/shared/clock.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { closeCase, reply, showCase } from '../src/modules/cases/cases.service.js';
import { extendPreservation, listPreservations, recordMla, showPreservation } from '../src/modules/law/law.service.js';
import { makePair } from './helpers/nodes.js';
import { ART29_FIELDS, preservationRequest } from './helpers/law.js';

const DAY = 24 * 60 * 60 * 1000;
const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function startPair(clock: FakeClock): Promise<[RunningNode, RunningNode]> {
  const [us, ru] = await makePair();
  const opts = { clock, runDelivery: false, runPings: false, runReminders: false };
  const a = await us.start(opts);
  const b = await ru.start(opts);
  running.push(a, b);
  return [a, b];
}

describe('expedited preservation (Budapest Convention Art. 29) between two real nodes', () => {
  it('request, preserved with a reference, 60 days tracked on both sides, one reminder, an extension, the MLA follow-up, expiry', async () => {
    const t0 = Date.UTC(2026, 0, 15, 9, 30);
    const clock = new FakeClock(t0);
    const [a, b] = await startPair(clock);

    const req = await send(a.ctx, preservationRequest());
    expect(req).toMatchObject({ kind: 'preservation-request', channel: 'law', case: req.id });
    expect(req.body.fields).toEqual(ART29_FIELDS);
    await a.delivery.runOnce();
    const asked = await showPreservation(b.ctx.db, req.id, clock.now());
    expect(asked).toMatchObject({ case: req.id, request_id: req.id, requesting_party: 'us', responding_party: 'ru', direction: 'in', state: 'requested', expires_at: null });
    expect(await showPreservation(a.ctx.db, req.id, clock.now())).toMatchObject({ direction: 'out', state: 'requested' });

    // Two hours later ru's 24/7 point of contact answers: preserved, with its reference.
    clock.advance(2 * 60 * 60 * 1000);
    const preservedAt = isoTime(clock.now() - 30 * 60 * 1000);
    const answer = await reply(b.ctx, { id: req.id, kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'RU-MVD-K-2026-0042', preserved_at: preservedAt } });
    expect(answer).toMatchObject({ kind: 'preservation-response', to: 'us', channel: 'law', case: req.id, in_reply_to: req.id });
    await b.delivery.runOnce();
    const expires = Date.parse(preservedAt) + 60 * DAY;
    for (const n of [a, b]) {
      const p = await showPreservation(n.ctx.db, req.id, clock.now());
      expect(p).toMatchObject({
        state: 'preserved', outcome: 'preserved', reference: 'RU-MVD-K-2026-0042', response_id: answer.id,
        preserved_at: preservedAt, expires_at: isoTime(expires), days_left: 59, mla_request: null, reminded_at: null, extensions: [],
      });
      expect((await showCase(n.ctx.db, req.id)).case.state).toBe('answered');
    }

    // The reminder: nothing until 7 days before the expiry, then once on each node, then nothing more.
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    clock.set(expires - 7 * DAY - 1);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    expect(await listPreservations(a.ctx.db, clock.now(), { due: true })).toEqual([]);
    clock.advance(1);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 1, expired: 0 });
    expect(await b.reminders.runOnce()).toEqual({ reminded: 1, expired: 0 });
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    clock.advance(DAY);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    const due = await listPreservations(a.ctx.db, clock.now(), { due: true });
    expect(due.map((p) => [p.case, p.reminded_at])).toEqual([[req.id, isoTime(expires - 7 * DAY)]]);

    // us asks for 30 more days; ru's answer to the extension moves the expiry on both sides.
    const ext = await extendPreservation(a.ctx, { case: req.id, days: 30 });
    expect(ext).toMatchObject({ kind: 'preservation-request', case: req.id, in_reply_to: req.id, to: 'ru', channel: 'law' });
    expect(ext.body.fields).toEqual({ ...ART29_FIELDS, extension_of: req.id, extension_days: 30 });
    await a.delivery.runOnce();
    expect((await showPreservation(b.ctx.db, req.id, clock.now())).extensions).toEqual([{ message_id: ext.id, requested_at: ext.sent_at, days: 30 }]);
    const extAnswer = await reply(b.ctx, { id: ext.id, kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'RU-MVD-K-2026-0042', preserved_at: isoTime(clock.now()) } });
    await b.delivery.runOnce();
    const extended = expires + 30 * DAY;
    for (const n of [a, b]) {
      const p = await showPreservation(n.ctx.db, req.id, clock.now());
      expect(p).toMatchObject({ state: 'preserved', preserved_at: preservedAt, expires_at: isoTime(extended), reminded_at: null });
      expect(p.extensions).toEqual([{ message_id: ext.id, requested_at: ext.sent_at, days: 30, response_id: extAnswer.id, outcome: 'preserved', expires_at: isoTime(extended) }]);
    }
    expect(await listPreservations(a.ctx.db, clock.now(), { due: true })).toEqual([]);

    // The follow-up mutual-assistance request: recorded at once on us, and on ru from the notification.
    const mla = await recordMla(a.ctx, { case: req.id, reference: 'US-DOJ-OIA-2026-0117', sent_on: '2026-02-20T00:00:00Z' });
    expect(mla).toMatchObject({ kind: 'notification', channel: 'law', case: req.id, to: 'ru' });
    expect(mla.body.fields).toEqual({ mla_reference: 'US-DOJ-OIA-2026-0117', mla_sent_on: '2026-02-20T00:00:00Z' });
    expect((await showPreservation(a.ctx.db, req.id, clock.now())).mla_request).toEqual({ reference: 'US-DOJ-OIA-2026-0117', sent_at: '2026-02-20T00:00:00.000Z', message_id: mla.id });
    await a.delivery.runOnce();
    expect((await showPreservation(b.ctx.db, req.id, clock.now())).mla_request).toEqual({ reference: 'US-DOJ-OIA-2026-0117', sent_at: '2026-02-20T00:00:00.000Z', message_id: mla.id });

    // The moved expiry earns its own reminder, once; past it, the preservation is expired.
    clock.set(extended - 7 * DAY);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 1, expired: 0 });
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    clock.set(extended);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 1 });
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    expect(await showPreservation(a.ctx.db, req.id, clock.now())).toMatchObject({ state: 'expired', days_left: null });
    expect(await listPreservations(a.ctx.db, clock.now(), { due: true })).toEqual([]);
  });

  it('cannot preserve, with the reason (Art. 29(6)): refused on both sides, no expiry, no reminder', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 9, 30));
    const [a, b] = await startPair(clock);
    const req = await send(a.ctx, preservationRequest());
    await a.delivery.runOnce();
    await reply(b.ctx, { id: req.id, kind: 'preservation-response', fields: { outcome: 'cannot_preserve', reason: 'The provider deleted the server on 2026-01-12.' } });
    await b.delivery.runOnce();
    for (const n of [a, b]) {
      expect(await showPreservation(n.ctx.db, req.id, clock.now())).toMatchObject({
        state: 'refused', outcome: 'cannot_preserve', reason: 'The provider deleted the server on 2026-01-12.', reference: null, expires_at: null,
      });
    }
    clock.advance(365 * DAY);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
  });

  it('closing the case releases a preservation on both sides', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 9, 30));
    const [a, b] = await startPair(clock);
    const req = await send(a.ctx, preservationRequest());
    await a.delivery.runOnce();
    await reply(b.ctx, { id: req.id, kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'R-1', preserved_at: isoTime(clock.now()), expires_at: isoTime(clock.now() + 90 * DAY) } });
    await b.delivery.runOnce();
    expect((await showPreservation(a.ctx.db, req.id, clock.now())).expires_at).toBe(isoTime(clock.now() + 90 * DAY));
    await closeCase(a.ctx, { case: req.id, reason: 'no-further-action' });
    await a.delivery.runOnce();
    for (const n of [a, b]) expect((await showPreservation(n.ctx.db, req.id, clock.now())).state).toBe('released');
    clock.advance(89 * DAY);
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
  });
});
