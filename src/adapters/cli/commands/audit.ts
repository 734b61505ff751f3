import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';

/**
 * `hotline audit [--user U] [--action A] [--since T] [--limit N] [--json]`: searches the audit
 * trail (modules/audit), newest first. `hotline verify` checks that it is whole and unchanged.
 */
export function register(program: Command, cli: Cli): void {
  program.command('audit')
    .description('search the audit trail: who did what, when and from where (newest first); "hotline verify" checks it')
    .option('--user <name>', 'who acted: a user name, cli:<os user>, node or anonymous')
    .option('--action <action>', 'e.g. message.send, message.ack, message.read_red, user.add, token.create, peer.add, prune, auth.failed')
    .option('--since <time>', 'a time (2026-12-01T00:00Z) or a duration back from now (30m, 24h, 7d)')
    .option('--limit <n>', 'at most this many records', '100')
    .action((o: { user?: string; action?: string; since?: string; limit: string }) => withNode(cli.home(), async (ctx) => {
      const { searchAudit } = await import('../../../modules/audit/audit.service.js');
      const limit = Number(o.limit);
      if (!Number.isInteger(limit)) fail('invalid_argument', `--limit is a number from 1 to 10000 (got "${o.limit}")`);
      const records = await searchAudit(ctx.db, {
        ...(o.user === undefined ? {} : { user: o.user }), ...(o.action === undefined ? {} : { action: o.action }),
        ...(o.since === undefined ? {} : { since: o.since }), limit,
      }, ctx.clock.now());
      cli.out.print(() => (records.length === 0 ? 'No audit records match.' : table(['#', 'AT', 'WHO', 'FROM', 'ACTION', 'SUBJECT', 'DETAILS'],
        records.map((r) => [String(r.seq), r.at, r.actor, r.address, r.action, r.subject ?? '', JSON.stringify(r.details)]))), { records });
    }));
}
