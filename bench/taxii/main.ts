/**
 * bench:taxii — one real node (its own `hotline start` process, fresh home) and its TAXII 2.1 server.
 *
 *   POST     1,000,000 generated STIX objects (bench/taxii/generate.ts) into one collection, in
 *            envelopes of 5,000 with 3 in flight: objects/s accepted with validation; every
 *            status must be complete with success_count = what was sent. Then 10% as many more
 *            (at least 10,000; TAXII_BENCH_SMALL_OBJECTS) in envelopes of 100 (TAXII_BENCH_SMALL_ENVELOPE), 8 in flight,
 *            into a second collection: what a client sending small bundles gets (one commit each).
 *   GET      every page with limit=1000 following `next`, without a filter (the latest version of
 *            each object) and with match[version]=all: objects/s served; the count must be what
 *            was loaded.
 *   latency  the first page, 50 times each, without a filter and with each filter, the manifest,
 *            one object and one object's versions; and the first page of a 10-object collection
 *            in the same store.
 *   memory   the node's VmRSS and VmHWM (/proc/<pid>/status) after each phase; then a restart
 *            on the loaded store (start → ready).
 *
 * Prints the table, replaces its section of docs/benchmarks.md (not with --no-docs; PostgreSQL's
 * is a section of its own), and prints one JSON object as its last line. Options: --store sqlite
 * (the default) or postgres (bench/taxii/store.ts: a database of its own, dropped at the end unless
 * --keep), --objects N (else TAXII_BENCH_OBJECTS). Environment: TAXII_BENCH_OBJECTS (1000000),
 * TAXII_BENCH_ENVELOPE (5000), TAXII_BENCH_CONCURRENCY (3), TAXII_BENCH_SAMPLES (50), TAXII_BENCH_SMALL_ENVELOPE
 * (100), TAXII_BENCH_SMALL_OBJECTS (a tenth of the objects, at least 10,000);
 * HOTLINE_BENCH_CPU_PROF=<dir> starts the node with --cpu-prof (written when it stops).
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { withNode } from '../../src/adapters/cli/home.js';
import { writeDocs, DOCS } from '../federation/docs.js';
import { logTail, makeNode, startNodes, stopNodes, type BenchNode } from '../federation/nodes.js';
import { cleanupSync, installCleanup, makeTempDir, removeTempDir } from '../federation/processes.js';
import { machine } from '../federation/system.js';
import { collectionPath, TaxiiClient } from './client.js';
import { StixGenerator } from './generate.js';
import { postAll } from './post.js';
import { measure } from './proc.js';
import { firstPage, walk, type Probe, type ProbeResult } from './read.js';
import { marks, resultJson, section, type Memory, type Report } from './report.js';
import { BENCH_PG_URL, createBenchDatabase, makePostgresNode, serverSettings, type BenchDatabase } from './store.js';

const SEED = 20261201;
const PAGE = 1000;

interface Options {
  store: 'sqlite' | 'postgres';
  /** Keep the PostgreSQL database at the end (and say where it is). */
  keep: boolean;
  objects: number;
  envelope: number;
  concurrency: number;
  samples: number;
  smallEnvelope: number;
  smallObjects: number;
  docs: boolean;
  cpuProfDir: string | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: { 'no-docs': { type: 'boolean', default: false }, store: { type: 'string', default: 'sqlite' }, objects: { type: 'string' }, keep: { type: 'boolean', default: false } },
  });
  const store = values.store;
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store is sqlite or postgres (got "${store}")`);
  if (values.objects !== undefined && !/^[1-9]\d*$/.test(values.objects)) throw new Error(`--objects must be a positive integer (got "${values.objects}")`);
  const env = (name: string, dflt: number): number => {
    const v = process.env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (got "${v}")`);
    return n;
  };
  const prof = process.env.HOTLINE_BENCH_CPU_PROF;
  const objects = values.objects === undefined ? env('TAXII_BENCH_OBJECTS', 1_000_000) : Number(values.objects);
  return {
    store, keep: values.keep === true, objects, smallObjects: env('TAXII_BENCH_SMALL_OBJECTS', Math.max(10_000, Math.round(objects / 10))), envelope: env('TAXII_BENCH_ENVELOPE', 5000), concurrency: env('TAXII_BENCH_CONCURRENCY', 3),
    samples: env('TAXII_BENCH_SAMPLES', 50), smallEnvelope: env('TAXII_BENCH_SMALL_ENVELOPE', 100), docs: values['no-docs'] !== true, cpuProfDir: prof === undefined || prof === '' ? undefined : resolve(prof),
  };
}

function memory(pid: number | undefined, label: string): Memory {
  const status = pid === undefined ? '' : readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { label, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function storeMb(home: string): number {
  let bytes = 0;
  for (const f of ['hotline.db', 'hotline.db-wal']) {
    try {
      bytes += statSync(join(home, f)).size;
    } catch {
      // no WAL file
    }
  }
  return bytes / 2 ** 20;
}

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

async function run(o: Options, node: BenchNode, database: BenchDatabase | undefined): Promise<Omit<Report, 'm' | 'command' | 'store'>> {
  const [big, small, bundles] = await withNode(node.home, async (ctx) => [
    await ctx.taxii.collections.add({ alias: 'bench-c2', title: 'Botnet C2 (bench)', tlp: 'amber' }),
    await ctx.taxii.collections.add({ alias: 'bench-small', title: 'Ten objects (bench)', tlp: 'amber' }),
    await ctx.taxii.collections.add({ alias: 'bench-bundles', title: 'Small bundles (bench)', tlp: 'amber' }),
  ]);
  const s0 = performance.now();
  await startNodes([node], o.cpuProfDir);
  const emptyReadyMs = performance.now() - s0;
  const pid = node.child?.pid;
  const client = new TaxiiClient(node.url, node.token, Math.max(o.concurrency, 8) + 1);
  try {
    const discovery = await client.getJson<{ api_roots?: string[] }>('/taxii2/');
    say(`node up (pid ${pid}); TAXII API roots: ${discovery.body.api_roots?.join(', ')}`);
    const mem: Memory[] = [memory(pid, 'empty')];

    const smallGen = new StixGenerator(SEED + 1);
    await postAll(client, small!.id, smallGen, 10, { envelopeSize: 10, concurrency: 1, nodePid: pid });

    say(`POST ${o.objects.toLocaleString('en-US')} objects in envelopes of ${o.envelope}, ${o.concurrency} in flight…`);
    const gen = new StixGenerator(SEED);
    const t0 = performance.now();
    const post = await postAll(client, big!.id, gen, o.objects, {
      envelopeSize: o.envelope, concurrency: o.concurrency, nodePid: pid,
      progress: (n) => say(`  ${n.toLocaleString('en-US')} accepted, ${Math.round(n / ((performance.now() - t0) / 1000)).toLocaleString('en-US')} objects/s so far`),
    });
    say(`  ${Math.round(post.objectsPerS).toLocaleString('en-US')} objects/s accepted (${post.seconds.toFixed(1)} s)`);
    const smallTotal = o.smallObjects;
    say(`POST ${smallTotal.toLocaleString('en-US')} objects in envelopes of ${o.smallEnvelope}, 8 in flight…`);
    const smallPost = await postAll(client, bundles!.id, new StixGenerator(SEED + 2), smallTotal, { envelopeSize: o.smallEnvelope, concurrency: 8, nodePid: pid });
    say(`  ${Math.round(smallPost.objectsPerS).toLocaleString('en-US')} objects/s accepted (${smallPost.seconds.toFixed(1)} s)`);
    mem.push(memory(pid, 'after POST'));

    say(`GET every page (limit=${PAGE})…`);
    const latest = await walk(client, big!.id, 'no filter', {}, PAGE, gen.counts.distinct, pid);
    say(`  no filter: ${latest.objects.toLocaleString('en-US')} objects in ${latest.pages} pages, ${Math.round(latest.objectsPerS).toLocaleString('en-US')} objects/s`);
    const all = await walk(client, big!.id, 'match[version]=all', { 'match[version]': 'all' }, PAGE, gen.counts.total, pid);
    say(`  match[version]=all: ${all.objects.toLocaleString('en-US')} objects, ${Math.round(all.objectsPerS).toLocaleString('en-US')} objects/s`);
    mem.push(memory(pid, 'after GET walks'));

    say(`first pages, ${o.samples} requests each…`);
    const b = big!.id;
    const at = (label: string, query: Record<string, string>, endpoint = 'objects'): Probe => ({
      label: `${o.objects.toLocaleString('en-US')} objects: ${label}`, path: collectionPath(b, endpoint, { limit: String(PAGE), ...query }),
    });
    const indicatorId = post.sampleIds[0]!;
    const familyId = post.familyIds[0]!;
    const probes: Probe[] = [
      at('no filter', {}),
      at(`added_after (middle: ${latest.middleDateAdded})`, { added_after: latest.middleDateAdded! }),
      at('match[type]=indicator', { 'match[type]': 'indicator' }),
      at('match[type]=malware (rare: 48 families)', { 'match[type]': 'malware' }),
      at('match[id]=one indicator', { 'match[id]': indicatorId }),
      at('match[version]=all', { 'match[version]': 'all' }),
      at('match[version]=first', { 'match[version]': 'first' }),
      at('match[spec_version]=2.1', { 'match[spec_version]': '2.1' }),
      at('manifest', {}, 'manifest'),
      { ...at('no filter, limit=10', {}), path: collectionPath(b, 'objects', { limit: '10' }) },
      at('one object: GET objects/<indicator id>/', {}, `object:${indicatorId}`),
      at('versions/ of one malware family', {}, `versions:${familyId}`),
    ];
    const probeUsage = measure(pid);
    const results: ProbeResult[] = [];
    for (const p of probes) {
      const r = await firstPage(client, p, o.samples);
      say(`  ${p.label.padEnd(70)} p50 ${r.ms.p50.toFixed(1).padStart(6)} ms  p99 ${r.ms.p99.toFixed(1).padStart(6)} ms  (${r.items} items)`);
      results.push(r);
    }
    const smallProbes: ProbeResult[] = [];
    for (const [label, endpoint] of [['no filter', 'objects'], ['manifest', 'manifest']] as const) {
      const r = await firstPage(client, { label: `10 objects: ${label}`, path: collectionPath(small!.id, endpoint, { limit: String(PAGE) }) }, o.samples);
      say(`  ${r.label.padEnd(70)} p50 ${r.ms.p50.toFixed(1).padStart(6)} ms  p99 ${r.ms.p99.toFixed(1).padStart(6)} ms  (${r.items} items)`);
      smallProbes.push(r);
    }
    const probesUsed = probeUsage();
    mem.push(memory(pid, 'end'));
    client.close();

    await stopNodes([node]);
    say('restarting the node on the loaded store…');
    const r0 = performance.now();
    await startNodes([node], undefined);
    const readyMs = performance.now() - r0;
    const cold = new TaxiiClient(node.url, node.token, 1);
    const first = await cold.getJson(`/taxii2/api/collections/${b}/objects/?limit=${PAGE}`);
    cold.close();
    return {
      samples: o.samples, counts: gen.counts, post, smallPost, walks: [latest, all], probes: results, small: smallProbes, probeUsage: probesUsed, memory: mem,
      storeMb: database === undefined ? storeMb(node.home) : (await database.size()) / 2 ** 20, restart: { emptyReadyMs, readyMs, firstPageMs: first.answer.ms },
    };
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const o = options();
  const m = machine();
  say(`bench:taxii — ${m.cpu}, ${m.cores} cores, Node ${m.node}; store: ${o.store}`);
  const dir = makeTempDir('hotline-bench-taxii-');
  let database: BenchDatabase | undefined;
  let node: BenchNode | undefined;
  let measured: Omit<Report, 'm' | 'command' | 'store'>;
  let server: string | undefined;
  try {
    if (o.store === 'postgres') {
      database = await createBenchDatabase();
      server = await serverSettings();
      say(server);
      say(`PostgreSQL database ${database.name} on ${new URL(BENCH_PG_URL).host} (C.UTF-8)${o.keep ? ', kept at the end' : ', dropped at the end'}`);
      node = await makePostgresNode(dir, 'taxii', database.url);
    } else {
      node = await makeNode(dir, 'taxii');
    }
    measured = await run(o, node, database);
  } catch (e) {
    if (node !== undefined) process.stderr.write(`--- last lines of the node's log ---\n${logTail(node)}\n`);
    throw e;
  } finally {
    if (node !== undefined) await stopNodes([node]);
    removeTempDir(dir);
    if (database !== undefined) {
      if (o.keep) say(`kept the database: ${database.url}`);
      else await database.drop();
    }
  }
  const env = [
    o.objects !== 1_000_000 ? `TAXII_BENCH_OBJECTS=${o.objects}` : '', o.envelope !== 5000 ? `TAXII_BENCH_ENVELOPE=${o.envelope}` : '',
    o.concurrency !== 3 ? `TAXII_BENCH_CONCURRENCY=${o.concurrency}` : '', o.smallEnvelope !== 100 ? `TAXII_BENCH_SMALL_ENVELOPE=${o.smallEnvelope}` : '', o.samples !== 50 ? `TAXII_BENCH_SAMPLES=${o.samples}` : '',
    o.smallObjects !== Math.max(10_000, Math.round(o.objects / 10)) ? `TAXII_BENCH_SMALL_OBJECTS=${o.smallObjects}` : '',
  ].filter(Boolean).join(' ');
  const args = [o.store === 'postgres' ? '--store postgres' : '', o.objects !== 1_000_000 && o.store === 'postgres' ? `--objects ${o.objects}` : ''].filter(Boolean).join(' ');
  const shownEnv = o.store === 'postgres' ? env.replace(/TAXII_BENCH_OBJECTS=\d+ ?/, '').trim() : env;
  const report: Report = { m, command: `${shownEnv === '' ? '' : `${shownEnv} `}npm run bench:taxii${args === '' ? '' : ` -- ${args}`}`, store: o.store, ...(server === undefined ? {} : { server }), ...measured };
  const text = section(report);
  say(`\n${text.split('\n').filter((l) => !l.startsWith('<!--')).join('\n')}\n`);
  if (o.docs) {
    writeDocs(text, marks(o.store));
    say(`updated ${DOCS}`);
  }
  if (o.cpuProfDir !== undefined) say(`CPU profile of the node is in ${o.cpuProfDir}`);
  say(resultJson(report));
}

installCleanup();
try {
  await main();
} catch (e) {
  process.stderr.write(`bench:taxii failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
} finally {
  cleanupSync();
}
