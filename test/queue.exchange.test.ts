/**
 * Issue 10, "how it is checked": between two real nodes on loopback, a 10,000-record feed run
 * (machine traffic: `indicators` messages) and a FLASH crisis alert arrive together; on the
 * receiver the FLASH is first in `hotline queue` and GET /api/v1/queue, nothing from the feed is
 * in it, and the feed's messages have no deadline and page nobody on either side.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import type { RunReport } from '../src/modules/feeds/feeds.run.js';
import { api } from './helpers/api.js';
import { ensureBuilt, json, ok } from './helpers/cli.js';
import { eventually, makePair, tempDir, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
const dir = tempDir('hotline-queue-');
const RECORDS = 10_000;

interface QueueItem { id: string; priority: string; kind: string; from: string; summary: string }

const FIELDS = {
  incident_category: 'ddos', affected_sectors: ['energy'], observed_window: { from: '2026-11-30T08:00:00Z', to: '2026-11-30T09:00:00Z' },
  requested_actions: ['mitigate'], confidence: 'high',
};

beforeAll(async () => {
  ensureBuilt();
  [us, ru] = await makePair();
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'ru', '--prefixes', '10.0.0.0/8');
  a = await us.start();
  b = await ru.start();
}, 120_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
}, 120_000);

describe('the queue under a feed run', () => {
  it('a FLASH arriving with a 10,000-record feed run is first in the receiver\'s queue; nothing from the feed is in it or pages anyone', async () => {
    const rows = Array.from({ length: RECORDS }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},443,2026-11-30T10:00:00Z,mirai,infected,,`);
    writeFileSync(join(dir, 'feed.csv'), ['ip,port,timestamp,family,type,asn,country', ...rows].join('\n') + '\n');
    const routine = (await ok(us.home, 'send', '--to', 'ru', '--channel', 'cert', '--kind', 'notification', '--priority', 'routine', '--text', 'Weekly summary')).trim();
    // The run and the alert together: the alert goes through the node's REST API while the CLI runs the feed.
    const [run, sent] = await Promise.all([
      json<{ report: RunReport }>(us.home, 'feed', 'ingest', join(dir, 'feed.csv'), '--source', 'sinkhole', '--tlp', 'green'),
      api(a.address)('/api/v1/messages', us.token, {
        method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber', fields: FIELDS, text: 'Grid operator under attack', lang: 'en' },
      }),
    ]);
    expect(sent.status).toBe(202);
    const flash = String(sent.json!.id);
    const feedMessages = run.report.peers.find((p) => p.party === 'ru')!.messages.length;
    expect(run.report.records).toBe(RECORDS);
    expect(feedMessages).toBeGreaterThan(0);

    // Everything arrived: the feed's indicators messages, the alert and the notification.
    await eventually(async () => {
      const n = await b.ctx.db.selectFrom('messages').select((e) => e.fn.countAll<number>().as('n')).where('direction', '=', 'in').where('kind', '=', 'indicators').executeTakeFirstOrThrow();
      const alert = await b.ctx.db.selectFrom('messages').select('id').where('id', 'in', [flash, routine]).execute();
      return Number(n.n) === feedMessages && alert.length === 2 ? true : undefined;
    });

    const queue = (await json<{ queue: QueueItem[] }>(ru.home, 'queue')).queue;
    expect(queue[0]).toMatchObject({ id: flash, priority: 'flash', kind: 'crisis-alert', from: 'us' });
    expect(queue.map((i) => i.id)).toEqual([flash, routine]);
    expect(queue.filter((i) => i.kind === 'indicators')).toEqual([]);
    const rest = await api(b.address)('/api/v1/queue', ru.token);
    expect((rest.json!.queue as QueueItem[]).map((i) => i.id)).toEqual([flash, routine]);

    // Machine traffic has no deadline on either side, so it can never escalate nor be overdue.
    for (const node of [a, b]) {
      const deadlines = await node.ctx.db.selectFrom('deadlines').select('kind').execute();
      expect(deadlines.map((d) => d.kind).sort()).toEqual(['crisis-alert', 'notification']);
    }
    // The inbox still lists the feed's messages for whoever looks for them.
    expect((await json<{ messages: unknown[] }>(ru.home, 'inbox', '--kind', 'indicators', '--limit', '1000')).messages).toHaveLength(feedMessages);
  });
});
