/**
 * npm run bench:feeds — the botnet-feed pipeline (parse, normalise, enrich, deduplicate, route,
 * STIX bundles; delivery excluded) on a generated feed of FEED_BENCH_ROWS rows (default
 * 10,000,000), in a child process of its own: records/s (wall and per CPU-second: the pipeline
 * is two threads, so up to two cores) and peak RSS of the whole process. A 1,000,000-row run first gives the throughput on a
 * warm, smaller feed. Writes docs/benchmarks.md's "Feeds" section (not with --no-docs); the last line is JSON.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initHome } from '../../src/adapters/cli/commands/init.js';
import { withNode } from '../../src/adapters/cli/home.js';
import { makeDescriptor, parseDescriptor } from '../../src/modules/federation/federation.peers.js';
import { checkJurisdiction } from '../../src/modules/feeds/feeds.route.js';
import { describeIpdb } from '../../src/modules/feeds/feeds.ipdb.js';
import { ipdbDir } from '../../src/context.js';
import { fmt } from '../federation/report.js';
import { machine } from '../federation/system.js';
import { generateFeed } from './generate.js';

const ROWS = Number(process.env.FEED_BENCH_ROWS ?? 10_000_000);
const DOCS = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));
const RUN = fileURLToPath(new URL('./run.js', import.meta.url));
const START = '<!-- bench:feeds:start -->';
const END = '<!-- bench:feeds:end -->';
const BAR_RECORDS_PER_S = 200_000;
const BAR_RSS_MB = 300;

/** Parties and what they are responsible for: the biggest sources of infected hosts, by country (and a few ASNs, one prefix). */
const PARTIES: Record<string, { countries: string[]; asns?: number[]; prefixes?: string[] }> = {
  us: { countries: ['US', 'CA'] },
  ru: { countries: ['RU', 'BY', 'KZ'], asns: [12389, 8359], prefixes: ['77.88.0.0/18'] },
  cn: { countries: ['CN', 'HK'] },
  de: { countries: ['DE', 'AT'] },
  fr: { countries: ['FR', 'BE'] },
  br: { countries: ['BR'] },
  in: { countries: ['IN'] },
  gb: { countries: ['GB', 'IE'] },
};

interface RunResult {
  rows: number; records: number; rejected: number; duplicates: number; unrouted: number; routed: number; objects: number;
  peers: { party: string; records: number; ips: number; families: number }[]; seconds: number; cpu_seconds: number; max_rss_mb: number;
}

async function setup(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-bench-feeds-'));
  const homes: Record<string, string> = {};
  for (const party of Object.keys(PARTIES)) {
    homes[party] = join(dir, party);
    await initHome({ home: homes[party]!, party, name: `${party} CERT`, listen: '127.0.0.1:0' });
  }
  const us = homes.us!;
  for (const party of Object.keys(PARTIES).filter((p) => p !== 'us')) {
    const d = await withNode(homes[party]!, async (ctx) => makeDescriptor(ctx.self, ctx.keys));
    await withNode(us, (ctx) => ctx.peers.add(parseDescriptor(d)));
  }
  await withNode(us, async (ctx) => {
    for (const [party, j] of Object.entries(PARTIES)) await ctx.jurisdictions.set(checkJurisdiction({ party, ...j }), Object.keys(PARTIES));
    // The IP database's cache is built once per node home (from the packages' CSVs, ~2 s): build it
    // here, so that the runs measure what every run after the first does.
    await describeIpdb({ cacheDir: ipdbDir(ctx.config) });
  });
  return us;
}

async function feedFile(rows: number): Promise<{ file: string; bytes: number; seconds: number }> {
  const file = join(tmpdir(), `hotline-bench-feed-${rows}.csv`);
  const t0 = performance.now();
  if (!existsSync(file) || statSync(file).size < rows * 40) {
    process.stderr.write(`generating ${fmt(rows)} rows into ${file}...\n`);
    await generateFeed(`${file}.tmp`, rows);
    execFileSync('mv', [`${file}.tmp`, file]);
  }
  return { file, bytes: statSync(file).size, seconds: (performance.now() - t0) / 1000 };
}

function run(home: string, file: string): RunResult {
  const out = execFileSync(process.execPath, [RUN, home, file], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as RunResult;
}

const home = await setup();
const m = machine();
const results: { label: string; bytes: number; r: RunResult }[] = [];
for (const rows of [...new Set([Math.min(1_000_000, ROWS), ROWS])]) {
  const f = await feedFile(rows);
  process.stderr.write(`pipeline on ${fmt(rows)} rows (${fmt(f.bytes / 1e6)} MB)...\n`);
  results.push({ label: `${fmt(rows)} rows`, bytes: f.bytes, r: run(home, f.file) });
}
const big = results.at(-1)!.r;
const perS = (r: RunResult): number => r.records / r.seconds;
const perCpuS = (r: RunResult): number => r.records / r.cpu_seconds;
const yes = (ok: boolean): string => (ok ? 'met' : '**not met**');
const section = [
  START,
  '## Feed routing (bench:feeds)',
  '',
  '`npm run bench:feeds`: a generated feed (generic CSV layout: timestamp, ip, port, family, type, protocol; 85% infected hosts and 15% C2 servers',
  'at addresses drawn from the real ASN ranges of `@ip-location-db/asn` in proportion to their size; 36 families with a long tail; ~12% repeats of',
  'recent rows; 0.1% bad rows), run through the whole pipeline up to the STIX bundles (parse, normalise, enrich from the offline IP database,',
  'deduplicate in a 24 h window, route by the jurisdictions of 8 parties, build bundles of ≤ 750 KB) with `--dry-run` semantics: nothing queued',
  'or stored (delivery excluded). Each run is its own process (`bench/feeds/run.ts`); the pipeline is two threads (parse to routing on a worker; bundles on the main thread), so it uses up to two cores; peak RSS is of the whole process.',
  '',
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}; run ${m.date} (1-minute load average ${fmt(m.load1, 2)} at start).`,
  '',
  '| feed | records | rejected | duplicates | unrouted | STIX objects | wall s | records/s (wall) | records per CPU-second | peak RSS |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(({ label, bytes, r }) => `| ${label} (${fmt(bytes / 1e6)} MB) | ${fmt(r.records)} | ${fmt(r.rejected)} | ${fmt(r.duplicates)} | ${fmt(r.unrouted)} | ${fmt(r.objects)} | ${fmt(r.seconds, 1)} | **${fmt(perS(r))}** | ${fmt(perCpuS(r))} | **${fmt(r.max_rss_mb)} MB** |`),
  '',
  `Bars (design.md §10): ≥ ${fmt(BAR_RECORDS_PER_S)} records/s: ${yes(perS(big) >= BAR_RECORDS_PER_S)} (${fmt(perS(big))}/s wall); RSS < ${BAR_RSS_MB} MB for ${fmt(big.rows)} rows: ${yes(big.max_rss_mb < BAR_RSS_MB)} (${fmt(big.max_rss_mb)} MB).`,
  '',
  `Routed per party (${results.at(-1)!.label}): ${big.peers.map((p) => `${p.party} ${fmt(p.records)} records / ${fmt(p.ips)} IPs / ${p.families} families`).join('; ')}.`,
  END,
].join('\n');
process.stdout.write(`\n${section}\n\n`);
if (process.argv.includes('--no-docs')) {
  process.stdout.write(`${JSON.stringify({ bench: 'feeds', records_per_s: Math.round(perS(big)), peak_rss_mb: Math.round(big.max_rss_mb), rows: big.rows })}\n`);
  process.exit(0);
}
const docs = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : '# Benchmarks\n';
const i = docs.indexOf(START);
const j = docs.indexOf(END);
writeFileSync(DOCS, i >= 0 && j > i ? docs.slice(0, i) + section + docs.slice(j + END.length) : `${docs.trimEnd()}\n\n${section}\n`);
process.stdout.write(`${JSON.stringify({ bench: 'feeds', records_per_s: Math.round(perS(big)), peak_rss_mb: Math.round(big.max_rss_mb), rows: big.rows })}\n`);
