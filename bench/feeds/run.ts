/**
 * One pipeline run in its own process (so its peak RSS is the pipeline's): parse, normalise,
 * enrich, deduplicate, route and build the STIX bundles of a feed file — a dry run, delivery
 * excluded — and print one JSON line with what it did and cost.
 * Usage: node dist/bench/feeds/run.js HOME FILE
 */
import { createReadStream, statSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { feedRunDeps, openContext } from '../../src/context.js';
import { expectedRecords, ingestFeed } from '../../src/modules/feeds/feeds.run.js';
import { tuneHeapForFeedRun } from '../../src/modules/feeds/feeds.stage.js';
import { silentLogger } from '../../src/shared/logger.js';

const [home, file] = process.argv.slice(2);
if (home === undefined || file === undefined) throw new Error('usage: run.js HOME FILE');
const ctx = await openContext(loadConfig(home), { log: silentLogger });
const deps = await feedRunDeps(ctx);
// As `hotline feed ingest` does (a process whose work is the run).
tuneHeapForFeedRun();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { report } = await ingestFeed(deps, {
  input: createReadStream(file, { highWaterMark: 1024 * 1024 }), inputName: file, source: 'bench', format: 'csv', preset: 'generic',
  tlp: 'amber', windowMinutes: 24 * 60, keepDays: 2, dryRun: true, expectedRecords: expectedRecords(statSync(file).size),
});
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await ctx.close();
const routed = report.peers.reduce((n, p) => n + p.records, 0) + report.domestic.records;
process.stdout.write(`${JSON.stringify({
  rows: report.lines - 1, records: report.records, rejected: report.rejected, duplicates: report.duplicates, unrouted: report.unrouted, routed,
  objects: report.peers.reduce((n, p) => n + p.objects, 0) + report.domestic.objects,
  peers: report.peers.map((p) => ({ party: p.party, records: p.records, ips: p.distinct_ips, families: p.families.length })),
  seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, max_rss_mb: process.resourceUsage().maxRSS / 1024,
})}\n`);
