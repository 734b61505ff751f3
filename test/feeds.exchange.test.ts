/**
 * The botnet exchange end to end, between three real nodes on loopback: a mixed feed ingested on
 * us is routed record by record by jurisdiction (prefix, then ASN, then country): ru's records
 * reach ru's collection inbound-us as STIX over signed indicators messages, us's own go to its
 * domestic collection, fr's to fr, the rest are counted as unrouted; the same file again sends
 * nothing; bad rows are reported with their line; and a run killed with -9 is run again without
 * sending anything twice.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { BIN, ensureBuilt, hl, json, ok, ROOT } from './helpers/cli.js';
import { eventually, makeHome, peerAll, tempDir, type TestHome } from './helpers/nodes.js';
import { oasisValidator } from './helpers/oasis.js';
import { taxiiClient } from './helpers/taxii.js';
import type { RunReport } from '../src/modules/feeds/feeds.run.js';

let us: TestHome;
let ru: TestHome;
let fr: TestHome;
let a: RunningNode;
let b: RunningNode;
let c: RunningNode;
const dir = tempDir('hotline-feeds-');

type Obj = Record<string, unknown>;

/** The addresses in a node's collection (ipv4-addr/ipv6-addr values), and every object. */
async function collected(node: RunningNode, token: string, alias: string): Promise<{ ips: string[]; objects: Obj[] }> {
  const t = taxiiClient(node.address, token);
  const col = await t(`/taxii2/api/collections/${alias}/`);
  if (col.status !== 200) return { ips: [], objects: [] };
  const objects: Obj[] = [];
  let next: string | undefined;
  for (;;) {
    const r = await t(`/taxii2/api/collections/${String(col.json!.id)}/objects/?match[version]=all&limit=1000${next === undefined ? '' : `&next=${next}`}`);
    objects.push(...((r.json!.objects ?? []) as Obj[]));
    if (r.json!.more !== true) break;
    next = String(r.json!.next);
  }
  const ips = objects.filter((o) => o.type === 'ipv4-addr' || o.type === 'ipv6-addr').map((o) => String(o.value)).sort();
  return { ips, objects };
}

/** The objects every indicators message from us to `to` carried (from us's outbox), with repeats. */
async function sentObjects(to: string): Promise<Obj[]> {
  const rows = await a.ctx.db.selectFrom('messages').select('envelope').where('direction', '=', 'out').where('kind', '=', 'indicators').where('to_party', '=', to).execute();
  const out: Obj[] = [];
  for (const r of rows) {
    const env = JSON.parse(r.envelope) as { attachments: { content: string }[] };
    const bundle = JSON.parse(Buffer.from(env.attachments[0]!.content, 'base64').toString('utf8')) as { objects: Obj[] };
    out.push(...bundle.objects);
  }
  return out;
}

/** The infected-host reports (sightings) sent to `to`, as "ip port" from their observed data... counted by sighting. */
async function sentSightings(to: string): Promise<number> {
  return (await sentObjects(to)).filter((o) => o.type === 'sighting').length;
}

/** `n` distinct infected hosts in ru's prefix: 128 addresses, ports from `firstPort` up, `families` families. */
function ruHosts(n: number, firstPort: number, families: number): string[] {
  return Array.from({ length: n }, (_, i) => `198.51.100.${i % 128},${firstPort + Math.floor(i / 128)},${ts},family${i % families},infected,,`);
}

/** Options a CSV feed does not fit, with the exit code and the error each is refused with. */
const UNFIT = [
  [['--preset', 'nope'], 2, /unknown_preset.*nope/],
  [['--map', 'ip=src_address'], 2, /feed_mapping/],
  [['--format', 'jsonl'], 1, /feed_format/],
] as const;

const csv = (rows: string[]): string => ['ip,port,timestamp,family,type,asn,country', ...rows].join('\n') + '\n';
const ts = '2026-11-30T10:00:00Z';

beforeAll(async () => {
  ensureBuilt();
  [us, ru, fr] = [await makeHome('us', {}, dir), await makeHome('ru', {}, dir), await makeHome('fr', {}, dir)];
  await peerAll(us, ru, fr);
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'us', '--prefixes', '192.0.2.0/24', '--countries', 'US');
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'ru', '--prefixes', '198.51.100.0/24,2001:db8:1::/48', '--asns', '64500', '--countries', 'RU');
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'fr', '--countries', 'FR', '--prefixes', '198.51.100.128/25');
  a = await us.start();
  b = await ru.start();
  c = await fr.start();
});
afterAll(async () => {
  // The sender first, so that a batch it is delivering lands on receivers that are still up.
  await a?.stop();
  await Promise.all([b?.stop(), c?.stop()]);
}, 120_000);

describe('hotline feed ingest', () => {
  const rows = [
    `192.0.2.10,443,${ts},Mirai,infected,,`, // us by prefix (domestic)
    `198.51.100.7,8080,${ts},QakBot,c2,,`, // ru by prefix
    `198.51.100.200,23,${ts},mirai,infected,,`, // fr: the more specific prefix wins over ru's /24
    `203.0.113.9,80,${ts},emotet,infected,64500,`, // ru by the ASN the feed carries
    `203.0.113.10,80,${ts},emotet,infected,64501,RU`, // ru by country
    `203.0.113.11,80,${ts},emotet,infected,64501,FR`, // fr by country
    `203.0.113.12,80,${ts},emotet,infected,64501,DE`, // nobody's: unrouted
    `8.8.8.8,53,${ts},dridex,c2,,`, // us by the IP database's country (AS15169, US)
    `2001:db8:1::5,443,${ts},qakbot,c2,,`, // ru by an IPv6 prefix
    `192.0.2.10,443,2026-11-30T11:00:00Z,mirai,infected,,`, // a duplicate within the window
    `999.1.1.1,1,${ts},x,infected,,`, // bad IP
    `198.51.100.8,70000,${ts},x,infected,,`, // bad port
    `198.51.100.9,80,yesterday,x,infected,,`, // bad timestamp
  ];
  let first: { id: string; report: RunReport };

  it('routes each record to the party responsible for it, most specific first; reports what went where and why rows were rejected', async () => {
    writeFileSync(join(dir, 'mixed.csv'), csv(rows));
    first = await json<{ id: string; report: RunReport }>(us.home, 'feed', 'ingest', join(dir, 'mixed.csv'), '--source', 'sinkhole-test', '--tlp', 'green', '--json');
    const r = first.report;
    expect(r).toMatchObject({ records: 10, rejected: 3, duplicates: 1, unrouted: 1, source: 'sinkhole-test', tlp: 'green' });
    expect(r.rejects.map((x) => x.line)).toEqual([12, 13, 14]);
    expect(r.rejects[0]!.reason).toMatch(/not an IP address/);
    const ruReport = r.peers.find((p) => p.party === 'ru')!;
    expect(ruReport).toMatchObject({ records: 4, distinct_ips: 4, families: ['emotet', 'qakbot'] });
    expect(ruReport.messages).toHaveLength(1);
    expect(r.peers.find((p) => p.party === 'fr')).toMatchObject({ records: 2, distinct_ips: 2, families: ['emotet', 'mirai'] });
    expect(r.domestic).toMatchObject({ party: 'us', collection: 'domestic', records: 2, distinct_ips: 2, families: ['dridex', 'mirai'] });
    // Stored as a run.
    const shown = await ok(us.home, 'feed', 'show', first.id);
    expect(shown).toContain('10 records, 3 rejected, 1 duplicates, 1 in no one\'s jurisdiction');
    expect(shown).toContain('line 12: \'ip\' is not an IP address');
    expect(await ok(us.home, 'feed', 'runs')).toContain(first.id);
  });

  it('ru holds exactly its records in inbound-us, as STIX that validates; us its own in domestic; fr its own', async () => {
    const ruIps = await eventually(async () => {
      const got = await collected(b, ru.token, 'inbound-us');
      return got.ips.length === 4 ? got : undefined;
    });
    expect(ruIps.ips).toEqual(['198.51.100.7', '2001:db8:1::5', '203.0.113.10', '203.0.113.9']);
    const oasis = oasisValidator();
    for (const o of ruIps.objects) expect(oasis.validate(o).valid, JSON.stringify(o)).toBe(true);
    const types = new Set(ruIps.objects.map((o) => o.type));
    for (const t of ['indicator', 'malware', 'infrastructure', 'sighting', 'observed-data', 'relationship', 'identity']) expect(types.has(t), t).toBe(true);
    const indicator = ruIps.objects.find((o) => o.type === 'indicator' && String(o.pattern).includes('198.51.100.7'))!;
    expect(indicator.pattern).toMatch(/198\.51\.100\.7/);
    // The feed's TLP on everything, except the producer's identity (TLP:CLEAR: the same object in every bundle; feeds.stix.ts).
    const green = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
    const clear = 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487';
    for (const o of ruIps.objects.filter((x) => x.type !== 'marking-definition')) expect(o.object_marking_refs, String(o.type)).toEqual([o.type === 'identity' ? clear : green]);
    const frIps = await eventually(async () => {
      const got = await collected(c, fr.token, 'inbound-us');
      return got.ips.length === 2 ? got : undefined;
    });
    expect(frIps.ips).toEqual(['198.51.100.200', '203.0.113.11']);
    const dom = await collected(a, us.token, 'domestic');
    expect(dom.ips).toEqual(['192.0.2.10', '8.8.8.8']);
  });

  it('the same file again sends nothing and stores nothing new: every record sent is a duplicate', async () => {
    const messagesBefore = (await sentObjects('ru')).length;
    const again = await json<{ report: RunReport }>(us.home, 'feed', 'ingest', join(dir, 'mixed.csv'), '--source', 'sinkhole-test', '--tlp', 'green', '--json');
    // Every record that was sent is a duplicate now; the unrouted one is still nobody's (its key is
    // kept only with a report that carries it).
    expect(again.report).toMatchObject({ records: 10, duplicates: 9, unrouted: 1, rejected: 3 });
    expect(again.report.peers).toEqual([]);
    expect((await sentObjects('ru')).length).toBe(messagesBefore);
  });

  it('refuses before reading any row: an unknown preset, a mapping to missing columns, a file that is not the format claimed, an unknown peer jurisdiction', async () => {
    const runs = (await json<{ runs: unknown[] }>(us.home, 'feed', 'runs', '--json')).runs.length;
    writeFileSync(join(dir, 'refuse.csv'), csv(rows));
    writeFileSync(join(dir, 'notcsv.json'), '{"objects": [1, 2, 3]}');
    for (const [args, code, message] of UNFIT) {
      const r = await hl(us.home, 'feed', 'ingest', join(dir, 'refuse.csv'), ...args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
    }
    const r = await hl(us.home, 'feed', 'ingest', join(dir, 'notcsv.json'), '--format', 'csv');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/feed_format/);
    const j = await hl(us.home, 'feed', 'jurisdiction', 'set', 'xx', '--countries', 'DE');
    expect(j.stderr).toMatch(/unknown_peer/);
    const k = await hl(us.home, 'feed', 'jurisdiction', 'set', 'fr', '--countries', 'RU');
    expect(k.stderr).toMatch(/Country RU is claimed by both ru and fr/);
    // Refused runs are recorded as failed, with nothing sent.
    const after = (await json<{ runs: { state: string }[] }>(us.home, 'feed', 'runs', '--json')).runs;
    expect(after.length - runs).toBeLessThanOrEqual(4);
    expect(after.slice(0, after.length - runs).every((x) => x.state === 'failed')).toBe(true);
  });

  it('REST: an upload is a run; GET follows it to the report', async () => {
    const body = csv([`198.51.100.50,443,${ts},trickbot,c2,,`, `192.0.2.50,443,${ts},trickbot,infected,,`]);
    const res = await fetch(`${a.address}/api/v1/feed-runs?source=upload-test&tlp=amber`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'text/csv' }, body });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const run = await eventually(async () => {
      const r = await fetch(`${a.address}/api/v1/feed-runs/${id}`, { headers: { authorization: `Bearer ${us.token}` } });
      const j = (await r.json()) as { state: string; report: RunReport };
      return j.state === 'complete' ? j : undefined;
    });
    expect(run.report).toMatchObject({ records: 2, source: 'upload-test' });
    expect(run.report.peers.find((p) => p.party === 'ru')?.records).toBe(1);
    const empty = await fetch(`${a.address}/api/v1/feed-runs`, { method: 'POST', headers: { authorization: `Bearer ${us.token}`, 'content-type': 'text/csv' }, body: '' });
    expect(empty.status).toBe(400);
  });
});

describe('a run killed with -9', () => {
  it('is run again without sending anything twice, and everything arrives', async () => {
    const n = 20_000;
    const lines = ruHosts(n, 1024, 7);
    writeFileSync(join(dir, 'big.csv'), csv(lines));
    const before = await sentSightings('ru');
    // The same feed through stdin, of which only the first half ever arrives: the run cannot end
    // before it is killed, however fast it is (an ordering, not a race with the clock).
    // Run by the CLI's own process (--in-process), not handed to the running node: this is the CLI's resume.
    const child = spawn(process.execPath, [BIN, 'feed', 'ingest', '-', '--source', 'big', '--no-progress', '--in-process', '--home', us.home], { cwd: ROOT, stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.on('error', () => undefined); // the pipe breaks when the child is killed
    child.stdin.write(csv(lines.slice(0, n / 2)));
    // Kill it once it has queued part of the feed, mid-run.
    await eventually(async () => ((await sentSightings('ru')) > before ? true : undefined), 2000, 5);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = (await sentSightings('ru')) - before;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThanOrEqual(n / 2);
    const runs = await json<{ runs: { state: string; source: string }[] }>(us.home, 'feed', 'runs', '--json');
    expect(runs.runs[0]).toMatchObject({ source: 'big', state: 'interrupted' });
    const again = await json<{ report: RunReport }>(us.home, 'feed', 'ingest', join(dir, 'big.csv'), '--source', 'big', '--json');
    expect(again.report.duplicates).toBe(partial);
    expect(again.report.peers.find((p) => p.party === 'ru')!.records).toBe(n - partial);
    // Every record of the feed went out exactly once: one sighting per (ip, port) key.
    expect((await sentSightings('ru')) - before).toBe(n);
  });
});

describe('hotline feed ingest while the node runs', () => {
  it('hands the run to the node, which finishes it although the CLI is killed once the node runs it', async () => {
    const n = 20_000;
    writeFileSync(join(dir, 'handed.csv'), csv(ruHosts(n, 20_000, 5)));
    const before = await sentSightings('ru');
    const child = spawn(process.execPath, [BIN, 'feed', 'ingest', join(dir, 'handed.csv'), '--source', 'handed', '--no-progress', '--home', us.home], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const run = () => a.ctx.db.selectFrom('feed_runs').select(['id', 'state', 'holder']).where('source', '=', 'handed').executeTakeFirst();
    // Once the node has claimed it: the CLI spooled the file and left the run to any process of the node.
    const held = await eventually(async () => {
      const r = await run();
      return r !== undefined && r.state !== 'receiving' && r.state !== 'queued' ? r : undefined;
    }, 4000, 5);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(err).toMatch(/Handing the run to the node \(pid \d+/);
    // Claimed by this test's process (the node runs in it), not by the CLI's.
    expect(held.holder).toContain(`:${process.pid}:`);
    expect(held.state).toBe('running');
    const done = await eventually(async () => {
      const r = await run();
      return r !== undefined && r.state !== 'running' ? r : undefined;
    });
    expect(done.state).toBe('complete');
    expect((await sentSightings('ru')) - before).toBe(n);
    // Its spooled input is gone with the run.
    expect(await a.ctx.db.selectFrom('feed_inputs').select('run_id').where('run_id', '=', held.id).execute()).toEqual([]);
    // And the CLI, run to its end, prints what the node reported.
    const again = await json<{ ran_by: string; report: RunReport }>(us.home, 'feed', 'ingest', join(dir, 'handed.csv'), '--source', 'handed-again');
    expect(again.ran_by).toBe('node');
    expect(again.report).toMatchObject({ records: n, duplicates: n });
  });

  it('Ctrl-C while the CLI still reads the input: exit 130, error [interrupted], and nothing spooled or recorded stays behind', async () => {
    const child = spawn(process.execPath, [BIN, 'feed', 'ingest', '-', '--source', 'interrupted', '--no-progress', '--home', us.home], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // The CLI closes its end at Ctrl-C: what it has not read yet can no longer be written.
    child.stdin.on('error', () => {});
    // Past the 1 MiB the CLI checks before handing over, and past one 1 MiB chunk of the spool; stdin stays open.
    child.stdin.write(csv(ruHosts(45_000, 40_000, 5)));
    const runRow = () => a.ctx.db.selectFrom('feed_runs').select(['id', 'state']).where('source', '=', 'interrupted').executeTakeFirst();
    const spooling = await eventually(async () => {
      const r = await runRow();
      if (r === undefined) return undefined;
      const chunks = await a.ctx.db.selectFrom('feed_inputs').select('seq').where('run_id', '=', r.id).execute();
      return chunks.length > 0 ? r : undefined;
    }, 12_000, 5);
    expect(spooling.state).toBe('receiving');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toMatch(/error \[interrupted\]: Interrupted while the feed was read: nothing was queued or kept/);
    expect(await runRow()).toBeUndefined();
    expect(await a.ctx.db.selectFrom('feed_inputs').select('seq').where('run_id', '=', spooling.id).execute()).toEqual([]);
  });

  it('refuses a feed its preset or mapping does not fit before anything is spooled or recorded', async () => {
    const count = async (): Promise<{ runs: number; inputs: number }> => ({
      runs: (await a.ctx.db.selectFrom('feed_runs').select('id').execute()).length,
      inputs: (await a.ctx.db.selectFrom('feed_inputs').select('run_id').execute()).length,
    });
    writeFileSync(join(dir, 'unfit.csv'), csv([`198.51.100.1,80,${ts},mirai,infected,,`]));
    const start = await count();
    for (const [args, code, message] of UNFIT) {
      const r = await hl(us.home, 'feed', 'ingest', join(dir, 'unfit.csv'), ...args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/Handing the run/);
    }
    // Nothing recorded (a run of the CLI's own would have been recorded as failed).
    expect(await count()).toEqual(start);
  });
});
