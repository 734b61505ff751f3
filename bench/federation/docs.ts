/** The bench's section of docs/benchmarks.md: its markdown, and replacing it between its markers. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BAR_MSGS_PER_S, BAR_P99_MS, barsMet, coreShare, fmt, type Report } from './report.js';

export const DOCS = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));
const START_MARK = '<!-- bench:federation:start -->';
const END_MARK = '<!-- bench:federation:end -->';

export function docsSection(r: Report): string {
  const { o, m, micro: u, base, throughput: t, latency: l } = r;
  const met = barsMet(r);
  const yes = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const perMsgMs = (cpu: number): string => fmt((1000 * cpu) / o.messages, 3);
  return `${START_MARK}
## Federation (bench:federation)

\`npm run bench:federation\` (\`node dist/bench/federation/main.js --messages ${o.messages} --rate ${o.rate} --latency-messages ${o.latencyMessages} --concurrency ${o.concurrency} --client ${o.client}\`).
Two nodes, A and B, each its own \`hotline start\` process with its own SQLite store (WAL,
\`synchronous=FULL\`) and Ed25519 key, peered on loopback; the bench client is a third process on
the same machine. A message counts when A holds B's signed receipt for it.

Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}; run ${m.date}
(1-minute load average ${fmt(m.load1, 2)} at start; other processes used ${fmt((100 * t.cpu.others) / (t.seconds * m.cores))}% of the
machine's CPU during the throughput run).

| measure | result | bar (design.md §10) | |
| --- | ---: | --- | --- |
| A→B signed, durable, receipted, ${fmt(o.messages)} messages, ${o.concurrency} POSTs in flight | **${fmt(t.msgsPerS)} msgs/s** | ≥ ${fmt(BAR_MSGS_PER_S)} msgs/s | ${yes(met.throughput)} |
| send→receipt at ${fmt(o.rate)} msgs/s (${fmt(o.latencyMessages)} messages), p50 | ${fmt(l.total.p50)} ms | | |
| send→receipt, p99 | **${fmt(l.total.p99)} ms** | < ${BAR_P99_MS} ms | ${yes(met.latency)} |
| send→receipt, max | ${fmt(l.total.max)} ms | | |
| baseline: plain Node HTTP POST between two processes, ${o.concurrency} in flight | ${fmt(base.reqPerS)} req/s | | |
| Ed25519 sign+verify, one core | ${fmt(u.ed25519SignVerifyPerS)} /s | | |
| SQLite one-row commits with fsync (WAL, \`synchronous=FULL\`) | ${fmt(u.sqliteFsyncCommitsPerS)} /s | | |

Where the time goes (same run):

| | |
| --- | --- |
| A's API accepted messages at | ${fmt(t.enqueuePerS)} msgs/s |
| CPU per message, node A (API + sign + enqueue commit + delivery + receipt checks) | ${perMsgMs(t.cpu.a)} ms |
| CPU per message, node B (receive: parse, verify, store, sign receipt) | ${perMsgMs(t.cpu.b)} ms |
| CPU per message, bench client (${o.client}) | ${perMsgMs(t.cpu.bench)} ms |
| busy share of one core during the throughput run: A / B / client | ${coreShare(t.cpu.a, t)} / ${coreShare(t.cpu.b, t)} / ${coreShare(t.cpu.bench, t)} |
| A's crypto + JCS per message without I/O (sign, parse, canonicalise, hash) | ${fmt(1000 / u.outboxCpuPerS, 3)} ms |
| B's crypto + JCS per message without I/O (parse, verify, canonicalise, hash, sign receipt) | ${fmt(1000 / u.receiveCpuPerS, 3)} ms |
| A's receipt check per message (parse, canonicalise, verify) | ${fmt(1000 / u.receiptCheckPerS, 3)} ms |
| at ${fmt(o.rate)}/s: send → stored on A, p50 / p99 | ${fmt(l.toStoredA.p50)} / ${fmt(l.toStoredA.p99)} ms |
| at ${fmt(o.rate)}/s: stored on A → stored on B, p50 / p99 | ${fmt(l.aToB.p50)} / ${fmt(l.aToB.p99)} ms |
| at ${fmt(o.rate)}/s: stored on B → receipted on A, p50 / p99 | ${fmt(l.bToReceipt.p50)} / ${fmt(l.bToReceipt.p99)} ms |

${explanation(r)}
${END_MARK}`;
}

/**
 * Where the time goes, from this run's numbers: which process was busiest, how much of each
 * node's CPU per message the crypto and canonical JSON explain, and what the disk costs.
 */
function explanation(r: Report): string {
  const { o, m, micro: u, base, throughput: t, latency: l } = r;
  const ms = (x: number): string => fmt(x, 3);
  const busy = { A: t.cpu.a / t.seconds, B: t.cpu.b / t.seconds, client: t.cpu.bench / t.seconds };
  const [top, topShare] = Object.entries(busy).sort((x, y) => y[1] - x[1])[0]!;
  const aMs = (1000 * t.cpu.a) / o.messages;
  const bMs = (1000 * t.cpu.b) / o.messages;
  const aCrypto = 1000 / u.outboxCpuPerS + 1000 / u.receiptCheckPerS;
  const bCrypto = 1000 / u.receiveCpuPerS;
  const commitMs = 1000 / u.sqliteFsyncCommitsPerS;
  const bottleneck = topShare >= 0.8
    ? `${top} was the bottleneck: its one thread was on CPU ${fmt(100 * topShare)}% of the run (and blocked in its fsyncs for part of the rest).`
    : `No process kept its thread busy (the busiest, ${top}, ${fmt(100 * topShare)}%), so the time not spent computing was spent waiting: on fsyncs, which block a node's thread, and on the other node, since a link has one batch in flight at a time.`;
  return [
    'How to read it: each node is one Node.js thread, and better-sqlite3 runs every statement and',
    'every commit, fsync included, on that thread, so a node can use at most one core and blocks',
    `while its disk flushes. The three processes share ${m.cores} cores. ${bottleneck}`,
    '',
    `Per message, A spent ${ms(aMs)} ms of CPU, of which ${ms(aCrypto)} ms is what signing, canonical JSON,`,
    'hashing and checking the receipt cost when measured alone; the rest is HTTP (Fastify: parse,',
    'validate, answer), Kysely building each query, SQLite running the statements and commits, and',
    `garbage collection. B spent ${ms(bMs)} ms, of which ${ms(bCrypto)} ms is parsing, verifying and signing the`,
    `receipt. An fsync'd commit costs about ${ms(commitMs)} ms on this disk. A's outbox group-commits: the`,
    'messages that arrive while one commit runs share the next (one fsync for many, each POST answered',
    '202 only after its commit); B commits once per received batch, and A once more per batch for the',
    'receipts (docs/decisions/0002). For scale, two processes doing nothing but HTTP',
    `exchange ${fmt(base.reqPerS)} requests/s here, and a message crosses HTTP about twice (the POST, and its`,
    'share of a delivery batch and its answer).',
    '',
    `At ${fmt(o.rate)} messages/s the nodes are mostly idle, so latency is a chain of short steps: the POST`,
    `and A's commit (p50 ${fmt(l.toStoredA.p50)} ms), delivery to B with B's checks (p50 ${fmt(l.aToB.p50)} ms), and B's commit,`,
    `its answer and A's receipt commit (p50 ${fmt(l.bToReceipt.p50)} ms). A POST wakes the delivery loop, so no polling`,
    'interval is on the path; the tail comes from messages that arrive while a batch is in flight and',
    'wait for the next one, and from fsyncs that happen to be slow.',
  ].join('\n');
}

/** Replaces the bench's section of docs/benchmarks.md (appends it, creating the file if need be). */
export function writeDocs(section: string, marks: { start: string; end: string } = { start: START_MARK, end: END_MARK }): void {
  mkdirSync(dirname(DOCS), { recursive: true });
  const header = '# Benchmarks\n\nNumbers recorded by the benches in `bench/` (design.md section 10). Each bench replaces only its own section.\n';
  const current = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : header;
  const s = current.indexOf(marks.start);
  const e = current.indexOf(marks.end);
  const next = s !== -1 && e > s
    ? `${current.slice(0, s)}${section}${current.slice(e + marks.end.length)}`
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(DOCS, next);
}
