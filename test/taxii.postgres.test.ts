/**
 * TAXII and the botnet exchange on PostgreSQL, end to end: two real nodes, each with its store
 * in a PostgreSQL database of its own (`hotline init --database <url>`), do what two SQLite
 * nodes do: a TAXII POST of more objects than one stored batch, GET by pages following `next`
 * (objects, every version, the manifest, a type), and a feed run whose records go to the peer's
 * collection inbound-<us> as indicators messages. The same steps on two SQLite nodes give the
 * same answers, compared as data.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withNode } from '../src/adapters/cli/home.js';
import { freePort } from '../src/adapters/cli/commands/demo.js';
import { initHome } from '../src/adapters/cli/commands/init.js';
import { loadConfig } from '../src/config.js';
import { startNode, type RunningNode } from '../src/main.js';
import { makeDescriptor, parseDescriptor } from '../src/modules/federation/federation.peers.js';
import type { RunReport } from '../src/modules/feeds/feeds.run.js';
import { silentLogger } from '../src/shared/logger.js';
import { ensureBuilt } from './helpers/cli.js';
import { eventually, tempDir } from './helpers/nodes.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/pg.js';
import { indicator, malware, taxiiClient } from './helpers/taxii.js';

type Obj = Record<string, unknown>;

interface Home { party: string; home: string; token: string; fingerprint: string; descriptor: ReturnType<typeof makeDescriptor> }

async function makeHome(dir: string, party: string, database: string | undefined): Promise<Home> {
  const port = await freePort();
  const home = join(dir, party);
  const r = await initHome({ home, party, name: `${party.toUpperCase()} test node`, listen: `127.0.0.1:${port}`, ...(database === undefined ? {} : { database }) });
  const descriptor = await withNode(home, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
  return { party, home, token: r.token, fingerprint: r.fingerprint, descriptor };
}

/** The same input for both stores: fixed ids, several versions of one malware object. */
const OBJECTS: Obj[] = (() => {
  const out: Obj[] = Array.from({ length: 2600 }, (_, i) => indicator({ name: `C2 ${i}` }));
  const family = malware('Mirai');
  for (const h of ['11', '09', '12']) out.push({ ...family, modified: `2026-11-30T${h}:00:00.000Z` });
  out.push(out[7]!); // already stored
  out.push({ ...out[8]!, name: 'changed' }); // a different object under a stored version
  return out;
})();
const ts = '2026-11-30T10:00:00Z';
const FEED = ['ip,port,timestamp,family,type,asn,country',
  ...Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1},443,${ts},QakBot,c2,,`),
  ...Array.from({ length: 10 }, (_, i) => `192.0.2.${i + 1},80,${ts},mirai,infected,,`),
  `198.51.100.1,443,2026-11-30T10:30:00Z,QakBot,c2,,`].join('\n') + '\n';

interface Outcome {
  status: Obj;
  /** Object ids page by page, each walk. */
  walks: Record<string, string[][]>;
  manifest: number;
  feed: Pick<RunReport, 'records' | 'duplicates' | 'unrouted'>;
  /** What ru holds from us after the feed run (object JSON, sorted). */
  inbound: string[];
  domestic: number;
}

/** Walks every page of `path` with `limit`, following `next`: the ids of each page. */
async function walk(t: ReturnType<typeof taxiiClient>, path: string, limit: number, query = ''): Promise<{ pages: string[][]; objects: Obj[] }> {
  const pages: string[][] = [];
  const objects: Obj[] = [];
  let next: string | undefined;
  for (;;) {
    const r = await t(`${path}?limit=${limit}${query}${next === undefined ? '' : `&next=${encodeURIComponent(next)}`}`);
    expect(r.status, r.text).toBe(200);
    const list = (r.json!.objects ?? []) as Obj[];
    pages.push(list.map((o) => `${String(o.id)}@${String(o.modified ?? '')}`));
    objects.push(...list);
    if (r.json!.more !== true) return { pages, objects };
    next = String(r.json!.next);
  }
}

async function scenario(dir: string, databases: [string, string] | undefined): Promise<Outcome> {
  const us = await makeHome(dir, 'us', databases?.[0]);
  const ru = await makeHome(dir, 'ru', databases?.[1]);
  for (const [a, b] of [[us, ru], [ru, us]] as const) await withNode(a.home, (ctx) => ctx.peers.add(parseDescriptor(b.descriptor), { expectFingerprint: b.fingerprint }));
  await withNode(us.home, async (ctx) => {
    await ctx.jurisdictions.set({ party: 'us', countries: [], asns: [], prefixes: ['192.0.2.0/24'] }, ['us', 'ru']);
    await ctx.jurisdictions.set({ party: 'ru', countries: [], asns: [], prefixes: ['198.51.100.0/24'] }, ['us', 'ru']);
    await ctx.taxii.collections.add({ alias: 'c2', tlp: 'green' });
  });
  const nodes: RunningNode[] = [];
  try {
    const a = await startNode(loadConfig(us.home), { log: silentLogger });
    nodes.push(a);
    const b = await startNode(loadConfig(ru.home), { log: silentLogger });
    nodes.push(b);
    const t = taxiiClient(a.address, us.token);
    const col = await t('/taxii2/api/collections/c2/');
    const base = `/taxii2/api/collections/${String(col.json!.id)}`;
    const posted = await t(`${base}/objects/`, { body: { objects: OBJECTS } });
    expect(posted.status, posted.text).toBe(202);
    const { id: _id, request_timestamp: _at, ...status } = posted.json!;
    const walks: Record<string, string[][]> = {};
    walks.latest = (await walk(t, `${base}/objects/`, 333)).pages;
    walks.all = (await walk(t, `${base}/objects/`, 500, '&match[version]=all')).pages;
    walks.malware = (await walk(t, `${base}/objects/`, 1, '&match[type]=malware&match[version]=first,last')).pages;
    const manifest = (await walk(t, `${base}/manifest/`, 1000)).pages.flat().length;

    const res = await fetch(`${a.address}/api/v1/feed-runs?source=pg-test&tlp=green`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'text/csv' }, body: FEED });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const run = await eventually(async () => {
      const r = await fetch(`${a.address}/api/v1/feed-runs/${id}`, { headers: { authorization: `Bearer ${us.token}` } });
      const j = (await r.json()) as { state: string; report: RunReport };
      return j.state === 'complete' || j.state === 'failed' ? j : undefined;
    });
    expect(run.state).toBe('complete');
    const rt = taxiiClient(b.address, ru.token);
    const inbound = await eventually(async () => {
      const c = await rt('/taxii2/api/collections/inbound-us/');
      if (c.status !== 200) return undefined;
      const got = await walk(rt, `/taxii2/api/collections/${String(c.json!.id)}/objects/`, 7, '&match[version]=all');
      return got.objects.filter((o) => o.type === 'ipv4-addr').length === 40 ? got.objects : undefined;
    });
    const dom = await t('/taxii2/api/collections/domestic/');
    const domestic = (await walk(t, `/taxii2/api/collections/${String(dom.json!.id)}/objects/`, 1000)).objects.length;
    return {
      status, walks, manifest, feed: { records: run.report.records, duplicates: run.report.duplicates, unrouted: run.report.unrouted },
      inbound: inbound.map((o) => JSON.stringify(o)).sort(), domestic,
    };
  } finally {
    for (const n of nodes.reverse()) await n.stop();
  }
}

describePg('TAXII and feeds on PostgreSQL give what SQLite gives', () => {
  const dbs: TestDatabase[] = [];
  let sqlite: Outcome;
  let pg: Outcome;
  beforeAll(async () => {
    ensureBuilt();
    dbs.push(await createTestDatabase(), await createTestDatabase());
    sqlite = await scenario(tempDir('hotline-taxii-sqlite-'), undefined);
    pg = await scenario(tempDir('hotline-taxii-pg-'), [dbs[0]!.url, dbs[1]!.url]);
  }, 300_000);
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  it('POST: the same status (SQLite commits it in two batches of 2,000, PostgreSQL in one), one object already stored, one refused', () => {
    expect(pg.status).toEqual(sqlite.status);
    expect(pg.status).toMatchObject({ status: 'complete', total_count: 2605, success_count: 2604, failure_count: 1, pending_count: 0 });
  });

  it('GET: the same pages, in the same order, following next', () => {
    expect(pg.walks).toEqual(sqlite.walks);
    expect(pg.walks.latest!.flat()).toHaveLength(2601);
    expect(pg.walks.latest!.length).toBe(8);
    expect(pg.walks.all!.flat()).toHaveLength(2603);
    expect(pg.walks.malware!.flat().map((x) => x.split('@')[1])).toEqual(['2026-11-30T09:00:00.000Z', '2026-11-30T12:00:00.000Z']);
    expect(pg.manifest).toBe(sqlite.manifest);
  });

  it('a feed run: the same report, the same objects in the peer\'s collection, the same domestic ones', () => {
    expect(pg.feed).toEqual(sqlite.feed);
    expect(pg.feed).toMatchObject({ records: 51, duplicates: 1, unrouted: 0 });
    expect(pg.inbound).toEqual(sqlite.inbound);
    expect(pg.domestic).toBe(sqlite.domestic);
    expect(pg.domestic).toBeGreaterThan(0);
  });
});
