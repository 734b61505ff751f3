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
import { makePoster, type JsonPoster } from '../load.js';
import { baseline } from './baseline.js';
import { DOCS, docsSection, writeDocs } from './docs.js';
import { latency, type Latency } from './latency.js';
import { micro } from './micro.js';
import { logTail, makeNode, peer, startNodes, stopNodes, type BenchNode } from './nodes.js';
import { options, type Options } from './options.js';
import { cleanupSync, installCleanup, makeTempDir, removeTempDir } from './processes.js';
import { resultJson, summary, type Report } from './report.js';
import { StoreReader } from './store.js';
import { machine } from './system.js';
import { throughput, type Throughput } from './throughput.js';

/** Runs throughput, then latency, against a fresh pair of peered nodes; always stops them. */
async function federation(o: Options): Promise<{ throughput: Throughput; latency: Latency }> {
  const dir = makeTempDir('hotline-bench-');
  const nodes: BenchNode[] = [];
  let storeA: StoreReader | undefined;
  let storeB: StoreReader | undefined;
  let poster: JsonPoster | undefined;
  try {
    const a = await makeNode(dir, 'alpha');
    const b = await makeNode(dir, 'bravo');
    nodes.push(a, b);
    await peer(a, b);
    await startNodes(nodes, o.cpuProfDir);
    storeA = new StoreReader(a.home);
    storeB = new StoreReader(b.home);
    poster = makePoster(o.client, a.url, { authorization: `Bearer ${a.token}` }, o.concurrency);
    const t = await throughput(o, a, b, storeA, poster);
    const l = await latency(o, a, b, storeA, storeB, poster);
    return { throughput: t, latency: l };
  } catch (e) {
    for (const n of nodes) process.stderr.write(`--- last lines of ${n.party}'s log ---\n${logTail(n)}\n`);
    throw e;
  } finally {
    poster?.close();
    storeA?.close();
    storeB?.close();
    await stopNodes(nodes);
    removeTempDir(dir);
  }
}

async function main(): Promise<void> {
  const o = options();
  const m = machine();
  process.stdout.write(`bench:federation — ${m.cpu}, ${m.cores} cores, Node ${m.node}\n`);
  process.stdout.write('measuring single-process context (Ed25519, JCS, SQLite fsync)…\n');
  const u = micro();
  process.stdout.write(`measuring the plain-HTTP baseline (${o.baselineSeconds} s)…\n`);
  const base = await baseline(o);
  process.stdout.write(`running two nodes: ${o.messages} messages for throughput, then ${o.latencyMessages} at ${o.rate}/s for latency…\n`);
  const report: Report = { o, m, micro: u, base, ...(await federation(o)) };
  process.stdout.write(summary(report));
  if (o.docs) {
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
