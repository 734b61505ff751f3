/**
 * bench:crisis-alert — a FLASH crisis alert from A's REST API to B's inbox API, as a desk officer
 * would see it: 1,000 alerts at 20/s (flags --alerts N --rate R); per alert, the time from just
 * before the POST on A until the alert is listed by B's GET /api/v1/messages (polled every 5 ms,
 * so each figure includes up to 5 ms of polling), and until it is first in B's duty officer's queue,
 * GET /api/v1/queue (issue 10; polled the same way, up to 1,000 unacknowledged alerts, as nobody
 * acknowledges them). Bar (design.md §10): p99 < 1 s for both.
 * Prints a summary, updates its section of docs/benchmarks.md, and a last-line JSON object.
 */
import { parseArgs } from 'node:util';
import { makePoster, type JsonPoster } from '../load.js';
import { writeDocs, DOCS } from './docs.js';
import { makeNode, peer, startNodes, stopNodes, type BenchNode } from './nodes.js';
import { cleanupSync, installCleanup, makeTempDir, removeTempDir } from './processes.js';
import { dist, type Dist } from './stats.js';
import { machine } from './system.js';

const MARKS = { start: '<!-- bench:crisis-alert:start -->', end: '<!-- bench:crisis-alert:end -->' };
const POLL_MS = 5;
const BAR_P99_MS = 1000;

function alert(i: number): Record<string, unknown> {
  const now = Date.now();
  return {
    to: 'bravo', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber',
    text: `Significant incident affecting the energy sector, apparently from your networks (${i}); we request clarification.`,
    fields: {
      incident_category: 'intrusion', affected_sectors: ['energy'], requested_actions: ['clarify', 'investigate'], confidence: 'medium',
      observed_window: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString() },
      indicators: ['198.51.100.7'],
    },
  };
}

async function inboxIds(b: BenchNode): Promise<string[]> {
  const res = await fetch(`${b.url}/api/v1/messages?direction=in&limit=100`, { headers: { authorization: `Bearer ${b.token}` } });
  const json = (await res.json()) as { messages?: { id: string }[] };
  return (json.messages ?? []).map((m) => m.id);
}

async function queueIds(b: BenchNode): Promise<string[]> {
  const res = await fetch(`${b.url}/api/v1/queue?limit=1000`, { headers: { authorization: `Bearer ${b.token}` } });
  const json = (await res.json()) as { queue?: { id: string }[] };
  return (json.queue ?? []).map((m) => m.id);
}

async function run(alerts: number, rate: number): Promise<{ latency: Dist; missing: number; queue: Dist; queueMissing: number }> {
  const dir = makeTempDir('hotline-crisis-');
  const nodes: BenchNode[] = [];
  let post: JsonPoster | undefined;
  try {
    const a = await makeNode(dir, 'alpha');
    const b = await makeNode(dir, 'bravo');
    nodes.push(a, b);
    await peer(a, b);
    await startNodes(nodes, undefined);
    const poster = makePoster('http', a.url, { authorization: `Bearer ${a.token}` }, 16);
    post = poster;
    const sentAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    const queuedAt = new Map<string, number>();
    let polling = true;
    let lastSent = Date.now();
    const poll = async (ids: (b: BenchNode) => Promise<string[]>, seen: Map<string, number>): Promise<void> => {
      while (polling || seen.size < sentAt.size) {
        for (const id of await ids(b)) if (!seen.has(id)) seen.set(id, Date.now());
        if (!polling && seen.size >= sentAt.size) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (!polling && Date.now() - lastSent > 30_000) break; // bounded: give up on stragglers
      }
    };
    const poller = Promise.all([poll(inboxIds, seenAt), poll(queueIds, queuedAt)]);
    const start = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < alerts; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = Date.now();
      lastSent = t0;
      pending.push(poster.post('/api/v1/messages', JSON.stringify(alert(i))).then((r) => {
        const id = r.status === 202 ? (JSON.parse(r.text) as { id?: string }).id : undefined;
        if (r.status === 202 && id !== undefined) sentAt.set(id, t0);
        else process.stderr.write(`alert ${i}: HTTP ${r.status}\n`);
      }));
    }
    await Promise.all(pending);
    polling = false;
    await poller;
    const latencies = [...sentAt].filter(([id]) => seenAt.has(id)).map(([id, t0]) => seenAt.get(id)! - t0);
    const queued = [...sentAt].filter(([id]) => queuedAt.has(id)).map(([id, t0]) => queuedAt.get(id)! - t0);
    return {
      latency: dist(latencies), missing: sentAt.size - latencies.length + (alerts - sentAt.size),
      queue: dist(queued), queueMissing: sentAt.size - queued.length + (alerts - sentAt.size),
    };
  } finally {
    post?.close();
    await stopNodes(nodes);
    removeTempDir(dir);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { alerts: { type: 'string', default: '1000' }, rate: { type: 'string', default: '20' }, 'no-docs': { type: 'boolean', default: false } } });
  const alerts = Number(values.alerts);
  const rate = Number(values.rate);
  if (!Number.isInteger(alerts) || alerts < 1 || !(rate > 0)) throw new Error('--alerts must be a positive integer and --rate a positive number');
  const m = machine();
  process.stdout.write(`bench:crisis-alert — ${m.cpu}, ${m.cores} cores, Node ${m.node}: ${alerts} FLASH alerts at ${rate}/s…\n`);
  const { latency: l, missing, queue: q, queueMissing } = await run(alerts, rate);
  const met = l.p99 < BAR_P99_MS && missing === 0;
  const qMet = q.p99 < BAR_P99_MS && queueMissing === 0;
  process.stdout.write(`send on A → listed by B's inbox API: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms; missing ${missing}; bar p99 < ${BAR_P99_MS} ms: ${met ? 'met' : 'NOT met'}\n`);
  process.stdout.write(`send on A → first in B's queue API: p50 ${q.p50} ms, p99 ${q.p99} ms, max ${q.max} ms; missing ${queueMissing}; bar p99 < ${BAR_P99_MS} ms: ${qMet ? 'met' : 'NOT met'}\n`);
  if (values['no-docs'] !== true) {
    writeDocs([
      MARKS.start,
      '## Crisis alert (bench:crisis-alert)',
      '',
      `\`npm run bench:crisis-alert\`: ${alerts} FLASH \`crisis-alert\` messages (templated, coded fields) POSTed to A at ${rate}/s;`,
      "per alert, from just before the POST on A until B's `GET /api/v1/messages` lists it, and until B's duty-officer queue",
      '`GET /api/v1/queue` (up to 1,000 unacknowledged FLASH alerts) has it (each polled every 5 ms).',
      `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}; run ${new Date().toISOString()}.`,
      '',
      '| measure | result | bar (design.md §10) | |',
      '| --- | ---: | --- | --- |',
      `| send on A → on B's inbox API, p50 | ${l.p50} ms | | |`,
      `| p99 | **${l.p99} ms** | < ${BAR_P99_MS} ms | ${met ? 'met' : '**not met**'} |`,
      `| max | ${l.max} ms | | |`,
      `| alerts not seen on B | ${missing} | 0 | |`,
      `| send on A → in B's queue API (GET /api/v1/queue), p50 | ${q.p50} ms | | |`,
      `| p99 | **${q.p99} ms** | < ${BAR_P99_MS} ms | ${qMet ? 'met' : '**not met**'} |`,
      `| alerts not in B's queue | ${queueMissing} | 0 | |`,
      MARKS.end,
    ].join('\n'), MARKS);
    process.stdout.write(`updated ${DOCS}\n`);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'crisis-alert', p50_ms: l.p50, p99_ms: l.p99, queue_p50_ms: q.p50, queue_p99_ms: q.p99 })}\n`);
}

installCleanup();
try {
  await main();
} catch (e) {
  process.stderr.write(`bench:crisis-alert failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
} finally {
  cleanupSync();
}
