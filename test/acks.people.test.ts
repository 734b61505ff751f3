/**
 * Issue 10 item 5, acknowledging as people do, between two real nodes on a fake clock: a reply
 * acknowledges the message it answers (in the same transaction) and so stops its escalation;
 * `--no-ack` opts out; a message whose case is closed can still be acknowledged, which stops its
 * escalation; `ack --case` acknowledges every message of the case the user may read (a TLP:RED
 * one only by its recipient); the sender's `show` says "acknowledged by Ivan Petrov (ivan) at T".
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode, StartOptions } from '../src/main.js';
import { ackCase, ackMessage, closeCase, replyTo } from '../src/modules/cases/cases.service.js';
import { addContact } from '../src/modules/directory/directory.service.js';
import { publishDirectory } from '../src/modules/directory/directory.publish.js';
import { listOverdue } from '../src/modules/deadlines/deadlines.service.js';
import { send, show } from '../src/modules/messaging/messaging.service.js';
import { FakeClock } from '../src/shared/clock.js';
import { caseState, delivered, snapshot, until } from './helpers/cases.js';
import { hl } from './helpers/cli.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';

const MIN = 60_000;
const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

const INQUIRY = { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'Scanning from your networks: please clarify.' };

/** Two nodes on a fake clock; with `systemClock`, on the real one (as the CLI run in the test is). */
async function setup(systemClock = false): Promise<{ us: TestHome; ru: TestHome; a: RunningNode; b: RunningNode; clock: FakeClock }> {
  const clock = new FakeClock();
  const [us, ru] = await makePair();
  const opts: StartOptions = { ...(systemClock ? {} : { clock }), runPings: false, runReminders: false, runDeadlines: false };
  const a = await us.start(opts);
  const b = await ru.start(opts);
  running.push(a, b);
  await b.ctx.users.add({ name: 'ivan', role: 'officer', channels: 'crisis', display_name: 'Ivan Petrov' });
  await b.ctx.users.add({ name: 'olga', role: 'officer', channels: 'crisis', display_name: 'Olga Smirnova' });
  return { us, ru, a, b, clock };
}

/** The escalation steps ru decided for a message (notifications queued, whatever the sinks). */
async function steps(b: RunningNode, id: string): Promise<string[]> {
  const rows = await b.ctx.db.selectFrom('notifications').select('step').where('message_id', '=', id).orderBy('created_at').execute();
  return rows.map((r) => r.step);
}

describe('acknowledging as people do (two nodes)', () => {
  it('a reply by ivan acknowledges the inquiry in the same transaction: escalation stops on ru, no overdue on us, us shows "Ivan Petrov (ivan)"', async () => {
    const { a, b, clock } = await setup();
    const q = await send(a.ctx, INQUIRY);
    await delivered(a, q.id);
    await b.deadlines.runOnce();
    expect(await steps(b, q.id)).toEqual(['0']);
    clock.advance(2 * MIN);
    const r = await replyTo(b.ctx, { id: q.id, text: 'Our hosts; cleaning them now.' }, await b.ctx.users.principalFor('ivan'));
    expect(r.ack).not.toBeNull();
    // One transaction, in order: the ack (seq n) just before the reply (seq n + 1).
    expect([r.ack!.kind, r.ack!.seq + 1, r.ack!.in_reply_to]).toEqual(['ack', r.reply.seq, q.id]);
    expect(r.ack!.body).toMatchObject({ sender: 'ivan', fields: { acknowledges: q.id, officer: 'Ivan Petrov' } });
    await delivered(b, r.reply.id);
    await until(a, q.id, 'answered');
    const shown = (await show(a.ctx.db, q.id)).message;
    expect(shown.acknowledged).toEqual({ officer: 'Ivan Petrov', user: 'ivan', at: r.ack!.sent_at, ack_id: r.ack!.id });
    clock.advance(60 * MIN);
    await b.deadlines.runOnce();
    await a.deadlines.runOnce();
    expect(await steps(b, q.id)).toEqual(['0']);
    expect(await steps(a, q.id)).toEqual([]);
    expect((await listOverdue(a.ctx.db, clock.now())).map((o) => o.message_id)).not.toContain(q.id);
  });

  it('show on the sender (CLI) says "acknowledged by Ivan Petrov (ivan) at T"; a reply with --no-ack leaves the message to escalate', async () => {
    const { us, a, b, clock } = await setup();
    const acked = await send(a.ctx, INQUIRY);
    const open = await send(a.ctx, INQUIRY);
    await delivered(a, open.id);
    const r = await replyTo(b.ctx, { id: acked.id, text: 'On it.' }, await b.ctx.users.principalFor('ivan'));
    const noAck = await replyTo(b.ctx, { id: open.id, text: 'Answer, not an acknowledgement.', ack: false }, await b.ctx.users.principalFor('ivan'));
    expect(noAck.ack).toBeNull();
    await delivered(b, noAck.reply.id);
    const text = await hl(us.home, 'show', acked.id);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`acknowledged by Ivan Petrov (ivan) at ${r.ack!.sent_at}`);
    expect((await show(a.ctx.db, open.id)).message.acknowledged).toBeNull();
    clock.advance(5 * MIN);
    await b.deadlines.runOnce();
    expect(await steps(b, open.id)).toEqual(['0', '1']);
    expect(await steps(b, acked.id)).toEqual([]);
  });

  it('a message whose case is closed can still be acknowledged: the ack crosses to us and the escalation stops on both sides', async () => {
    const { a, b, clock } = await setup();
    const q = await send(a.ctx, INQUIRY);
    await delivered(a, q.id);
    const close = await closeCase(a.ctx, { case: q.id, reason: 'resolved' });
    await delivered(a, close.id);
    expect(await caseState(b, q.id)).toBe('closed');
    await b.deadlines.runOnce();
    expect(await steps(b, q.id)).toEqual(['0']);
    // Closed: nothing more can be said in it, but the inquiry can still be acknowledged.
    await expect(replyTo(b.ctx, { id: q.id, text: 'late' })).rejects.toMatchObject({ code: 'case_closed' });
    const ack = await ackMessage(b.ctx, { id: q.id }, await b.ctx.users.principalFor('olga'));
    expect(ack).toMatchObject({ officer: 'Olga Smirnova', user: 'olga', already: false });
    await delivered(b, ack.ack_id);
    await eventually(async () => ((await show(a.ctx.db, q.id)).message.acknowledged?.user === 'olga' ? true : undefined));
    expect(await caseState(a, q.id)).toBe('closed');
    clock.advance(60 * MIN);
    expect(await b.deadlines.runOnce()).toMatchObject({ decided: 0 });
    expect(await a.deadlines.runOnce()).toMatchObject({ decided: 0 });
    expect(await steps(b, q.id)).toEqual(['0']);
    expect(await listOverdue(a.ctx.db, clock.now())).toEqual([]);
  });

  it('ack --case acknowledges every unacknowledged message of the case the user may read; TLP:RED only by its recipient', async () => {
    const { ru, a, b } = await setup(true);
    // ru publishes that ivan may receive TLP:RED on crisis.
    await addContact(b.ctx, { channel: 'crisis', function: 'Duty officer', name: 'Ivan Petrov', user: 'ivan' });
    const pub = await publishDirectory(b.ctx);
    await delivered(b, pub.sent[0]!.id);
    const q = await send(a.ctx, INQUIRY);
    const more = await send(a.ctx, { ...INQUIRY, kind: 'notification', case: q.id, text: 'More scanning tonight.' });
    const red = await send(a.ctx, { ...INQUIRY, kind: 'notification', case: q.id, tlp: 'red', recipients: ['ivan'], text: 'Source: a liaison officer.' });
    await delivered(a, red.id);
    // olga may not read the red one: her acks cover the two others, in one run of the CLI.
    const byOlga = await hl(ru.home, 'ack', '--case', q.id, '--as', 'olga', '--json');
    expect(byOlga.code, byOlga.stderr).toBe(0);
    const olga = JSON.parse(byOlga.stdout) as { acked: { acknowledges: string; user: string; ack_id: string }[] };
    expect(olga.acked.map((x) => [x.acknowledges, x.user])).toEqual([[q.id, 'olga'], [more.id, 'olga']]);
    // Her acks were queued by another process (the CLI): let the node deliver them before comparing snapshots.
    for (const x of olga.acked) await delivered(b, x.ack_id);
    // Again: nothing left that olga may read; nothing is sent.
    const before = await snapshot(b);
    const again = await hl(ru.home, 'ack', '--case', q.id, '--as', 'olga');
    expect(again.stdout).toMatch(/Nothing to acknowledge in case/);
    expect(await snapshot(b)).toEqual(before);
    const byIvan = await ackCase(b.ctx, { case: q.id }, await b.ctx.users.principalFor('ivan'));
    expect(byIvan.acked.map((x) => [x.acknowledges, x.officer])).toEqual([[red.id, 'Ivan Petrov']]);
    await delivered(b, byIvan.acked[0]!.ack_id);
    await eventually(async () => ((await show(a.ctx.db, red.id)).message.acknowledged?.user === 'ivan' ? true : undefined));
    expect((await show(a.ctx.db, more.id)).message.acknowledged).toMatchObject({ officer: 'Olga Smirnova', user: 'olga' });
  });
});
