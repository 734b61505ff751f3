import type { Command } from 'commander';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

/** `hotline overdue`: messages this node sent that the peer has not acknowledged in time. */
export function register(program: Command, cli: Cli): void {
  program.command('overdue')
    .description('messages we sent that the peer has not acknowledged by their deadline, most overdue first')
    .option('--limit <n>', 'how many', '100')
    .option('--as <user>', 'act as this user: only its channels are listed (default: the node administrator)')
    .action((o: { limit: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const [{ formatLate, listOverdue }, { shortMessageIds }] = await Promise.all([
        import('../../../modules/deadlines/deadlines.service.js'), import('../../../modules/federation/federation.ids.js'),
      ]);
      const as = await actingAs(ctx, o.as);
      const overdue = await listOverdue(ctx.db, ctx.clock.now(), { channels: as.channels, limit: Number(o.limit) || 100 });
      const short = cli.out.json ? new Map<string, string>() : await shortMessageIds(ctx.db, overdue.map((x) => x.message_id));
      cli.out.print(() => (overdue.length === 0 ? 'Nothing overdue: every message we sent is acknowledged or still within its deadline.'
        : table(['MESSAGE', 'PEER', 'PRIORITY', 'KIND', 'CHANNEL', 'SENT', 'DUE', 'LATE'],
          overdue.map((x) => [short.get(x.message_id) ?? x.message_id, x.peer, x.priority, x.kind, x.channel, x.sent_at, x.due_at, formatLate(x.late_ms)]))), { overdue });
    }));
}
