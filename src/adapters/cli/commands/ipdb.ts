import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import type { IpdbDescription, IpdbKind } from '../../../modules/feeds/feeds.ipdb.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';

/** A package version's data date (feeds.ipsources.ts packageDataDate, imported by the verb that runs). */
type DataDate = (version: string) => string | null;

/** When the data is from: the package's date-stamped version, else the file's modification time. */
function dataOf(s: IpdbDescription['sources'][number], packageDataDate: DataDate): string {
  const date = s.package === undefined ? null : packageDataDate(s.package.version);
  return date === null ? s.modified.slice(0, 10) : `${date} (${s.package!.name}@${s.package!.version})`;
}

function describe(d: IpdbDescription, packageDataDate: DataDate): string {
  return [
    `Cache  ${d.cache.path} (${(d.cache.bytes / 1e6).toFixed(1)} MB, built ${d.cache.builtAt}${d.cache.rebuilt ? ', just rebuilt' : ''})`,
    '',
    table(['KIND', 'ORIGIN', 'DATA OF', 'ROWS', 'MODIFIED', 'FILE'], d.sources.map((s) => [s.kind, s.origin, dataOf(s, packageDataDate), String(s.rows), s.modified, s.path])),
    '',
    ...[...new Set(d.sources.map((s) => s.attribution).filter((a): a is string => a !== null))],
  ].join('\n');
}

/** `hotline ipdb status|import`: the offline IP → ASN and country data feeds are enriched from. */
export function register(program: Command, cli: Cli): void {
  const ipdb = program.command('ipdb').description('the offline IP → ASN / country database used to enrich feeds');

  ipdb.command('status')
    .description('which data files are in use, their rows and dates')
    .action(() => withNode(cli.home(), async (ctx) => {
      const [{ ipdbDir }, { describeIpdb }, { packageDataDate }] = await Promise.all([
        import('../../../context.js'), import('../../../modules/feeds/feeds.ipdb.js'), import('../../../modules/feeds/feeds.ipsources.js'),
      ]);
      const d = await describeIpdb({ cacheDir: ipdbDir(ctx.config) });
      cli.out.print(describe(d, packageDataDate), { ...d, sources: d.sources.map((s) => ({ ...s, data_of: dataOf(s, packageDataDate) })) });
    }));

  ipdb.command('import')
    .description('use a fresher CSV (the layout of the @ip-location-db packages: start,end,asn,org or start,end,country)')
    .argument('<file>')
    // The kinds are spelled out here so that `--help` does not load the feeds module (feeds.ipcsv.ts IPDB_KINDS).
    .option('--kind <kind>', 'asn-ipv4 | asn-ipv6 | country-ipv4 | country-ipv6 (default: detected from the content)')
    .action((file: string, o: { kind?: string }) => withNode(cli.home(), async (ctx) => {
      const [{ ipdbDir }, { importIpdb, IPDB_KINDS }, { packageDataDate }] = await Promise.all([
        import('../../../context.js'), import('../../../modules/feeds/feeds.ipdb.js'), import('../../../modules/feeds/feeds.ipsources.js'),
      ]);
      if (o.kind !== undefined && !(IPDB_KINDS as readonly string[]).includes(o.kind)) fail('invalid_argument', `--kind must be one of ${IPDB_KINDS.join(', ')}`);
      const r = await importIpdb({ cacheDir: ipdbDir(ctx.config), file, ...(o.kind === undefined ? {} : { kind: o.kind as IpdbKind }) });
      cli.out.print(`Imported ${r.rows} rows (${r.ranges} ranges${r.overlaps > 0 ? `, ${r.overlaps} overlapping rows resolved` : ''}) as ${r.kind} from ${file}\n\n${describe(r.database, packageDataDate)}`, r);
    }));
}
