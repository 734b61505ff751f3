/**
 * bench:federation — two real nodes (A and B, separate processes) on loopback.
 *
 *   throughput  N messages POSTed to A's REST API with ~64 in flight; msgs/s = N / (first POST →
 *               the last message receipted in A's store). Signed, durable (fsync), receipted.
 *   latency     messages POSTed at a fixed rate (default 200/s for 2,000); per message,
 *               send→receipt = A's receipted_at − the client's clock just before the POST.
 *   context     plain Node HTTP between two processes (no signing, no storage), Ed25519
 *               sign+verify/s, fsync'd SQLite commits/s, and the CPU each process used.
 *
 * Prints a summary, updates its section of docs/benchmarks.md, and prints one JSON object as
 * its last line. Flags: --messages N, --rate R, --latency-messages M, --concurrency C,
 * --baseline-seconds S, --client http|fetch, --no-docs. HOTLINE_BENCH_CPU_PROF=<dir> starts the
 * nodes with --cpu-prof (profiles written to <dir> when they stop).
 *
 * The client defaults to node:http with a keep-alive agent, not fetch: the load generator shares
 * the two cores with both nodes, and Node 20's fetch (undici) costs several times more CPU per
 * request (measured: ~0.5-0.9 ms vs ~0.07 ms here), which would be charged to the nodes.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { makePoster, type JsonPoster } from '../load.js';
import { baseline } from './baseline.js';
import { DOCS, docsSection, writeDocs } from './docs.js';
import { latency, type Latency } from './latency.js';
import { micro } from './micro.js';
import { logTail, makeNode, peer, startNodes, stopNodes, type BenchNode } from './nodes.js';
import { options, type Options } from './options.js';
import { cleanupSync, installCleanup, makeTempDir, removeTempDir } from './processes.js';
import { resultJson, summary, type Report } from './report.js';
import { PgReader, SqliteReader, type StoreReader } from './store.js';
import { machine } from './system.js';
import { throughput, type Throughput } from './throughput.js';

/** Runs throughput, then latency, against a fresh pair of peered nodes; always stops them. */
async function federation(o: Options): Promise<{ throughput: Throughput; latency: Latency }> {
  const dir = makeTempDir('hotline-bench-');
  const nodes: BenchNode[] = [];
  let storeA: StoreReader | undefined;
  let storeB: StoreReader | undefined;
  let poster: JsonPoster | undefined;
  const databases: PgDatabase[] = [];
  try {
    if (o.store === 'postgres') databases.push(await createDatabase(o.databaseUrl), await createDatabase(o.databaseUrl));
    const a = await makeNode(dir, 'alpha', { ...(databases[0] === undefined ? {} : { database: databases[0].url }), processes: o.processes });
    const b = await makeNode(dir, 'bravo', databases[1] === undefined ? {} : { database: databases[1].url });
    nodes.push(a, b);
    await peer(a, b);
    await startNodes(nodes, o.cpuProfDir);
    storeA = a.database === undefined ? new SqliteReader(a.home) : new PgReader(a.database);
    storeB = b.database === undefined ? new SqliteReader(b.home) : new PgReader(b.database);
    // Several processes of A: the POSTs go round-robin to them (what any load balancer does; nothing sticky).
    poster = roundRobin(a.addresses.map((u) => makePoster(o.client, u, { authorization: `Bearer ${a.token}` }, Math.ceil(o.concurrency / a.addresses.length))));
    const t = await throughput(o, a, b, storeA, poster);
    const l = await latency(o, a, b, storeA, storeB, poster);
    return { throughput: t, latency: l };
  } catch (e) {
    for (const n of nodes) process.stderr.write(`--- last lines of ${n.party}'s log ---\n${logTail(n)}\n`);
    throw e;
  } finally {
    poster?.close();
    await storeA?.close();
    await storeB?.close();
    await stopNodes(nodes);
    removeTempDir(dir);
    for (const d of databases) await d.drop().catch(() => undefined);
  }
}

/** Spreads POSTs over several posters in turn. */
function roundRobin(posters: JsonPoster[]): JsonPoster {
  if (posters.length === 1) return posters[0]!;
  let next = 0;
  return {
    post: (path, body) => posters[next++ % posters.length]!.post(path, body),
    close: () => { for (const p of posters) p.close(); },
  };
}

interface PgDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new database with the C collation on the server `adminUrl` names (dropped at the end). */
async function createDatabase(adminUrl: string): Promise<PgDatabase> {
  const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');
  const admin = async (q: string): Promise<void> => {
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  const name = `hotline_bench_${randomBytes(5).toString('hex')}`;
  await admin(`create database "${name}" template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`drop database if exists "${name}" with (force)`) };
}

async function main(): Promise<void> {
  const o = options();
  const m = machine();
  process.stdout.write(`bench:federation — ${m.cpu}, ${m.cores} cores, Node ${m.node}\n`);
  process.stdout.write('measuring single-process context (Ed25519, JCS, SQLite fsync)…\n');
  const u = micro();
  process.stdout.write(`measuring the plain-HTTP baseline (${o.baselineSeconds} s)…\n`);
  const base = await baseline(o);
  process.stdout.write(`store: ${o.store}${o.store === 'postgres' ? `, node A in ${o.processes} process(es)` : ''}\n`);
  process.stdout.write(`running two nodes: ${o.messages} messages for throughput, then ${o.latencyMessages} at ${o.rate}/s for latency…\n`);
  const report: Report = { o, m, micro: u, base, ...(await federation(o)) };
  process.stdout.write(summary(report));
  // docs/benchmarks.md's section is the SQLite run's; PostgreSQL numbers are recorded by hand beside them.
  if (o.docs && o.store === 'sqlite') {
    writeDocs(docsSection(report));
    process.stdout.write(`updated ${DOCS}\n`);
  }
  if (o.cpuProfDir !== undefined) process.stdout.write(`CPU profiles of the nodes are in ${o.cpuProfDir}\n`);
  process.stdout.write(`${resultJson(report)}\n`);
}

installCleanup();
try {
  await main();
} catch (e) {
  process.stderr.write(`bench:federation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
} finally {
  cleanupSync();
}
