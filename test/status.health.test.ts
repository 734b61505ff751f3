/**
 * Issue 10 item 9, health a person and Prometheus can see, on two real nodes on loopback with a
 * fake clock: `hotline status` and GET /api/v1/status show each link (last receipt, backlog, last
 * error code), the queue by priority, overdue, the sinks' failures, the last feed run and the
 * store's size; /metrics has the same numbers as gauges, computed at scrape time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode, StartOptions } from '../src/main.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { settleRun } from '../src/modules/feeds/feeds.run.js';
import type { NodeStatus } from '../src/modules/health/health.service.js';
import { FakeClock } from '../src/shared/clock.js';
import { api, usersWithTokens } from './helpers/api.js';
import { delivered } from './helpers/cases.js';
import { json, ok } from './helpers/cli.js';
import { makePair, type TestHome, type TestStore } from './helpers/nodes.js';
import { describePg } from './helpers/pg.js';
import { webhookReceiver, type WebhookReceiver } from './helpers/webhook.js';

const MIN = 60_000;
const running: RunningNode[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const FLASH = { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'Scanning of grid control systems from your networks: please clarify.' };
const ROUTINE = { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'Phishing wave against banks, for your information.' };

async function setup(store: TestStore): Promise<{ us: TestHome; ru: TestHome; a: RunningNode; b: RunningNode; hook: WebhookReceiver; clock: FakeClock; opts: StartOptions }> {
  const hook = await webhookReceiver();
  receivers.push(hook);
  const clock = new FakeClock(Date.now());
  const [us, ru] = await makePair({ notify: { webhook: { url: `${hook.url}/node` } } }, { store });
  const opts: StartOptions = { clock, runPings: false, runReminders: false, runDeadlines: false };
  const a = await us.start(opts);
  const b = await ru.start(opts);
  running.push(a, b);
  return { us, ru, a, b, hook, clock, opts };
}

/** The value of one sample of a Prometheus text exposition, or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(n: RunningNode, token: string): Promise<string> {
  const r = await fetch(`${n.address}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return r.text();
}

/** The same checks on each store: SQLite files, and (describePg) each node on its own PostgreSQL database. */
function statusTests(store: TestStore): void {
  it('the receiver: the queue by priority, overdue once past the due time, the oldest age, the sinks\' failures; the same numbers in /metrics', async () => {
    const { ru, a, b, hook, clock } = await setup(store);
    const t0 = clock.now();
    const flash = await send(a.ctx, FLASH);
    const routine = await send(a.ctx, ROUTINE);
    await delivered(a, flash.id);
    await delivered(a, routine.id);

    // The CLI, on the receiver's home while it runs.
    const s = await json<NodeStatus & { running: boolean; pid: number | null }>(ru.home, 'status');
    expect(s.queue.by_priority).toEqual({ flash: 1, immediate: 0, priority: 0, routine: 1 });
    expect(s.queue.total).toBe(2);
    expect(s.running).toBe(true);
    expect(s.pid).toBe(process.pid);
    expect(s.store.bytes).toBeGreaterThan(0);
    expect(s.last_feed_run).toBeNull();
    expect(s.links.map((l) => [l.party, l.backlog])).toEqual([['us', 0]]);
    expect(s.links[0]!.last_received_at).not.toBeNull();
    const screen = await ok(ru.home, 'status');
    // On PostgreSQL each process is listed with its host (several may share the store: hotline status).
    expect(screen).toMatch(store === 'postgres' ? /running \(pid \d+ on host \S+\) on http:\/\/127\.0\.0\.1:\d+/ : /running \(pid \d+\) on http:\/\/127\.0\.0\.1:\d+/);
    expect(screen).toContain('FLASH 1  IMMEDIATE 0  PRIORITY 0  ROUTINE 1');
    expect(screen).toMatch(/Links\n\s+PEER\s+BACKLOG/);
    expect(screen).toContain('Last feed run\n  none');
    // The store: the SQLite file with its write-ahead log, or the PostgreSQL database (its URL, the database's size).
    expect(screen).toMatch(store === 'sqlite' ? /\nStore +\S+hotline\.db: [\d.]+ (B|KiB|MiB) \(\+ [\d.]+ (B|KiB|MiB) write-ahead log\)/ : /\nStore +postgres:\/\/[^\s:]+@[\w.]+:\d+\/hotline_node_\w+: [\d.]+ (KiB|MiB)\n/);

    // 11 minutes on the node's clock: the FLASH (10 min) is overdue, the routine one is not.
    clock.advance(11 * MIN);
    const call = api(b.address);
    const st = await call('/api/v1/status', ru.token);
    expect(st.status).toBe(200);
    const q = st.json.queue as NodeStatus['queue'];
    expect(q).toMatchObject({ total: 2, overdue: 1, overdue_sent: 0, oldest_age_s: Math.round((clock.now() - t0) / 1000) });
    let m = await scrape(b, ru.token);
    expect(sample(m, 'hotline_unacknowledged', 'priority="flash"')).toBe(1);
    expect(sample(m, 'hotline_unacknowledged', 'priority="immediate"')).toBe(0);
    expect(sample(m, 'hotline_unacknowledged', 'priority="routine"')).toBe(1);
    expect(sample(m, 'hotline_overdue', 'direction="in"')).toBe(1);
    expect(sample(m, 'hotline_oldest_unacknowledged_age_seconds')).toBe((clock.now() - t0) / 1000);
    expect(sample(m, 'hotline_sink_failures', 'sink="webhook",state="retrying"')).toBe(0);

    // The node's webhook refuses: its escalations are retrying, and both screens say so.
    hook.failNext(1000);
    await b.deadlines.runOnce();
    m = await scrape(b, ru.token);
    expect(sample(m, 'hotline_sink_failures', 'sink="webhook",state="retrying"')).toBeGreaterThan(0);
    const sinks = (await call('/api/v1/status', ru.token)).json.sinks as NodeStatus['sinks'];
    expect(sinks).toHaveLength(1);
    expect(sinks[0]).toMatchObject({ sink: 'webhook', target: `${hook.url}/node`, failed: 0 });
    expect(sinks[0]!.retrying).toBeGreaterThan(0);
    expect(sinks[0]!.last_error).toMatch(/500/);
    expect(await ok(ru.home, 'status')).toMatch(/Sinks\n\s+webhook http:\/\/127\.0\.0\.1:\d+\/node: 0 failed, \d+ retrying; last \S+ at .*500/);

    // Acknowledged: out of the queue.
    await ok(ru.home, 'ack', flash.id);
    m = await scrape(b, ru.token);
    expect(sample(m, 'hotline_unacknowledged', 'priority="flash"')).toBe(0);
    expect(sample(m, 'hotline_overdue', 'direction="in"')).toBe(0);
  });

  it('the sender: per-peer backlog and last receipt age while the peer is down; sent-and-overdue; officers may not read the status', async () => {
    const { us, a, b, clock } = await setup(store);
    const first = await send(a.ctx, FLASH);
    await delivered(a, first.id);
    const receiptAt = clock.now();
    await b.stop();
    running.splice(running.indexOf(b), 1);
    clock.advance(11 * MIN);
    await send(a.ctx, ROUTINE);
    await send(a.ctx, ROUTINE);
    await a.delivery.runOnce(); // ru is down: the link fails

    const m = await scrape(a, us.token);
    expect(sample(m, 'hotline_peer_backlog', 'peer="ru"')).toBe(2);
    expect(sample(m, 'hotline_peer_last_receipt_age_seconds', 'peer="ru"')).toBe((clock.now() - receiptAt) / 1000);
    expect(sample(m, 'hotline_peer_key_mismatch', 'peer="ru"')).toBe(0);
    expect(sample(m, 'hotline_overdue', 'direction="out"')).toBe(1);

    const call = api(a.address);
    const st = await call('/api/v1/status', us.token);
    expect(st.status).toBe(200);
    const link = (st.json.links as NodeStatus['links'])[0]!;
    expect(link).toMatchObject({ party: 'ru', backlog: 2, last_error_code: 'peer_unreachable', last_receipt_age_s: (clock.now() - receiptAt) / 1000 });
    expect(link.attempts).toBeGreaterThan(0);
    expect((st.json.queue as NodeStatus['queue']).overdue_sent).toBe(1);
    expect(await ok(us.home, 'status')).toMatch(/ru\s+2\s+\S+ \(\d+[smhd].* ago\)\s+never\s+failing: peer_unreachable/);

    // The last feed run (here one whose worker failed before it started).
    await settleRun(a.ctx.db, { id: 'run-1', source: 'shadowserver-infected', input: 'sinkhole.csv' }, 'the parse worker failed: out of memory', 'failed', clock.now());
    expect((await call('/api/v1/status', us.token)).json.last_feed_run).toMatchObject({ id: 'run-1', source: 'shadowserver-infected', state: 'failed', records: 0, error: 'the parse worker failed: out of memory' });
    expect(await ok(us.home, 'status')).toMatch(/Last feed run\n  run-1 shadowserver-infected failed, started \S+, finished \S+, 0 records: the parse worker failed: out of memory/);

    const officer = (await usersWithTokens(call, us.token, { olga: ['crisis'] })).olga!;
    const denied = await call('/api/v1/status', officer);
    expect([denied.status, denied.json.code]).toEqual([403, 'forbidden']);
  });
}

describe('hotline status, GET /api/v1/status and /metrics', () => statusTests('sqlite'));
describePg('hotline status, GET /api/v1/status and /metrics on PostgreSQL', () => statusTests('postgres'));
