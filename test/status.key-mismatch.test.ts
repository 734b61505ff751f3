/**
 * Issue 10 item 9: a peer whose receipts stop verifying (ru reinstalled with a new key, same
 * party and address) is an alert through the sinks, once per incident however often delivery
 * retries, and `key_mismatch` as the link's last error code in `peer list`, `hotline status` and
 * /metrics; not only a warning in the log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { generateKeys } from '../src/modules/identity/identity.keys.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import type { NodeStatus } from '../src/modules/health/health.service.js';
import { FakeClock } from '../src/shared/clock.js';
import { delivered } from './helpers/cases.js';
import { json, ok } from './helpers/cli.js';
import { makePair } from './helpers/nodes.js';
import { webhookReceiver, type WebhookReceiver } from './helpers/webhook.js';

const running: RunningNode[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const NOTE = { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'For your information.' };

describe('a peer reinstalled with a new key', () => {
  it('key_mismatch on the link (peer list, status, metrics) and one alert through the sinks per incident, not per retry', async () => {
    const hook = await webhookReceiver();
    receivers.push(hook);
    const clock = new FakeClock(Date.now());
    const [us, ru] = await makePair({ notify: { webhook: { url: `${hook.url}/us` } } });
    const opts = { clock, runPings: false, runReminders: false, runDeadlines: false, runDelivery: false };
    const a = await us.start(opts);
    running.push(a);
    let b = await ru.start(opts);
    running.push(b);
    const before = await send(a.ctx, NOTE);
    await a.delivery.runOnce();
    await delivered(a, before.id);

    // ru is reinstalled: same party, same address, a new key; it still accepts us's envelopes.
    await b.stop();
    running.splice(running.indexOf(b), 1);
    writeFileSync(join(ru.home, 'node.key'), generateKeys().privatePem, { mode: 0o600 });
    b = await ru.start(opts);
    running.push(b);

    await send(a.ctx, NOTE);
    for (let i = 0; i < 4; i++) {
      clock.advance(120_000); // past any backoff: each pass retries
      await a.delivery.runOnce();
    }
    const link = await a.ctx.db.selectFrom('links').selectAll().where('from_party', '=', 'us').where('to_party', '=', 'ru').executeTakeFirstOrThrow();
    expect(link.attempts).toBe(4);
    // The first attempt found the receipt wrong; the retries after it sent only a key challenge
    // (issue 12, protocol section 9.4), which ru's new key cannot answer.
    expect(link.last_error).toMatch(/^key_mismatch: ru at http:\/\/127\.0\.0\.1:\d+ did not prove it holds its pinned key \(fingerprint [\d ]+\): its signature does not verify with the pinned key; nothing was sent \(seq 2 onwards wait\)/);

    const peers = await json<{ peers: { party: string; delivery: { last_error_code: string | null; pending: number } }[] }>(us.home, 'peer', 'list');
    expect(peers.peers[0]!.delivery).toMatchObject({ last_error_code: 'key_mismatch', pending: 1 });
    expect(await ok(us.home, 'peer', 'list')).toMatch(/ru .* failing: key_mismatch \(4 attempts, 1 pending\)/);
    const s = await json<NodeStatus>(us.home, 'status');
    expect(s.links[0]).toMatchObject({ party: 'ru', last_error_code: 'key_mismatch', backlog: 1 });
    expect(await ok(us.home, 'status')).toContain('failing: key_mismatch (4 attempts): it did not prove it holds the pinned key, or its receipts do not verify with it');
    const m = await (await fetch(`${a.address}/metrics`, { headers: { authorization: `Bearer ${us.token}` } })).text();
    expect(m).toContain('hotline_peer_key_mismatch{peer="ru"} 1');

    // One notification for the incident, four failed attempts; the sinks get it.
    const notes = await a.ctx.db.selectFrom('notifications').selectAll().where('message_id', 'like', 'key-mismatch:%').execute();
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message_id).toBe('key-mismatch:ru');
    await a.deadlines.runOnce();
    const hits = hook.ok().filter((h) => h.body.type === 'key-mismatch');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.body).toMatchObject({ type: 'key-mismatch', peer: 'ru', seq: 2, pinned_fingerprints: [ru.fingerprint] });
    expect(String(hits[0]!.body.action)).toMatch(/compare fingerprints/);

    // Another failure in between (ru down) ends the incident; the key mismatch again is a new one.
    await b.stop();
    running.splice(running.indexOf(b), 1);
    clock.advance(120_000);
    await a.delivery.runOnce();
    expect(await json<{ peers: { delivery: { last_error_code: string } }[] }>(us.home, 'peer', 'list')).toMatchObject({ peers: [{ delivery: { last_error_code: 'peer_unreachable' } }] });
    b = await ru.start(opts);
    running.push(b);
    clock.advance(300_000);
    await a.delivery.runOnce();
    clock.advance(300_000);
    await a.delivery.runOnce();
    expect(await a.ctx.db.selectFrom('notifications').select('id').where('message_id', '=', 'key-mismatch:ru').execute()).toHaveLength(2);
  });
});
