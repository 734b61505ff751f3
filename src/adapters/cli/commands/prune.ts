import type { Command } from 'commander';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli } from '../actor.js';

/**
 * `hotline prune [--dry-run]`: deletes what the running node would delete on its next hourly pass
 * (TAXII statuses, notifications, feed runs past `retention` in hotline.json). Never messages,
 * receipts, acknowledgements, cases, preservations or the audit trail (evidence); each prune is
 * itself an audit record.
 */
export function register(program: Command, cli: Cli): void {
  program.command('prune')
    .description('delete TAXII statuses, notifications and feed runs older than their retention (hotline.json "retention"); messages, receipts and acknowledgements are never deleted')
    .option('--dry-run', 'count what would be deleted; change nothing')
    .action((o: { dryRun?: boolean }) => withNode(cli.home(), async (ctx) => {
      const [{ retentionRules }, { pruneAll }] = await Promise.all([import('../../../retention.js'), import('../../../shared/retention.js')]);
      const dryRun = o.dryRun === true;
      const pruned = await pruneAll(retentionRules(ctx.db, ctx.config.retention), ctx.clock.now(), dryRun);
      if (!dryRun) await auditCli(ctx, { action: 'prune', details: { deleted: Object.fromEntries(pruned.map((p) => [p.kind, p.count])) } });
      cli.out.print(() => table([dryRun ? 'WOULD DELETE' : 'DELETED', 'KIND', 'OLDER THAN'],
        pruned.map((p) => [String(p.count), p.kind, `${p.older_than_days} days (${p.before})`])), { dry_run: dryRun, pruned });
    }));
}
