/**
 * bench:console — how fast a FLASH alert reaches a duty officer's screen (issue 11).
 *
 * Two real nodes (alpha sends, bravo receives), each its own `hotline start` process, peered on
 * loopback; Debian's Chromium (playwright-core) with bravo's console open on the queue, signed in
 * as a crisis officer. 200 FLASH crisis alerts (--alerts N) are POSTed to alpha's API at 2/s
 * (--rate R). In the page, a MutationObserver records `performance.timeOrigin + performance.now()`
 * when a queue row with the alert's id (`tr[data-id]`) is added; the bench compares it with
 * `Date.now()` taken just before the POST (same machine, same clock). Nothing polls the DOM: the
 * page's own path is SSE event → queue refetch → render.
 *
 * Also: the first load (navigation to the queue, signed in, cold cache, until the queue is
 * rendered) and the gzip size of the JavaScript that load fetched.
 * Bars (issue 11): p99 < 1,000 ms (aim 300 ms), first load < 1,000 ms, JS < 250 KB gzipped.
 * Prints a summary, updates its section of docs/benchmarks.md, and a last-line JSON object.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { withNode } from '../../src/adapters/cli/home.js';
import { writeDocs, DOCS } from '../federation/docs.js';
import { exited, logTail, makeNode, peer, stopNodes, type BenchNode } from '../federation/nodes.js';
import { cleanupSync, installCleanup, makeTempDir, removeTempDir, track } from '../federation/processes.js';
import { dist, type Dist } from '../federation/stats.js';
import { machine } from '../federation/system.js';

const MARKS = { start: '<!-- bench:console:start -->', end: '<!-- bench:console:end -->' };
const CHROMIUM = process.env.HOTLINE_CHROMIUM ?? '/usr/bin/chromium';
const OFFICER = { name: 'duty', password: 'bench-console-duty-officer-1', display: 'Duty Officer' };
const BAR = { p99: 1000, aim: 300, firstLoad: 1000, jsKb: 250 };

function alert(i: number): Record<string, unknown> {
  const now = Date.now();
  return {
    to: 'bravo', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber',
    text: `Significant incident affecting the energy sector (${i}); we request clarification.`,
    fields: {
      incident_category: 'ddos', affected_sectors: ['energy'], requested_actions: ['clarify'], confidence: 'high',
      observed_window: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString() },
    },
  };
}

/** Records, in the page, when each queue row first appears (no polling: a DOM observer). */
const OBSERVER = `(() => {
  const seen = {};
  window.__hotlineSeen = seen;
  const record = (el) => { const id = el.getAttribute('data-id'); if (id !== null && !(id in seen)) seen[id] = performance.timeOrigin + performance.now(); };
  new MutationObserver((muts) => {
    for (const m of muts) for (const n of m.addedNodes) {
      if (n.nodeType !== 1) continue;
      if (n.matches('tr[data-id]')) record(n);
      for (const r of n.querySelectorAll('tr[data-id]')) record(r);
    }
  }).observe(document.body, { childList: true, subtree: true });
  for (const r of document.querySelectorAll('tr[data-id]')) record(r);
  // Where the time goes: when the node's event reached the page (a second stream, the same session).
  const events = {};
  window.__hotlineEvents = events;
  new EventSource('/api/v1/events').addEventListener('message', (e) => { const id = JSON.parse(e.data).id; if (!(id in events)) events[id] = performance.timeOrigin + performance.now(); });
})()`;

const BIN = fileURLToPath(new URL('../../../bin/hotline.js', import.meta.url));

/** Starts each node as its own `hotline start` process; waits (up to 2 minutes: the machine may be busy) until it answers /healthz. */
async function startNodes(nodes: readonly BenchNode[]): Promise<void> {
  for (const n of nodes) {
    const fd = openSync(n.log, 'a');
    try { n.child = track(spawn(process.execPath, [BIN, 'start', '--home', n.home], { stdio: ['ignore', fd, fd] })); } finally { closeSync(fd); }
  }
  await Promise.all(nodes.map(async (n) => {
    for (let i = 0; i < 1200; i++) {
      if (exited(n)) throw new Error(`node ${n.party} exited during start-up:\n${logTail(n)}`);
      try { if ((await fetch(`${n.url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) return; } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`node ${n.party} did not answer /healthz within 2 minutes:\n${logTail(n)}`);
  }));
}

interface FirstLoad { ms: number; jsKbGzip: number; jsFiles: number }

/** A cold, signed-in load of bravo's console: until the queue says how many messages wait. */
async function firstLoad(browser: Browser, b: BenchNode): Promise<{ page: Page; load: FirstLoad }> {
  const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  const signin = await context.request.post(`${b.url}/api/v1/session`, { data: { user: OFFICER.name, password: OFFICER.password } });
  if (!signin.ok()) throw new Error(`sign-in on bravo failed: HTTP ${signin.status()} ${await signin.text()}`);
  const page = await context.newPage();
  const js: Promise<number>[] = [];
  page.on('response', (r) => {
    const type = r.headers()['content-type'] ?? '';
    if (r.request().resourceType() === 'script' || type.includes('javascript')) js.push(r.body().then((body) => gzipSync(body).length, () => 0));
  });
  // In the page, from navigation start: when the queue's count is first on screen (a DOM observer, as for the alerts).
  await page.addInitScript(`new MutationObserver((_, o) => {
    if (document.querySelector('.queue-count') !== null) { window.__queueShownAt = performance.now(); o.disconnect(); }
  }).observe(document, { childList: true, subtree: true })`);
  const t0 = Date.now();
  await page.goto(`${b.url}/`);
  await page.locator('.queue-count').waitFor();
  const outside = Date.now() - t0;
  const ms = Math.round(await page.evaluate('window.__queueShownAt') as number);
  process.stdout.write(`first load: queue on screen ${ms} ms after navigation start (seen from outside the browser after ${outside} ms)\n`);
  // Where the first load's time went (ms from navigation start): each resource's end, and the page's own milestones.
  const timeline = await page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const out = { html: Math.round(nav.responseEnd), domContentLoaded: Math.round(nav.domContentLoadedEventEnd), queueShown: Math.round(window.__queueShownAt) };
    for (const r of performance.getEntriesByType('resource')) out[new URL(r.name).pathname.replace(/^.*\\//, '')] = Math.round(r.responseEnd);
    return out;
  })()`) as Record<string, number>;
  process.stdout.write(`first load, ms from navigation start: ${Object.entries(timeline).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  const sizes = await Promise.all(js);
  return { page, load: { ms, jsKbGzip: Math.round(sizes.reduce((s, x) => s + x, 0) / 102.4) / 10, jsFiles: sizes.length } };
}

async function run(alerts: number, rate: number): Promise<{ latency: Dist; missing: number; load: FirstLoad; toEvent: Dist; eventToRow: Dist }> {
  const dir = makeTempDir('hotline-console-');
  const nodes: BenchNode[] = [];
  let browser: Browser | undefined;
  try {
    const a = await makeNode(dir, 'alpha');
    const b = await makeNode(dir, 'bravo');
    nodes.push(a, b);
    await peer(a, b);
    await withNode(b.home, async (ctx) => {
      await ctx.users.add({ name: OFFICER.name, role: 'officer', channels: 'crisis', display_name: OFFICER.display });
      await ctx.users.setPassword(OFFICER.name, OFFICER.password);
    });
    await startNodes(nodes);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    const { page, load } = await firstLoad(browser, b);
    await page.evaluate(OBSERVER);
    // The event stream is open once the page has had a moment after its first render.
    await page.waitForTimeout(500);

    const sentAt = new Map<string, number>();
    const start = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < alerts; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = Date.now();
      pending.push(fetch(`${a.url}/api/v1/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: JSON.stringify(alert(i)),
      }).then(async (r) => {
        const body = await r.text();
        const id = r.status === 202 ? (JSON.parse(body) as { id?: string }).id : undefined;
        if (id !== undefined) sentAt.set(id, t0); else process.stderr.write(`alert ${i}: HTTP ${r.status} ${body}\n`);
      }));
    }
    await Promise.all(pending);
    // Bounded wait for stragglers: up to 30 s after the last POST.
    let seen: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      seen = await page.evaluate('window.__hotlineSeen') as Record<string, number>;
      if ([...sentAt.keys()].every((id) => id in seen)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const latencies = [...sentAt].filter(([id]) => id in seen).map(([id, t0]) => Math.round(seen[id]! - t0));
    const events = await page.evaluate('window.__hotlineEvents') as Record<string, number>;
    const toEvent = [...sentAt].filter(([id]) => id in events).map(([id, t0]) => Math.round(events[id]! - t0));
    const eventToRow = [...sentAt.keys()].filter((id) => id in events && id in seen).map((id) => Math.round(seen[id]! - events[id]!));
    return { latency: dist(latencies), missing: alerts - latencies.length, load, toEvent: dist(toEvent), eventToRow: dist(eventToRow) };
  } finally {
    await browser?.close();
    await stopNodes(nodes);
    removeTempDir(dir);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { alerts: { type: 'string', default: '200' }, rate: { type: 'string', default: '2' }, 'no-docs': { type: 'boolean', default: false } } });
  const alerts = Number(values.alerts);
  const rate = Number(values.rate);
  if (!Number.isInteger(alerts) || alerts < 1 || !(rate > 0)) throw new Error('--alerts must be a positive integer and --rate a positive number');
  const m = machine();
  process.stdout.write(`bench:console — ${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${m.load1.toFixed(2)}: ${alerts} FLASH alerts at ${rate}/s to a console in Chromium…\n`);
  const { latency: l, missing, load, toEvent, eventToRow } = await run(alerts, rate);
  const met = { p99: l.p99 < BAR.p99 && missing === 0, load: load.ms < BAR.firstLoad, js: load.jsKbGzip < BAR.jsKb };
  const yes = (ok: boolean): string => (ok ? 'met' : '**not met**');
  process.stdout.write(`POST on alpha → row on bravo's screen: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms; missing ${missing}; bar p99 < ${BAR.p99} ms: ${met.p99 ? 'met' : 'NOT met'}\n`);
  process.stdout.write(`  of which POST → the node's event in the page: p50 ${toEvent.p50} ms, p99 ${toEvent.p99} ms; event → row on screen (queue re-read, render): p50 ${eventToRow.p50} ms, p99 ${eventToRow.p99} ms\n`);
  process.stdout.write(`first load of the queue: ${load.ms} ms (bar < ${BAR.firstLoad}); JavaScript: ${load.jsFiles} files, ${load.jsKbGzip} KB gzipped (bar < ${BAR.jsKb})\n`);
  if (values['no-docs'] !== true) {
    writeDocs([
      MARKS.start,
      '## Console (bench:console)',
      '',
      `\`npm run bench:console\`: two nodes (alpha, bravo), each its own \`hotline start\` process, peered on loopback; Debian's Chromium`,
      `(headless, playwright-core) with bravo's console open on the queue, signed in as a crisis officer. ${alerts} FLASH \`crisis-alert\``,
      `messages POSTed to alpha's API at ${rate}/s; per alert, from \`Date.now()\` just before the POST until a MutationObserver in the page`,
      "sees the alert's row (`tr[data-id]`) added to the queue (`performance.timeOrigin + performance.now()`, same machine clock).",
      "The page's path: bravo stores it → SSE `message` event → the queue query refetches GET /api/v1/queue → React renders the row.",
      'First load: a fresh browser context (cold cache) with a session cookie, from navigation start until the queue is rendered',
      '(a DOM observer in the page sees its count appear);',
      'the JavaScript it fetched, gzipped (gzip -6) here.',
      `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}; run ${m.date}; 1-minute load average at start ${m.load1.toFixed(2)}`,
      '(the machine is shared: other work on it skews every number).',
      '',
      '| measure | result | bar (issue 11) | |',
      '| --- | ---: | --- | --- |',
      `| POST on alpha → row on bravo's screen, p50 | ${l.p50} ms | | |`,
      `| p99 | **${l.p99} ms** | < ${BAR.p99} ms (aim ${BAR.aim} ms) | ${yes(met.p99)}${l.p99 < BAR.aim ? ', aim met' : ', aim not met'} |`,
      `| max | ${l.max} ms | | |`,
      `| alerts never on screen | ${missing} | 0 | |`,
      `| of which: POST → bravo's SSE event in the page, p50 / p99 | ${toEvent.p50} / ${toEvent.p99} ms | | |`,
      `| of which: event → row on screen (GET /api/v1/queue, render), p50 / p99 | ${eventToRow.p50} / ${eventToRow.p99} ms | | |`,
      `| first load of the queue (signed in, cold cache) | **${load.ms} ms** | < ${BAR.firstLoad} ms | ${yes(met.load)} |`,
      `| JavaScript of the first load (${load.jsFiles} files), gzipped | **${load.jsKbGzip} KB** | < ${BAR.jsKb} KB | ${yes(met.js)} |`,
      '',
      'What the first runs taught (same bench, load 16-18 on the 2 cores): p99 was 13.5 s, then 8.8 s, now under a second.',
      'Two causes in the page, none in the nodes: (1) every event invalidated the queue query, which cancels the read in',
      'flight and starts another; when a read took longer than the 500 ms between alerts, reads kept cancelling each other',
      'and the screen waited for a lull. Now an event during a read asks for one more read after it, never cancels.',
      '(2) The countdowns re-render the queue every second, and each row built new `Intl` formatters (about 800 a second',
      'with 200 rows): on a starved CPU that alone held the page. The formatters are now built once (web/src/i18n/time.tsx).',
      'The first load asks for the queue beside the session (not after it), one round trip less.',
      MARKS.end,
    ].join('\n'), MARKS);
    process.stdout.write(`updated ${DOCS}\n`);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'console', flash_to_screen_p50_ms: l.p50, flash_to_screen_p99_ms: l.p99, first_load_ms: load.ms, js_kb_gzip: load.jsKbGzip })}\n`);
}

installCleanup();
try {
  await main();
} catch (e) {
  process.stderr.write(`bench:console failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
} finally {
  cleanupSync();
}
