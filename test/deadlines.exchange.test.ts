/**
 * Issue 3, acknowledgement deadlines and escalation between two real nodes on loopback, with a
 * fake clock and a real HTTP webhook receiver: a FLASH message us→ru that nobody acknowledges is
 * escalated on ru to the primary at once, the backup at 5 min, the supervisor at 10 min, each
 * exactly once across a restart of ru; us raises one overdue alert at 10 min and lists it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../src/modules/messaging/messaging.service.js';
import { ackMessage } from '../src/modules/cases/cases.service.js';
import { addContact, setRota } from '../src/modules/directory/directory.service.js';
import { deadlineOf, listOverdue, setPeerDeadlines } from '../src/modules/deadlines/deadlines.service.js';
import type { RunningNode, StartOptions } from '../src/main.js';
import { FakeClock, isoTime } from '../src/shared/clock.js';
import { HotlineError } from '../src/shared/errors.js';
import { makePair, type TestHome } from './helpers/nodes.js';
import { delivered, until } from './helpers/cases.js';
import { api } from './helpers/api.js';
import { webhookReceiver, type Hit, type WebhookReceiver } from './helpers/webhook.js';

const MIN = 60_000;
const running: RunningNode[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const FLASH = { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'Scanning of power grid control systems from your networks: please clarify.' };

async function setup(): Promise<{ us: TestHome; ru: TestHome; a: RunningNode; b: RunningNode; hook: WebhookReceiver; clock: FakeClock; opts: StartOptions }> {
  const hook = await webhookReceiver();
  receivers.push(hook);
  const clock = new FakeClock();
  const [us, ru] = await makePair({ notify: { webhook: { url: `${hook.url}/node` } } });
  const opts: StartOptions = { clock, runPings: false, runReminders: false, runDeadlines: false };
  const a = await us.start(opts);
  const b = await ru.start(opts);
  running.push(a, b);
  const c = (name: string, fn: string): Promise<{ id: string }> => addContact(b.ctx, { channel: 'crisis', function: fn, name, phone: '+7 495 555 0100' });
  const primary = await c('Officer Ivanov', 'Crisis desk duty officer');
  const backup = await c('Officer Petrova', 'Crisis desk backup');
  const supervisor = await c('Colonel Sidorov', 'Head of crisis desk');
  await setRota(b.ctx, { channel: 'crisis', primary: primary.id, backup: backup.id, supervisor: supervisor.id, notify: { primary: { webhook: `${hook.url}/primary` } } });
  return { us, ru, a, b, hook, clock, opts };
}

/** What the node-wide webhook received from `node`, answered 2xx. */
function fromNode(hook: WebhookReceiver, node: string): Hit[] {
  return hook.ok().filter((h) => h.path === '/node' && h.body.node === node);
}

describe('acknowledgement deadlines between two real nodes', () => {
  it('FLASH us→ru unacknowledged: primary at once, backup at 5 min, supervisor at 10 min, each once across a restart; us alerts once at 10 min', async () => {
    const { us, ru, a, b: b0, hook, clock, opts } = await setup();
    let b = b0;
    const t0 = clock.now();
    const m = await send(a.ctx, FLASH);
    await delivered(a, m.id);

    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 1, sent: 2, failed: 0 });
    expect(fromNode(hook, 'ru')).toHaveLength(1);
    const first = fromNode(hook, 'ru')[0]!;
    expect(first.body).toMatchObject({
      type: 'hotline.escalation', message_id: m.id, case: m.id, kind: 'inquiry', priority: 'flash', channel: 'crisis',
      from: 'us', to: 'ru', sent_at: isoTime(t0), due_at: isoTime(t0 + 10 * MIN), step: 0, position: 'primary',
      contact: { name: 'Officer Ivanov', function: 'Crisis desk duty officer' },
    });
    expect(first.headers['idempotency-key']).toBe(first.body.id);
    // The primary's own webhook (rota notify target) got the same notification.
    expect(hook.ok().filter((h) => h.path === '/primary').map((h) => h.body.id)).toEqual([first.body.id]);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0, sent: 0 });

    clock.advance(5 * MIN - 1);
    await b.deadlines.runOnce();
    await a.deadlines.runOnce();
    expect(fromNode(hook, 'ru')).toHaveLength(1);
    clock.advance(1);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 1, sent: 1 });
    const second = fromNode(hook, 'ru')[1]!;
    expect(second.body).toMatchObject({ message_id: m.id, step: 1, position: 'backup', contact: { name: 'Officer Petrova' }, decided_at: isoTime(t0 + 5 * MIN) });

    // ru crashes and comes back on the same home with the same clock: nothing is decided again.
    await b.stop();
    running.splice(running.indexOf(b), 1);
    b = await ru.start(opts);
    running.push(b);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0, sent: 0 });
    clock.advance(5 * MIN - 1);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0 });
    expect(await a.deadlines.runOnce()).toMatchObject({ decided: 0 });
    expect(await listOverdue(a.ctx.db, clock.now())).toEqual([]);
    clock.advance(1);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 1, sent: 1 });
    expect(await a.deadlines.runOnce()).toMatchObject({ decided: 1, sent: 1 });
    clock.advance(30 * MIN);
    await b.deadlines.runOnce();
    await a.deadlines.runOnce();

    expect(fromNode(hook, 'ru').map((h) => [h.body.step, h.body.position, (h.body.contact as { name: string }).name])).toEqual([
      [0, 'primary', 'Officer Ivanov'], [1, 'backup', 'Officer Petrova'], [2, 'supervisor', 'Colonel Sidorov'],
    ]);
    const alerts = fromNode(hook, 'us');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.body).toMatchObject({
      type: 'hotline.overdue', message_id: m.id, step: 'overdue', from: 'us', to: 'ru', priority: 'flash', due_at: isoTime(t0 + 10 * MIN), contact: null,
    });
    expect(hook.hits.every((h) => h.status === 204)).toBe(true);

    // `overdue` lists it with how late it is; show says the same on both sides.
    const overdue = await listOverdue(a.ctx.db, clock.now());
    expect(overdue).toEqual([{
      message_id: m.id, case: m.id, peer: 'ru', kind: 'inquiry', channel: 'crisis', priority: 'flash',
      sent_at: isoTime(t0), due_at: isoTime(t0 + 10 * MIN), late_ms: 30 * MIN, alerted: true,
    }]);
    const rest = await api(a.address)('/api/v1/overdue', us.token);
    expect(rest.status).toBe(200);
    expect(rest.json.overdue).toEqual(overdue);
    const shownUs = await deadlineOf(a.ctx.db, m.id, clock.now());
    expect(shownUs).toMatchObject({ overdue: true, late_ms: 30 * MIN, acknowledged_at: null, next_step: null, steps: [{ step: 'overdue', at: isoTime(t0 + 10 * MIN) }] });
    const shownRu = (await api(b.address)(`/api/v1/messages/${m.id}`, ru.token)).json.deadline as { steps: { step: string; contact: string; at: string; deliveries: { state: string }[] }[] };
    expect(shownRu.steps.map((s) => [s.step, s.contact, s.at])).toEqual([
      ['0', 'Officer Ivanov', isoTime(t0)], ['1', 'Officer Petrova', isoTime(t0 + 5 * MIN)], ['2', 'Colonel Sidorov', isoTime(t0 + 10 * MIN)],
    ]);
    expect(shownRu.steps.flatMap((s) => s.deliveries.map((d) => d.state))).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('an acknowledgement before step 1 stops the escalation, and us raises no alert', async () => {
    const { a, b, hook, clock } = await setup();
    const m = await send(a.ctx, FLASH);
    await delivered(a, m.id);
    await b.deadlines.runOnce();
    clock.advance(2 * MIN);
    await ackMessage(b.ctx, { id: m.id });
    b.delivery.wake();
    await until(a, m.id, 'acknowledged');
    clock.advance(60 * MIN);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0 });
    expect(await a.deadlines.runOnce()).toMatchObject({ decided: 0 });
    expect(fromNode(hook, 'ru').map((h) => h.body.step)).toEqual([0]);
    expect(fromNode(hook, 'us')).toEqual([]);
    expect(await listOverdue(a.ctx.db, clock.now())).toEqual([]);
    for (const n of [a, b]) {
      expect(await deadlineOf(n.ctx.db, m.id, clock.now())).toMatchObject({ overdue: false, late_ms: null, next_step: null, acknowledged_at: expect.any(String) });
    }
  });

  it('deadlines agreed with the peer change the times: flash 4 min → backup at 2, supervisor and overdue at 4', async () => {
    const { a, b, hook, clock } = await setup();
    await setPeerDeadlines(a.ctx, 'ru', { flash: 4 });
    await setPeerDeadlines(b.ctx, 'us', { flash: '4' });
    const m = await send(a.ctx, FLASH);
    await delivered(a, m.id);
    const t0 = clock.now();
    await b.deadlines.runOnce();
    clock.advance(2 * MIN);
    await b.deadlines.runOnce();
    clock.advance(2 * MIN - 1);
    await b.deadlines.runOnce();
    await a.deadlines.runOnce();
    expect(fromNode(hook, 'ru').map((h) => h.body.step)).toEqual([0, 1]);
    expect(fromNode(hook, 'us')).toEqual([]);
    clock.advance(1);
    await b.deadlines.runOnce();
    await a.deadlines.runOnce();
    expect(fromNode(hook, 'ru').map((h) => [h.body.step, h.body.decided_at, h.body.due_at])).toEqual([
      [0, isoTime(t0), isoTime(t0 + 4 * MIN)], [1, isoTime(t0 + 2 * MIN), isoTime(t0 + 4 * MIN)], [2, isoTime(t0 + 4 * MIN), isoTime(t0 + 4 * MIN)],
    ]);
    expect(fromNode(hook, 'us').map((h) => h.body.due_at)).toEqual([isoTime(t0 + 4 * MIN)]);
  });

  it('a sink that fails is retried with backoff, across a restart, and the step is still decided once', async () => {
    const { ru, a, b: b0, hook, clock, opts } = await setup();
    let b = b0;
    const m = await send(a.ctx, FLASH);
    await delivered(a, m.id);
    hook.failNext(2);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 1, sent: 0, failed: 2 });
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0, sent: 0, failed: 0 });
    await b.stop();
    running.splice(running.indexOf(b), 1);
    b = await ru.start(opts);
    running.push(b);
    clock.advance(999);
    expect(await b.deadlines.runOnce()).toMatchObject({ sent: 0, failed: 0 });
    clock.advance(1);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0, sent: 2, failed: 0 });
    const ids = hook.hits.filter((h) => h.path === '/node').map((h) => h.body.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    const d = await deadlineOf(b.ctx.db, m.id, clock.now());
    expect(d!.steps).toHaveLength(1);
    expect(d!.steps[0]!.deliveries.map((x) => [x.state, x.attempts])).toEqual([['sent', 2], ['sent', 2]]);
  });

  it('agreeing deadlines is refused for bad values and unknown peers, and changes nothing', async () => {
    const { us, a } = await setup();
    const before = await a.ctx.db.selectFrom('peers').selectAll().execute();
    for (const [party, given, code] of [
      ['ru', { flash: 0 }, 'invalid_argument'], ['ru', { flash: 2.5 }, 'invalid_argument'], ['ru', { flash: 'soon' }, 'invalid_argument'],
      ['ru', { urgent: 5 }, 'invalid_argument'], ['ru', {}, 'invalid_argument'], ['ru', { routine: 365 * 24 * 60 + 1 }, 'invalid_argument'],
      ['xx', { flash: 5 }, 'unknown_peer'],
    ] as const) {
      const e = await setPeerDeadlines(a.ctx, party, given).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(HotlineError);
      expect((e as HotlineError).code).toBe(code);
    }
    const put = await api(a.address)('/api/v1/peers/ru/deadlines', us.token, { method: 'PUT', body: { flash: -1 } });
    expect(put.status).toBe(400);
    expect(put.json.code).toBe('invalid_argument');
    expect(await a.ctx.db.selectFrom('peers').selectAll().execute()).toEqual(before);
    const ok = await api(a.address)('/api/v1/peers/ru/deadlines', us.token, { method: 'PUT', body: { flash: 5, immediate: 30 } });
    expect(ok.status).toBe(200);
    expect(ok.json.deadlines).toEqual({ flash: 5, immediate: 30, priority: 1440, routine: 4320 });
  });
});

