/**
 * Issue 3, cases and human acknowledgement between two real nodes on loopback: an inquiry us→ru
 * is receipted (machine), then acknowledged by a named officer (person), answered and closed; the
 * case moves on both sides, and us never confuses the receipt with the acknowledgement.
 */
import type { KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { compose, send, show } from '../src/modules/messaging/messaging.service.js';
import { ackMessage, closeCase, reply, showCase } from '../src/modules/cases/cases.service.js';
import { stateOf } from '../src/adapters/cli/commands/messages.js';
import type { RunningNode } from '../src/main.js';
import { FakeClock, isoTime } from '../src/shared/clock.js';
import { makePair } from './helpers/nodes.js';
import { caseState, delivered, forge, keyOf, post, snapshot, until } from './helpers/cases.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function startPair(opts: { runDelivery?: boolean; clock?: FakeClock } = {}): Promise<[RunningNode, RunningNode, KeyObject]> {
  const [us, ru] = await makePair();
  const a = await us.start({ runPings: false, ...opts });
  const b = await ru.start({ runPings: false, ...opts });
  running.push(a, b);
  return [a, b, keyOf(ru)];
}

const INQUIRY = { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'Scanning from your networks since 08:55 UTC: please clarify.' };

describe('a case between two real nodes', () => {
  it('inquiry us→ru: receipted, then acknowledged by an officer, answered, closed; both sides agree at every step', async () => {
    const [a, b] = await startPair();
    const q = await send(a.ctx, INQUIRY);
    await delivered(a, q.id);
    expect(await caseState(a, q.id)).toBe('open');
    expect(await caseState(b, q.id)).toBe('open');

    // Receipted, not acknowledged: us says only that ru's node stored it.
    const before = (await show(a.ctx.db, q.id)).message;
    expect(before.state).toBe('delivered');
    expect(before.acknowledged).toBeNull();
    const t1 = before.receipt!.received_at;
    expect(stateOf(before)).toBe(`delivered: receipted by node ru at ${t1}`);
    expect(stateOf(before)).not.toMatch(/acknowledged/);

    // The ack names the user who acknowledges, from its record: never a name the caller types.
    await b.ctx.users.add({ name: 'ivan', role: 'officer', channels: 'crisis', display_name: 'Ivan Petrov' });
    const ack = await ackMessage(b.ctx, { id: q.id }, await b.ctx.users.principalFor('ivan'));
    expect(ack).toMatchObject({ acknowledges: q.id, case: q.id, officer: 'Ivan Petrov', user: 'ivan', already: false });
    expect(await caseState(b, q.id)).toBe('acknowledged');
    b.delivery.wake();
    await until(a, q.id, 'acknowledged');

    const after = (await show(a.ctx.db, q.id)).message;
    expect(after.state).toBe('delivered');
    expect(after.receipt!.received_at).toBe(t1);
    expect(after.acknowledged).toEqual({ officer: 'Ivan Petrov', user: 'ivan', at: ack.at, ack_id: ack.ack_id });
    const ackEnv = (await show(a.ctx.db, ack.ack_id)).envelope;
    expect(ack.at).toBe(ackEnv.sent_at);
    expect(ackEnv).toMatchObject({ kind: 'ack', from: 'ru', to: 'us', case: q.id, in_reply_to: q.id, channel: 'crisis' });
    expect(ackEnv.body.fields).toEqual({ acknowledges: q.id, officer: 'Ivan Petrov' });
    expect(ackEnv.body.sender).toBe('ivan');
    expect(stateOf(after)).toBe(`delivered: receipted by node ru at ${t1}; acknowledged by Ivan Petrov (ivan) at ${ack.at}`);
    // ru shows its own officer's acknowledgement on the message it received.
    expect((await show(b.ctx.db, q.id)).message.acknowledged).toEqual({ officer: 'Ivan Petrov', user: 'ivan', at: ack.at, ack_id: ack.ack_id });

    const answer = await reply(b.ctx, { id: q.id, text: 'No state involvement; the hosts are being cleaned.' });
    expect(answer).toMatchObject({ kind: 'response', to: 'us', channel: 'crisis', case: q.id, in_reply_to: q.id, priority: 'flash' });
    expect(await caseState(b, q.id)).toBe('answered');
    b.delivery.wake();
    await until(a, q.id, 'answered');

    const close = await closeCase(a.ctx, { case: q.id, reason: 'answered' });
    expect(close).toMatchObject({ kind: 'case-close', to: 'ru', case: q.id, in_reply_to: null });
    expect(await caseState(a, q.id)).toBe('closed');
    a.delivery.wake();
    await until(b, q.id, 'closed');

    for (const n of [a, b]) {
      const c = await showCase(n.ctx.db, q.id);
      expect(c.case).toMatchObject({ id: q.id, kind: 'inquiry', channel: 'crisis', state: 'closed', closed_by: close.id, last_message_id: close.id });
      expect(c.case.states).toEqual(['open', 'acknowledged', 'answered', 'closed']);
      expect(c.case.opened_by).toBe(n === a ? 'out' : 'in');
      expect(c.case.peer).toBe(n === a ? 'ru' : 'us');
      expect(c.messages.map((m) => m.kind)).toEqual(['inquiry', 'ack', 'response', 'case-close']);
    }
  });

  it('acknowledging twice sends nothing more; a second ack from the peer is stored but the first one counts', async () => {
    const [a, b] = await startPair();
    const n = await send(a.ctx, { ...INQUIRY, kind: 'notification', priority: 'routine' });
    await delivered(a, n.id);
    // Without a principal (the CLI without --as), the node administrator acknowledges.
    const first = await ackMessage(b.ctx, { id: n.id });
    expect(first).toMatchObject({ officer: 'Node administrator', user: 'admin' });
    await b.ctx.users.add({ name: 'petrova', role: 'officer', channels: 'crisis' });
    const before = await snapshot(b);
    const again = await ackMessage(b.ctx, { id: n.id }, await b.ctx.users.principalFor('petrova'));
    expect(again).toEqual({ ...first, already: true });
    expect(await snapshot(b)).toEqual(before);
    // Past the idempotent verb, a second signed ack (another officer) still goes out and is stored on both sides.
    const second = await compose(b.ctx, {
      to: 'us', channel: 'crisis', kind: 'ack', priority: 'routine', tlp: 'green', case: n.id, in_reply_to: n.id,
      fields: { acknowledges: n.id, officer: 'Officer Petrova' },
    });
    await delivered(b, second.id);
    await delivered(b, first.ack_id);
    const m = (await show(a.ctx.db, n.id)).message;
    expect(m.acknowledged).toEqual({ officer: 'Node administrator', user: 'admin', at: first.at, ack_id: first.ack_id });
    expect((await show(a.ctx.db, second.id)).message.kind).toBe('ack');
    expect(await caseState(a, n.id)).toBe('acknowledged');
  });

  it('an answer that crossed our close in transit is stored and the case stays closed; one written after the close is refused', async () => {
    const [a, b] = await startPair({ runDelivery: false });
    const q = await send(a.ctx, INQUIRY);
    await a.delivery.runOnce();
    expect(await caseState(b, q.id)).toBe('open');
    // ru answers while us closes: neither has the other's message yet.
    const answer = await reply(b.ctx, { id: q.id, text: 'Answer written before the close arrived.', ack: false });
    const close = await closeCase(a.ctx, { case: q.id });
    await b.delivery.runOnce();
    expect((await show(b.ctx.db, answer.id)).message.state).toBe('delivered');
    const c = await showCase(a.ctx.db, q.id);
    expect(c.case).toMatchObject({ state: 'closed', closed_by: close.id, last_message_id: answer.id });
    expect(c.messages.map((m) => m.id)).toEqual([q.id, close.id, answer.id]);
    await a.delivery.runOnce();
    expect(await caseState(b, q.id)).toBe('closed');
    // Now ru holds the close: its own node refuses to add to the case.
    const before = await snapshot(b);
    await expect(reply(b.ctx, { id: q.id, text: 'One more thing.' })).rejects.toMatchObject({ code: 'case_closed' });
    expect(await snapshot(b)).toEqual(before);
  });

  it('the crossing rule on a fake clock: written no later than the peer stored our close, stored; 1 ms later, case_closed', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 9, 30));
    const [a, _b, ruKey] = await startPair({ runDelivery: false, clock });
    const q = await send(a.ctx, INQUIRY);
    await a.delivery.runOnce();
    clock.advance(60_000);
    const close = await closeCase(a.ctx, { case: q.id });
    await a.delivery.runOnce();
    const received = (await show(a.ctx.db, close.id)).message.receipt!.received_at;
    expect(received).toBe(isoTime(clock.now()));
    const answer = { kind: 'response', case: q.id, in_reply_to: q.id, body: { text: 'answer' } } as const;
    const before = await snapshot(a);
    const late = await post(a, await forge(a, 'ru', ruKey, { ...answer, sent_at: isoTime(clock.now() + 1) }));
    expect(late).toMatchObject({ ok: false, error: { code: 'case_closed' } });
    expect(await snapshot(a)).toEqual(before);
    const crossed = await post(a, await forge(a, 'ru', ruKey, { ...answer, sent_at: received }));
    expect(crossed.ok, JSON.stringify(crossed)).toBe(true);
    expect((await showCase(a.ctx.db, q.id)).case).toMatchObject({ state: 'closed', closed_by: close.id, last_message_id: crossed.id });
  });
});
