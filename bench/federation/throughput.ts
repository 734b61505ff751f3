/**
 * Throughput: N messages POSTed to A with `concurrency` in flight; msgs/s = N / (first POST →
 * the last message receipted in A's store), with the CPU each process used meanwhile.
 */
import { closedLoop, type JsonPoster } from '../load.js';
import type { BenchNode } from './nodes.js';
import type { Options } from './options.js';
import type { StoreReader } from './store.js';
import { cpuSeconds, machineBusySeconds, selfCpuSeconds } from './system.js';
import { postMessage, waitReceipted } from './traffic.js';

/** CPU seconds per process during the run. */
export interface ProcCpu {
  a: number;
  /** A's CPU seconds per process, when it runs several (PostgreSQL). */
  aEach: number[];
  b: number;
  bench: number;
  /** Everything else running on the machine meanwhile. */
  others: number;
}

export interface Throughput {
  msgsPerS: number;
  seconds: number;
  /** Rate at which A's API accepted the messages (first POST → last 202). */
  enqueuePerS: number;
  cpu: ProcCpu;
  warmup: number;
}

/** CPU seconds used so far by each process, and (`all`) by the whole machine. */
type CpuSnapshot = Omit<ProcCpu, 'others' | 'a'> & { all: number };

function cpuNow(a: BenchNode, b: BenchNode): CpuSnapshot {
  return { aEach: a.children.map((c) => cpuSeconds(c.pid) ?? Number.NaN), b: cpuSeconds(b.child?.pid) ?? Number.NaN, bench: selfCpuSeconds(), all: machineBusySeconds() };
}

function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): ProcCpu {
  const aEach = after.aEach.map((x, i) => x - (before.aEach[i] ?? Number.NaN));
  const a = aEach.reduce((s, x) => s + x, 0);
  const b = after.b - before.b;
  const bench = after.bench - before.bench;
  return { a, aEach, b, bench, others: Math.max(0, (after.all - before.all) - a - b - bench) };
}

export async function throughput(o: Options, a: BenchNode, b: BenchNode, store: StoreReader, poster: JsonPoster): Promise<Throughput> {
  const warmup = Math.min(1000, Math.max(100, Math.floor(o.messages / 20)));
  await closedLoop(o.concurrency, (i) => i < warmup, async (i) => {
    await postMessage(poster, b.party, i);
  });
  await waitReceipted(store, a, b, (await store.linkState(a.party, b.party)).last_seq, 60_000);
  const base = (await store.linkState(a.party, b.party)).last_seq;
  const cpu0 = cpuNow(a, b);
  const startWall = Date.now();
  const t0 = performance.now();
  await closedLoop(o.concurrency, (i) => i < o.messages, async (i) => {
    await postMessage(poster, b.party, warmup + i);
  });
  const postedS = (performance.now() - t0) / 1000;
  const last = base + o.messages;
  // Allow 5 ms per message (a floor of 200 msgs/s) before declaring the run stuck.
  await waitReceipted(store, a, b, last, Math.max(60_000, o.messages * 5));
  const cpu1 = cpuNow(a, b);
  const lastRow = (await store.outbound(a.party, b.party, last - 1, last))[0];
  if (lastRow?.receipted_at == null) throw new Error(`seq ${last} is acked but has no receipted_at`);
  const seconds = (Number(lastRow.receipted_at) - startWall) / 1000;
  return { msgsPerS: o.messages / seconds, seconds, enqueuePerS: o.messages / postedS, cpu: cpuUsed(cpu0, cpu1), warmup };
}
