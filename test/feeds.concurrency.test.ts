/**
 * Feed runs beside the rest of the node (issue 9, items 13 and 14):
 * - a 200,000-row `hotline feed ingest` from the CLI while the node, a process of its own, receives
 *   a stream of messages from a peer: the CLI hands the run to the node, both complete, nothing is lost;
 * - an upload runs on a worker thread: while a 300,000-row run is in progress the node's main
 *   event loop is mostly idle, answers /healthz and receipts a FLASH, and a second upload is
 *   refused with `feeds_busy`; an upload over `feeds.maxUploadBytes` is refused with `body_too_large`;
 * - two runs that overlap see each other's duplicates: a record is reported once.
 * No clocks: waits are bounded by tries, and what is proved are orderings.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { feedRunDeps, openContext, type NodeContext } from '../src/context.js';
import type { RunningNode } from '../src/main.js';
import { appendAll } from '../src/modules/federation/federation.outbox.js';
import { ingestFeed, type RunReport } from '../src/modules/feeds/feeds.run.js';
import { silentLogger } from '../src/shared/logger.js';
import { BIN, ensureBuilt, ok, ROOT } from './helpers/cli.js';
import { eventually, fetchIdempotent, makeHome, peerAll, tempDir } from './helpers/nodes.js';
import { readStore, sleep, startProcesses, type NodeProcess } from './helpers/processes.js';

const ts = '2026-11-30T10:00:00Z';
const header = 'ip,port,timestamp,family,type,asn,country';

/** `n` distinct records: the odd ones in ru's prefix, the even ones in us's (domestic); all us's when `domestic`. */
function feed(n: number, domestic = false): string {
  const lines = [header];
  for (let i = 0; i < n; i++) {
    const j = domestic ? i : i >> 1;
    lines.push(`${i % 2 === 1 && !domestic ? '198.51.100' : '192.0.2'}.${j % 256},${1024 + (j >> 8)},${ts},mirai,infected,,`);
  }
  return `${lines.join('\n')}\n`;
}

const procs: NodeProcess[] = [];
const nodes: RunningNode[] = [];
const contexts: NodeContext[] = [];
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill9()));
  for (const n of nodes.splice(0)) await n.stop();
  await Promise.all(contexts.splice(0).map((c) => c.close()));
}, 120_000);

async function homes(extra: Parameters<typeof makeHome>[1] = {}): Promise<{ us: Awaited<ReturnType<typeof makeHome>>; ru: Awaited<ReturnType<typeof makeHome>>; dir: string }> {
  const dir = tempDir('hotline-feeds-conc-');
  const us = await makeHome('us', extra, dir);
  const ru = await makeHome('ru', {}, dir);
  await peerAll(us, ru);
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'us', '--prefixes', '192.0.2.0/24');
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'ru', '--prefixes', '198.51.100.0/24');
  return { us, ru, dir };
}

describe('the CLI and the running node share the store', () => {
  it('a 200,000-row feed ingest from the CLI and a stream of messages into the node process both complete; nothing is lost', async () => {
    ensureBuilt();
    const { us, ru, dir } = await homes();
    const file = join(dir, 'feed.csv');
    writeFileSync(file, feed(200_000));
    const [a, b] = await startProcesses([us, ru]);
    procs.push(a!, b!);
    // ru's outbox (written from here, delivered by ru's node process to us's node process).
    const ruCtx = await openContext(loadConfig(ru.home), { log: silentLogger });
    contexts.push(ruCtx);

    const child = spawn(process.execPath, [BIN, 'feed', 'ingest', file, '--json', '--no-progress', '--home', us.home], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
    let done = false;
    void exited.then(() => (done = true));

    // Messages go to us for as long as the ingest runs (and at least 1,000 of them).
    let sent = 0;
    const draft = { to: 'us', kind: 'notification', channel: 'cert', priority: 'routine', tlp: 'green' } as const;
    while (!done || sent < 500) {
      const res = await appendAll(ruCtx, Array.from({ length: 20 }, (_, i) => ({ ...draft, body: { text: `message ${sent + i + 1}` } })));
      expect(res.every((r) => !(r instanceof Error))).toBe(true);
      sent += 20;
      await sleep(100);
    }

    const code = await exited;
    expect(err).not.toMatch(/database is locked/);
    expect(code, err).toBe(0);
    const { id, report, ran_by } = JSON.parse(out) as { id: string; report: RunReport; ran_by: string };
    // The node ran it (the CLI handed it over as a job): its holder is the node's process.
    expect(ran_by).toBe('node');
    expect(readStore(us.home, (db) => db.prepare('select holder from feed_runs where id = ?').get(id))).toEqual({ holder: expect.stringContaining(`:${a!.child!.pid}:`) });
    expect(report).toMatchObject({ records: 200_000, rejected: 0, duplicates: 0, unrouted: 0 });
    expect(report.domestic.records).toBe(100_000);
    expect(report.peers.find((p) => p.party === 'ru')!.records).toBe(100_000);
    expect(readStore(us.home, (db) => db.prepare('select state from feed_runs where id = ?').get(id))).toEqual({ state: 'complete' });
    // Every message of the stream reached us, once.
    const inbound = (): number => readStore(us.home, (db) => (db.prepare("select count(*) as n from messages where direction = 'in' and kind = 'notification' and from_party = 'ru'").get() as { n: number }).n);
    await eventually(async () => (inbound() >= sent ? true : undefined), 2400, 50);
    expect(inbound()).toBe(sent);
    // And every record reached the store it was routed to: us's domestic collection holds its 100,000 addresses' entries.
    const observed = readStore(us.home, (db) => (db.prepare("select count(*) as n from stix_objects where type = 'observed-data'").get() as { n: number }).n);
    expect(observed).toBe(100_000);
    await Promise.all(procs.splice(0).map((p) => p.kill9()));
  }, 1_800_000);
});

describe('feed runs on a worker thread of the node', () => {
  let a: RunningNode;
  let b: RunningNode;
  let token: string;

  it('while a 300,000-row upload runs, the main event loop stays mostly idle, /healthz answers, a FLASH is receipted, and a second upload is refused', async () => {
    ensureBuilt('src/adapters/http/feeds.worker.js');
    const { us, ru } = await homes();
    token = us.token;
    a = await us.start();
    b = await ru.start();
    nodes.push(a, b);
    // All domestic: what this process's main thread does during the run is the node's own work
    // (and this test's polling), not delivering bundles to ru, which runs in this process too.
    const elu0 = performance.eventLoopUtilization();
    const up = await fetch(`${a.address}/api/v1/feed-runs?source=big`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: feed(300_000, true) });
    expect(up.status).toBe(202);
    const { id } = (await up.json()) as { id: string };
    // 404 until the worker has recorded the run.
    const run = async (): Promise<{ state: string; report: RunReport }> => {
      const r = await fetchIdempotent(`${a.address}/api/v1/feed-runs/${id}`, { headers: { authorization: `Bearer ${token}` } });
      return r.status === 404 ? { state: 'starting', report: { records: 0 } as RunReport } : ((await r.json()) as { state: string; report: RunReport });
    };
    // The run is under way: it has written part of the feed, not all.
    await eventually(async () => ((await run()).report.records > 0 ? true : undefined), 2400, 50);

    // A second upload while it runs: refused, nothing recorded.
    const second = await fetch(`${a.address}/api/v1/feed-runs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: feed(10) });
    expect(second.status).toBe(503);
    expect(((await second.json()) as { code: string }).code).toBe('feeds_busy');
    expect((await fetch(`${a.address}/healthz`)).status).toBe(200);

    // A FLASH from ru, receipted by us while the run is still going.
    const flash = await fetch(`${b.address}/api/v1/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${ru.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'us', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'Flash during a feed run' }),
    });
    expect(flash.status).toBe(202);
    const flashId = ((await flash.json()) as { id: string }).id;
    await eventually(async () => {
      const m = await b.ctx.db.selectFrom('messages').select('receipt').where('id', '=', flashId).executeTakeFirst();
      return m?.receipt != null ? true : undefined;
    }, 2400, 25);
    const during = await run();
    expect(during.state).toBe('running');
    expect(during.report.records).toBeLessThan(300_000);

    const done = await eventually(async () => {
      const r = await run();
      return r.state === 'running' || r.state === 'starting' ? undefined : r;
    }, 12_000, 50);
    expect(done.state).toBe('complete');
    expect(done.report).toMatchObject({ records: 300_000, duplicates: 0 });
    // The pipeline's work was on the worker: the main thread was idle for most of the run.
    const elu = performance.eventLoopUtilization(elu0);
    expect(elu.utilization).toBeLessThan(0.5);
  }, 1_800_000);

  it('an upload over feeds.maxUploadBytes is refused with body_too_large, and no run is recorded', async () => {
    const { us } = await homes({ feeds: { maxUploadBytes: 1000 } });
    const c = await us.start();
    nodes.push(c);
    const r = await fetch(`${c.address}/api/v1/feed-runs`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'text/csv' }, body: feed(100) });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { code: string }).code).toBe('body_too_large');
    expect(await c.ctx.db.selectFrom('feed_runs').selectAll().execute()).toEqual([]);
  }, 600_000);
});

describe('runs that overlap', () => {
  it('see each other\'s duplicates: a record both carry is reported once', async () => {
    ensureBuilt('src/modules/feeds/feeds.stage.worker.js');
    const { us } = await homes();
    const ctx = await openContext(loadConfig(us.home), { log: silentLogger });
    contexts.push(ctx);
    const deps = await feedRunDeps(ctx);
    /** An input that signals when it is first read (its run has loaded the keys) and waits for `go`. */
    const gated = (text: string): { input: AsyncIterable<string>; reading: Promise<void>; go: () => void } => {
      let started!: () => void;
      let go!: () => void;
      const reading = new Promise<void>((r) => (started = r));
      const gate = new Promise<void>((r) => (go = r));
      return {
        reading, go,
        input: (async function* () {
          started();
          await gate;
          yield text;
        })(),
      };
    };
    const text = feed(2000);
    const one = gated(text);
    const two = gated(text);
    const opts = { inputName: 'x', format: 'csv' as const, tlp: 'green' as const, windowMinutes: 24 * 60, keepDays: 2 };
    const first = ingestFeed(deps, { ...opts, input: one.input, source: 'one' });
    const second = ingestFeed(deps, { ...opts, input: two.input, source: 'two' });
    // Both runs have loaded the keys reported so far (none) before either reports anything.
    await Promise.all([one.reading, two.reading]);
    one.go();
    const r1 = (await first).report;
    two.go();
    const r2 = (await second).report;
    expect(r1).toMatchObject({ records: 2000, duplicates: 0 });
    expect(r2).toMatchObject({ records: 2000, duplicates: 2000 });
    expect(r2.domestic.records + (r2.peers.find((p) => p.party === 'ru')?.records ?? 0)).toBe(0);
    expect(r2.peers.flatMap((p) => p.messages)).toEqual([]);
    // Each address's observed data once in the domestic collection; one message's worth of sightings to ru.
    const observed = await ctx.db.selectFrom('stix_objects').select((e) => e.fn.countAll<number>().as('n')).where('type', '=', 'observed-data').executeTakeFirstOrThrow();
    expect(Number(observed.n)).toBe(1000);
  }, 600_000);
});
