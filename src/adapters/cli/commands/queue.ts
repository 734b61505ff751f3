import type { Command } from 'commander';
import type { QueueItem } from '../../../modules/deadlines/deadlines.queue.js';
import { table } from '../output.js';
import { withNodeBase } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

function listing(items: readonly QueueItem[], short: ReadonlyMap<string, string>, left: (dueAt: string) => string): string {
  if (items.length === 0) return 'Nothing to acknowledge.';
  return table(['PRIORITY', 'DUE', 'ID', 'KIND', 'FROM', 'CHANNEL', 'SUMMARY'], items.map((i) => [
    i.priority.toUpperCase(), left(i.due_at), short.get(i.id)!, i.kind, i.from, i.channel, i.summary,
  ]));
}

/** `hotline queue`: what the user must acknowledge, FLASH first, earliest due first. */
export function register(program: Command, cli: Cli): void {
  program.command('queue')
    .description('what you must acknowledge: received messages waiting for a person, on your channels, FLASH first, then by due time')
    .option('--as <user>', 'the user whose queue it is: its channels and TLP:RED recipiency apply (default: the node administrator)')
    .option('--limit <n>', 'how many', '100')
    .option('--lang <lang>', "language of the summaries (default: the node's language)")
    .action((o: { as?: string; limit: string; lang?: string }) => withNodeBase(cli.home(), async (ctx) => {
      const [{ dutyQueue }, { timeLeft }, { requireLanguage }, { shortMessageIds }] = await Promise.all([
        import('../../../modules/deadlines/deadlines.queue.js'), import('../../../modules/deadlines/deadlines.service.js'),
        import('../../../modules/templates/templates.service.js'), import('../../../modules/federation/federation.ids.js'),
      ]);
      const now = ctx.clock.now();
      const queue = await dutyQueue(ctx.db, now, await actingAs(ctx, o.as), { limit: Number(o.limit) || 100, lang: requireLanguage(o.lang ?? ctx.config.language) });
      const short = cli.out.json ? new Map<string, string>() : await shortMessageIds(ctx.db, queue.map((i) => i.id));
      cli.out.print(() => listing(queue, short, (d) => timeLeft(d, now)), { queue });
    }));
}
