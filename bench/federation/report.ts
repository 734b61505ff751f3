/** What a run measured, the human summary printed at the end, and the one-line JSON result. */
import type { Baseline } from './baseline.js';
import type { Latency } from './latency.js';
import type { Micro } from './micro.js';
import type { Options } from './options.js';
import type { Dist } from './stats.js';
import type { Machine } from './system.js';
import type { Throughput } from './throughput.js';

export interface Report {
  o: Options;
  m: Machine;
  micro: Micro;
  base: Baseline;
  throughput: Throughput;
  latency: Latency;
}

/** The bars the design sets (design.md §10), on SQLite. */
export const BAR_MSGS_PER_S = 2000;
export const BAR_P99_MS = 50;
/** On PostgreSQL (issue 13): a throughput bar only. */
export const BAR_PG_MSGS_PER_S = 1500;

/** The bars of a run's store. */
export function bars(o: Pick<Options, 'store'>): { msgsPerS: number; p99Ms: number | undefined } {
  return o.store === 'postgres' ? { msgsPerS: BAR_PG_MSGS_PER_S, p99Ms: undefined } : { msgsPerS: BAR_MSGS_PER_S, p99Ms: BAR_P99_MS };
}

export function barsMet(r: Report): { throughput: boolean; latency: boolean } {
  const b = bars(r.o);
  return { throughput: r.throughput.msgsPerS >= b.msgsPerS, latency: b.p99Ms === undefined || r.latency.total.p99 < b.p99Ms };
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const round1 = (n: number): number => Math.round(n * 10) / 10;

/** `cpu` seconds as a share of one core over the throughput run, e.g. "87%". */
export function coreShare(cpu: number, t: Throughput): string {
  return `${fmt((100 * cpu) / t.seconds)}%`;
}

export function summary(r: Report): string {
  const { o, m, micro: u, base, throughput: t, latency: l } = r;
  const met = barsMet(r);
  const bar = bars(o);
  const d = (x: Dist): string => `p50 ${fmt(x.p50)}  p99 ${fmt(x.p99)}  max ${fmt(x.max)} ms`;
  const share = (cpu: number): string => `${fmt(cpu, 1)} s (${coreShare(cpu, t)} of one core)`;
  return [
    '',
    `Federation bench: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB, Node ${m.node}`,
    '',
    `Throughput  ${fmt(o.messages)} messages A→B, ${o.concurrency} POSTs in flight (${o.client} client), after ${fmt(t.warmup)} warm-up`,
    `  signed, durable, receipted   ${fmt(t.msgsPerS)} msgs/s  (${fmt(t.seconds, 2)} s)   bar ≥ ${fmt(bar.msgsPerS)}${o.store === 'postgres' ? ' (PostgreSQL)' : ''}: ${met.throughput ? 'met' : 'NOT met'}`,
    `  accepted by A's API          ${fmt(t.enqueuePerS)} msgs/s`,
    `  CPU during the run           A ${share(t.cpu.a)}${t.cpu.aEach.length > 1 ? ` (${t.cpu.aEach.map((x) => fmt(x, 1)).join(' + ')} s)` : ''}, B ${share(t.cpu.b)}, bench client ${share(t.cpu.bench)}`,
    `  other processes              ${share(t.cpu.others)}; load average ${fmt(m.load1, 2)} at start`,
    '',
    `Latency     ${fmt(o.latencyMessages)} messages at ${fmt(o.rate)}/s (${fmt(l.seconds, 1)} s; worst schedule lag ${fmt(l.maxScheduleLagMs, 1)} ms)`,
    `  send → receipt               ${d(l.total)}${bar.p99Ms === undefined ? '' : `   bar p99 < ${bar.p99Ms} ms: ${met.latency ? 'met' : 'NOT met'}`}`,
    `    send → stored on A         ${d(l.toStoredA)}`,
    `    stored on A → on B         ${d(l.aToB)}`,
    `    stored on B → receipted    ${d(l.bToReceipt)}`,
    `  POST round trip              ${d(l.post)}`,
    '',
    'Context',
    `  plain HTTP, 2 processes      ${fmt(base.reqPerS)} req/s  (${o.concurrency} in flight, ${fmt(base.seconds, 1)} s, no signing, no storage)`,
    `  Ed25519 sign+verify          ${fmt(u.ed25519SignVerifyPerS)} /s on one core`,
    `  A's per-message CPU (no I/O) ${fmt(u.outboxCpuPerS)} /s  (sign, parse, canonicalise, hash)`,
    `  B's per-message CPU (no I/O) ${fmt(u.receiveCpuPerS)} /s  (parse, verify, canonicalise, hash, sign receipt)`,
    `  A's receipt check            ${fmt(u.receiptCheckPerS)} /s  (parse, canonicalise, verify)`,
    `  SQLite fsync'd commits       ${fmt(u.sqliteFsyncCommitsPerS)} /s  (WAL, synchronous=FULL, one row each)`,
    '',
  ].join('\n');
}

/** The bench's result as one JSON object (printed as the last line of output). */
export function resultJson(r: Report): string {
  return JSON.stringify({
    bench: 'federation',
    msgs_per_s: Math.round(r.throughput.msgsPerS),
    p50_ms: round1(r.latency.total.p50),
    p99_ms: round1(r.latency.total.p99),
    baseline_http_req_per_s: Math.round(r.base.reqPerS),
    ...(r.o.store === 'postgres' ? { store: 'postgres', processes: r.o.processes } : {}),
  });
}
