/** What bench:taxii measured: the printed table, its section of docs/benchmarks.md, and the one-line JSON result. */
import { fmt } from '../federation/report.js';
import type { Machine } from '../federation/system.js';
import type { GeneratedCounts } from './generate.js';
import type { PostResult } from './post.js';
import type { Usage } from './proc.js';
import type { ProbeResult, Walk } from './read.js';

export const BAR_GET_PER_S = 50_000;
export const BAR_FIRST_PAGE_MS = 50;
export const BAR_POST_PER_S = 20_000;
export const START_MARK = '<!-- bench:taxii:start -->';
export const END_MARK = '<!-- bench:taxii:end -->';

/** The section of docs/benchmarks.md a store's run replaces (SQLite's is the one it always had). */
export function marks(store: 'sqlite' | 'postgres'): { start: string; end: string } {
  return store === 'sqlite' ? { start: START_MARK, end: END_MARK } : { start: '<!-- bench:taxii:postgres:start -->', end: '<!-- bench:taxii:postgres:end -->' };
}

export interface Memory {
  label: string;
  rssMb: number;
  hwmMb: number;
}

export interface Report {
  m: Machine;
  command: string;
  store: 'sqlite' | 'postgres';
  /** PostgreSQL: the server's version and bulk-load settings (store.ts serverSettings). */
  server?: string;
  /** Requests per first-page probe. */
  samples: number;
  counts: GeneratedCounts;
  post: PostResult;
  /** The same kind of objects POSTed 100 at a time (a client sending small bundles: one commit each). */
  smallPost: PostResult;
  walks: Walk[];
  probes: ProbeResult[];
  small: ProbeResult[];
  probeUsage: Usage;
  memory: Memory[];
  storeMb: number;
  restart: { emptyReadyMs: number; readyMs: number; firstPageMs: number } | undefined;
}

const ms1 = (x: number): string => fmt(x, 1);
const yes = (ok: boolean): string => (ok ? 'met' : '**not met**');

function headline(r: Report): { get: number; firstPage: number; post: number; rss: number } {
  const unfiltered = r.probes[0]!;
  return { get: r.walks[0]!.objectsPerS, firstPage: unfiltered.ms.p99, post: r.post.objectsPerS, rss: r.memory[r.memory.length - 1]!.rssMb };
}

function probeRows(ps: readonly ProbeResult[]): string[] {
  return ps.map((p) => `| ${p.label} | ${fmt(p.items)}${p.more ? ' (more)' : ''} | ${fmt(p.bytes / 1024)} KiB | ${ms1(p.ms.p50)} | **${ms1(p.ms.p99)}** | ${ms1(p.ms.max)} | ${yes(p.ms.p99 < BAR_FIRST_PAGE_MS)} |`);
}

/** The markdown of the bench's results (also what is printed, as a readable table). */
export function section(r: Report): string {
  const h = headline(r);
  const { post: p, smallPost: sp, m } = r;
  const types = Object.entries(r.counts.byType).map(([t, n]) => `${fmt(n)} ${t}`).join(', ');
  const sizes = r.small[0]!;
  const mk = marks(r.store);
  const lines = [
    mk.start,
    r.store === 'sqlite' ? '## TAXII 2.1 (bench:taxii)' : '## TAXII 2.1 on PostgreSQL (bench:taxii --store postgres)',
    '',
    r.store === 'sqlite'
      ? `\`${r.command}\`. One node (\`hotline start\`, its own process, SQLite in WAL with \`synchronous=FULL\`), a fresh home;`
      : `\`${r.command}\`. One node (\`hotline start\`, its own process) on ${r.server ?? 'PostgreSQL'}: a fresh database on this machine, \`synchronous_commit=on\`, serializable transactions; a fresh home;`,
    'the bench client is this process (node:http, keep-alive) on the same machine, over loopback, with the admin token.',
    `Objects from \`bench/taxii/generate.ts\` (seeded, deterministic): ${types}; ${fmt(r.counts.distinct)} distinct ids`,
    '(the malware objects are successive versions of 48 families), each with a TLP 2.0 marking, mostly GREEN and AMBER.',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}; run ${m.date} (1-minute load average ${fmt(m.load1, 2)} at start).`,
    '',
    '| measure | result | bar (design.md §10) | |',
    '| --- | ---: | --- | --- |',
    `| GET: walking all pages, \`limit=1000\`, no filter (${fmt(r.walks[0]!.objects)} objects, ${fmt(r.walks[0]!.pages)} pages) | **${fmt(h.get)} objects/s** | ≥ ${fmt(BAR_GET_PER_S)} objects/s | ${yes(h.get >= BAR_GET_PER_S)} |`,
    ...r.walks.slice(1).map((w) => `| GET: walking all pages, ${w.label} (${fmt(w.objects)} objects) | ${fmt(w.objectsPerS)} objects/s | | |`),
    `| first page, no filter, ${fmt(r.counts.total)}-object collection, p99 of ${fmt(r.samples)} | **${ms1(h.firstPage)} ms** | < ${BAR_FIRST_PAGE_MS} ms | ${yes(h.firstPage < BAR_FIRST_PAGE_MS)} |`,
    `| first page, no filter, ${fmt(sizes.items)}-object collection, p99 | ${ms1(sizes.ms.p99)} ms | < ${BAR_FIRST_PAGE_MS} ms | ${yes(sizes.ms.p99 < BAR_FIRST_PAGE_MS)} |`,
    `| POST with validation (${fmt(p.objects)} objects, ${fmt(p.envelopes)} envelopes of ${fmt(p.envelopeSize)}, ${p.concurrency} in flight) | **${fmt(h.post)} objects/s** | ≥ ${fmt(BAR_POST_PER_S)} objects/s | ${yes(h.post >= BAR_POST_PER_S)} |`,
    `| POST with validation, small bundles (${fmt(sp.objects)} objects, ${fmt(sp.envelopes)} envelopes of ${fmt(sp.envelopeSize)}, ${sp.concurrency} in flight) | **${fmt(sp.objectsPerS)} objects/s** | ≥ ${fmt(BAR_POST_PER_S)} objects/s | ${yes(sp.objectsPerS >= BAR_POST_PER_S)} |`,
    `| node RSS at the end (peak) | **${fmt(h.rss)} MB** (${fmt(Math.max(...r.memory.map((x) => x.hwmMb)))} MB) | | |`,
    '',
    `First pages (\`limit=1000\` unless said; each ${fmt(r.samples)} requests one after the other after 5 unmeasured; ms from request to last byte):`,
    '',
    '| first page of | items | body | p50 ms | p99 ms | max ms | < 50 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...probeRows(r.probes),
    ...probeRows(r.small),
    '',
    'Where the time goes (same run):',
    '',
    '| | |',
    '| --- | --- |',
    `| POST: objects/s over each tenth of the load | ${p.tenths.map((x) => fmt(x)).join(' · ')} |`,
    `| POST: round trip of one ${fmt(p.envelopeSize)}-object envelope, p50 / p99 | ${fmt(p.post.p50)} / ${fmt(p.post.p99)} ms |`,
    `| POST: body bytes per object | ${fmt(p.bytes / p.objects)} |`,
    ...r.walks.map((w) => `| GET walk ${w.label}: page round trip p50 / p99 | ${ms1(w.page.p50)} / ${ms1(w.page.p99)} ms |`),
    `| node RSS (VmRSS / VmHWM) | ${r.memory.map((x) => `${x.label} ${fmt(x.rssMb)} / ${fmt(x.hwmMb)} MB`).join('; ')} |`,
    `| store on disk (${r.store === 'sqlite' ? 'hotline.db + WAL' : 'pg_database_size'}) | ${fmt(r.storeMb)} MB |`,
    ...(r.restart === undefined ? [] : [
      `| node start → /healthz (polled every 50 ms): empty store / loaded store; then the first page, cold | ${fmt(r.restart.emptyReadyMs)} ms / ${fmt(r.restart.readyMs)} ms; ${ms1(r.restart.firstPageMs)} ms |`,
    ]),
    '',
    `Per phase (from /proc; the machine has ${m.cores} cores; "waiting" is the node's JavaScript thread runnable but not on a CPU):`,
    '',
    '| phase | s | node CPU / object | node busy (one core) | waiting | node wrote / object | bench CPU / object | other processes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    usageRow('POST', p.usage, p.objects, m.cores),
    usageRow(`POST, envelopes of ${fmt(sp.envelopeSize)}`, sp.usage, sp.objects, m.cores),
    ...r.walks.map((w) => usageRow(`GET walk, ${w.label}`, w.usage, w.objects, m.cores)),
    usageRow('first-page probes', r.probeUsage, undefined, m.cores),
    '',
    reading(r),
    mk.end,
  ];
  return lines.join('\n');
}

/** How to read the numbers, from this run's own figures. */
function reading(r: Report): string {
  const p = r.post;
  const w = r.walks[0]!;
  const postUs = (1e6 * p.usage.nodeCpu) / p.objects;
  const getUs = (1e6 * w.usage.nodeCpu) / w.objects;
  const slow = [...r.probes, ...r.small].filter((x) => x.ms.p99 >= BAR_FIRST_PAGE_MS);
  return [
    r.store === 'sqlite'
      ? 'How to read it: the node is one Node.js thread, and better-sqlite3 runs every statement and every commit (fsync'
      : 'How to read it: the node is one Node.js thread; PostgreSQL runs the statements and commits in its own processes (in "other',
    r.store === 'sqlite'
      ? `included) on that thread, so the node can use at most one core. During the POST it spent ${fmt(postUs, 1)} µs of CPU per`
      : `processes"), so the node's CPU below is its own share only. During the POST it spent ${fmt(postUs, 1)} µs of CPU per`,
    `object (parse, validate, store, status), a ceiling of about ${fmt(1e6 / postUs)} objects/s with a core to itself; it was on a CPU`,
    `${fmt((100 * p.usage.nodeCpu) / p.usage.seconds)}% of the time and wrote ${fmt(p.usage.writeBytes / p.objects / 1024, 1)} KiB to disk per ${fmt(p.bytes / p.objects)}-byte object (WAL pages, then checkpoints).`,
    `Serving cost ${fmt(getUs, 1)} µs of CPU per object, a ceiling of about ${fmt(1e6 / getUs)} objects/s. A p99 of ${fmt(r.samples)} requests is`,
    `the slowest of them, so one pause (GC, another process) decides it.${slow.length === 0 ? '' : ` At or over ${BAR_FIRST_PAGE_MS} ms at p99: ${slow.map((x) => x.label).join('; ')}.`}`,
  ].join('\n');
}

/** One phase's use of the machine: per object when `objects` is given. */
function usageRow(label: string, u: Usage, objects: number | undefined, cores: number): string {
  const per = (x: number, unit: number, suffix: string, digits = 1): string => (objects === undefined ? '' : `${fmt((x * unit) / objects, digits)} ${suffix}`);
  const pct = (x: number, of: number): string => `${fmt((100 * x) / of)}%`;
  return `| ${label} | ${fmt(u.seconds, 1)} | ${per(u.nodeCpu, 1e6, 'µs')} | ${pct(u.nodeCpu, u.seconds)} | ${pct(u.mainRunDelay, u.seconds)} | `
    + `${per(u.writeBytes, 1 / 1024, 'KiB')} | ${per(u.benchCpu, 1e6, 'µs')} | ${pct(u.others, u.seconds * cores)} of the machine |`;
}

/** The bench's result as one JSON object (the last line of output). */
export function resultJson(r: Report): string {
  const h = headline(r);
  return JSON.stringify({
    bench: 'taxii', store: r.store, objects: r.counts.total, get_objects_per_s: Math.round(h.get), first_page_ms: Math.round(h.firstPage * 10) / 10,
    post_objects_per_s: Math.round(h.post), post_small_objects_per_s: Math.round(r.smallPost.objectsPerS), rss_mb: Math.round(h.rss),
  });
}
