import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { TLPS, type Tlp } from '../../../modules/federation/federation.types.js';
import type { RunReport } from '../../../modules/feeds/feeds.run.js';
import type { RunView } from '../../../modules/feeds/feeds.runs.js';
import { FEED_FORMATS, formatReject, type FeedFormat } from '../../../modules/feeds/feeds.types.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli } from '../actor.js';

/** The input as a stream of bytes: a file, stdin (`-`) or an http(s) URL; its size when known. */
export async function openInput(input: string): Promise<{ stream: AsyncIterable<Buffer | string>; size: number | null }> {
  if (input === '-') return { stream: process.stdin, size: null };
  if (/^https?:\/\//i.test(input)) {
    let res: Response;
    try {
      res = await fetch(input);
    } catch (e) {
      return fail('invalid_argument', `Cannot fetch ${input}: ${(e as Error).message}`);
    }
    if (!res.ok || res.body === null) fail('invalid_argument', `Fetching ${input} answered ${res.status} ${res.statusText}`);
    const len = Number(res.headers.get('content-length'));
    return { stream: Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), size: Number.isFinite(len) && len > 0 ? len : null };
  }
  let size: number;
  try {
    const s = statSync(input);
    if (!s.isFile()) fail('invalid_argument', `${input} is not a file`);
    size = s.size;
  } catch (e) {
    return fail('invalid_argument', `Cannot read ${input}: ${(e as Error).message}`);
  }
  return { stream: createReadStream(input, { highWaterMark: 1024 * 1024 }), size };
}

/** Message ids and malware families a run's table shows per destination (--json has them all). */
const IDS_SHOWN = 3;
const FAMILIES_SHOWN = 6;

/** What went where, as a person reads it. */
export function describeRun(id: string, r: RunReport, state?: string): string {
  const lines = [
    `Feed run ${id}${state === undefined ? '' : ` (${state})`}: ${r.source}, TLP:${r.tlp.toUpperCase()}`,
    `Read      ${r.lines} lines, ${r.records} records, ${r.rejected} rejected, ${r.duplicates} duplicates, ${r.unrouted} in no one's jurisdiction (${(r.elapsed_ms / 1000).toFixed(1)} s)`,
  ];
  // A large run queues hundreds of bundles: the table names the first few (--json lists them all, as does hotline feed show --json).
  const ids = (m: readonly string[]): string => m.length <= IDS_SHOWN ? m.join(' ') : `${m.slice(0, IDS_SHOWN).join(' ')} … (+${m.length - IDS_SHOWN}; --json lists all)`;
  const families = (f: readonly string[]): string => f.length === 0 ? '-' : f.length <= FAMILIES_SHOWN ? f.join(',') : `${f.slice(0, FAMILIES_SHOWN).join(',')},… (${f.length})`;
  const rows = r.peers.map((p) => [p.party, String(p.records), String(p.distinct_ips), families(p.families), String(p.messages.length), ids(p.messages)]);
  rows.push([`${r.domestic.party} (domestic)`, String(r.domestic.records), String(r.domestic.distinct_ips), families(r.domestic.families), '-', `collection ${r.domestic.collection}`]);
  lines.push('', table(['TO', 'RECORDS', 'DISTINCT IPS', 'FAMILIES', 'MESSAGES', 'IDS'], rows));
  const shown = r.rejects.slice(0, 20);
  if (shown.length > 0) lines.push('', `Rejected: ${r.rejected === shown.length ? 'all' : `the first ${shown.length} of`} ${r.rejected}${r.rejects.length > shown.length ? ` (--json has the first ${r.rejects.length})` : ''}:`, ...shown.map((x) => `  ${formatReject(x)}`));
  return lines.join('\n');
}

/** `hotline feed ingest|runs|show|jurisdiction`: the botnet exchange. */
export function register(program: Command, cli: Cli): void {
  const feed = program.command('feed').description('ingest botnet feeds and route each record to the party responsible for it');

  feed.command('ingest')
    .description('parse, enrich, deduplicate and route a feed; queue STIX bundles to peers and store the domestic records')
    .argument('<input>', 'a file, - for stdin, or an http(s) URL')
    .option('--format <format>', FEED_FORMATS.join(' | '), 'auto')
    .option('--preset <name>', 'a CSV layout from presets/ (default: recognised from the header)')
    .option('--map <spec>', 'a column mapping, e.g. ip=src,port=sport,timestamp=time,family=malware,type=c2')
    .option('--delimiter <char>', 'CSV delimiter (default: detected)')
    .option('--source <name>', 'the feed\'s name (default: the file name)')
    .option('--tlp <tlp>', 'the TLP of what is sent and stored', 'amber')
    .option('--window-hours <h>', 'a record repeating one reported less than this long before is a duplicate', '24')
    .option('--keep-days <d>', 'how long reported records are remembered for deduplication (kept in memory during a run: keep it near the window)', '2')
    .option('--dry-run', 'report what would go where; send and store nothing')
    .option('--no-progress', 'no progress bar')
    .option('--in-process', 'run it in this process even while the node runs (on SQLite the node\'s event loop then waits while each bundle is written)')
    .addHelpText('after', [
      '', 'While the node runs, the run is handed to it (a feed job, as an upload is) and',
      'followed here: the node runs it beside its other work (on SQLite a second process',
      'writing would hold up the node\'s event loop). Ctrl-C then stops the following,',
      'not the run. With no node running, or --in-process, this process runs it.',
    ].join('\n'))
    .action((input: string, o: { format: string; preset?: string; map?: string; delimiter?: string; source?: string; tlp: string; windowHours: string; keepDays: string; dryRun?: boolean; inProcess?: boolean; progress: boolean }) =>
      withNode(cli.home(), async (ctx) => {
        if (!(FEED_FORMATS as readonly string[]).includes(o.format)) fail('invalid_argument', `--format must be one of ${FEED_FORMATS.join(', ')}`);
        if (!(TLPS as readonly string[]).includes(o.tlp)) fail('unknown_tlp', `Unknown TLP "${o.tlp}"; use one of: ${TLPS.join(', ')}`);
        const hours = Number(o.windowHours);
        const keep = Number(o.keepDays);
        if (!(hours >= 0)) fail('invalid_argument', '--window-hours must be a number of hours (0 turns deduplication off)');
        if (!(keep > 0)) fail('invalid_argument', '--keep-days must be a positive number of days');
        const [{ default: cliProgress }, { feedRunDeps }, { expectedRecords, ingestFeed }, { tuneHeapForFeedRun }, { nodeRunning, runInNode }] = await Promise.all([
          import('cli-progress'), import('../../../context.js'), import('../../../modules/feeds/feeds.run.js'), import('../../../modules/feeds/feeds.stage.js'), import('../feedjob.js'),
        ]);
        const source = o.source ?? (input === '-' ? 'stdin' : basename(input.split('?')[0]!));
        const dryRun = o.dryRun === true;
        const node = dryRun || o.inProcess === true ? undefined : await nodeRunning(ctx, cli.home());
        const { stream, size } = await openInput(input);
        const showBar = o.progress && !cli.out.json && process.stderr.isTTY === true;
        const bar = showBar ? new cliProgress.SingleBar({
          format: '{bar} {percentage}% | {rows} rows, {rate} rows/s | {routed} | rejected {rejected}', stream: process.stderr, hideCursor: true,
        }, cliProgress.Presets.shades_classic) : null;
        const progress = (r: Readonly<RunReport>): void => bar?.update(size === null ? 0 : r.bytes, {
          rows: r.records, rate: Math.round(r.records / Math.max(0.001, r.elapsed_ms / 1000)), rejected: r.rejected,
          routed: [...r.peers.map((p) => `${p.party} ${p.records}`), `domestic ${r.domestic.records}`].join(', '),
        });
        const common = {
          inputName: input, source, format: o.format as FeedFormat, preset: o.preset, mapping: o.map, delimiter: o.delimiter, tlp: o.tlp as Tlp,
          windowMinutes: hours * 60, keepDays: keep,
        };
        let id: string;
        let report: RunReport;
        if (node !== undefined) {
          ({ id, report } = await runInNode(ctx, {
            onHandOver: () => {
              if (!cli.out.json) process.stderr.write(`Handing the run to ${node}, which runs it; following it here.\n`);
              bar?.start(size ?? 1, 0, { rows: 0, rate: 0, routed: '', rejected: 0 });
            },
            input: stream, source, home: cli.home(), options: (n) => ({ ...common, expectedRecords: expectedRecords(n) }),
            parse: { format: common.format, preset: o.preset, mapping: o.map, delimiter: o.delimiter, source },
            onProgress: (v) => progress(v.report), onWaiting: (m) => process.stderr.write(`${m}\n`),
          }).finally(() => bar?.stop()));
        } else {
          tuneHeapForFeedRun();
          const deps = await feedRunDeps(ctx);
          bar?.start(size ?? 1, 0, { rows: 0, rate: 0, routed: '', rejected: 0 });
          ({ id, report } = await ingestFeed(deps, {
            ...common, input: stream, dryRun, ...(size === null ? {} : { expectedRecords: expectedRecords(size) }), onProgress: progress,
          }).finally(() => bar?.stop()));
        }
        const ranBy = node === undefined ? 'cli' : 'node';
        await auditCli(ctx, { action: 'feed.run', subject: id, details: { source, format: o.format, tlp: o.tlp, dry_run: dryRun, records: report.records, rejected: report.rejected, ran_by: ranBy } });
        cli.out.print(describeRun(id, report, dryRun ? 'dry run: nothing sent or stored' : undefined), { id, dry_run: dryRun, ran_by: ranBy, report });
      }));

  feed.command('runs')
    .description('past feed runs, newest first')
    .option('--limit <n>', 'how many', '20')
    .action((o: { limit: string }) => withNode(cli.home(), async (ctx) => {
      const { listRuns } = await import('../../../modules/feeds/feeds.runs.js');
      const runs = await listRuns(ctx.db, ctx.clock.now(), Number(o.limit) || 20);
      cli.out.print(() => table(['ID', 'STARTED', 'STATE', 'SOURCE', 'RECORDS', 'REJECTED', 'DUPLICATES', 'ROUTED'], runs.map((r: RunView) => [
        r.id, r.started_at, r.state, r.source, String(r.report.records), String(r.report.rejected), String(r.report.duplicates),
        [...r.report.peers.map((p) => `${p.party} ${p.records}`), `domestic ${r.report.domestic.records}`].join(', '),
      ])), { runs });
    }));

  feed.command('show')
    .description('one feed run: what it read and what went where')
    .argument('<id>')
    .action((id: string) => withNode(cli.home(), async (ctx) => {
      const { showRun } = await import('../../../modules/feeds/feeds.runs.js');
      const r = await showRun(ctx.db, id, ctx.clock.now());
      cli.out.print(`${describeRun(r.id, r.report, r.state)}${r.error === null ? '' : `\n\n${r.error}`}`, r);
    }));

  const jurisdiction = feed.command('jurisdiction').description('who is responsible for which addresses: countries, ASNs, prefixes (most specific wins)');
  jurisdiction.command('set')
    .description('set (replace) the jurisdiction of this node or a pinned peer')
    .argument('<party>', 'this node\'s party (its domestic collection) or a pinned peer')
    .option('--countries <list>', 'ISO 3166 codes, e.g. RU,BY')
    .option('--asns <list>', 'AS numbers, e.g. 12389,AS8359')
    .option('--prefixes <list>', 'CIDR prefixes, e.g. 203.0.113.0/24,2001:db8::/32')
    .action((party: string, o: { countries?: string; asns?: string; prefixes?: string }) => withNode(cli.home(), async (ctx) => {
      const split = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
      const { checkJurisdiction } = await import('../../../modules/feeds/feeds.route.js');
      const j = checkJurisdiction({ party, countries: split(o.countries), asns: split(o.asns), prefixes: split(o.prefixes) });
      const known = [ctx.self.party, ...(await ctx.peers.list()).map((p) => p.party)];
      await ctx.jurisdictions.set(j, known);
      cli.out.print(`${party}: countries ${j.countries.join(',') || '-'}; ASNs ${j.asns.join(',') || '-'}; prefixes ${j.prefixes.join(',') || '-'}`, j);
    }));
  jurisdiction.command('list')
    .description('every party\'s jurisdiction')
    .action(() => withNode(cli.home(), async (ctx) => {
      const list = await ctx.jurisdictions.list();
      cli.out.print(() => table(['PARTY', 'COUNTRIES', 'ASNS', 'PREFIXES'], list.map((j) => [
        j.party === ctx.self.party ? `${j.party} (this node)` : j.party, j.countries.join(','), j.asns.join(','), j.prefixes.join(','),
      ])), { jurisdictions: list });
    }));
}
