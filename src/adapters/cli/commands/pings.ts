import type { Command } from 'commander';
import type { Reachability } from '../../../modules/directory/directory.pings.js';

const pings = (): Promise<typeof import('../../../modules/directory/directory.pings.js')> => import('../../../modules/directory/directory.pings.js');
import { fail } from '../../../shared/errors.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

/** A duration a person reads: 45s, 7m 05s, 3h 20m, 2d 4h. */
export function duration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor(s / 3600) % 24}h`;
}

function reachabilityText(rows: readonly Reachability[]): string {
  return table(['PEER', 'CHANNEL', 'SENT', 'ANSWERED', 'MEDIAN', 'WORST', 'LAST SUCCESS', 'BY'], rows.map((r) => [
    r.peer, r.channel, String(r.sent), String(r.answered), duration(r.median_ms), duration(r.worst_ms), r.last_success_at ?? 'never', r.last_officer ?? '',
  ]));
}

export function register(program: Command, cli: Cli): void {
  program.command('ping')
    .description('send a ping test: the peer\'s on-duty officer answers with "hotline pong"')
    .requiredOption('--to <party>', 'the peer')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .option('--priority <priority>', 'flash | immediate | priority | routine', 'routine')
    .option('--text <text>', 'what the officer reads (default: how to answer)')
    .action((o: { to: string; channel: string; priority: string; text?: string }) => withNode(cli.home(), async (ctx) => {
      const { sendPing } = await pings();
      const env = await sendPing(ctx, { to: o.to, channel: o.channel, priority: o.priority, ...(o.text === undefined ? {} : { text: o.text }) });
      cli.out.print(env.id, { id: env.id, case: env.case, to: env.to, channel: env.channel, state: 'queued' });
    }));

  program.command('pong')
    .description('answer a ping this node received, as the user you act as: the pong names you')
    .argument('<ping-id>', 'the ping (see "hotline pings --pending")')
    .option('--as <user>', 'the user who answers: the pong names it, by its display name (default: the node administrator)')
    .option('--text <text>', 'a word for the peer')
    .action((id: string, o: { as?: string; text?: string }) => withNode(cli.home(), async (ctx) => {
      const { sendPong } = await pings();
      const env = await sendPong(ctx, { ping: id, ...(o.text === undefined ? {} : { text: o.text }) }, await actingAs(ctx, o.as));
      cli.out.print(env.id, { id: env.id, case: env.case, in_reply_to: env.in_reply_to, to: env.to, state: 'queued' });
    }));

  program.command('pings')
    .description('ping tests sent and received, newest first')
    .option('--pending', 'only pings not answered yet')
    .option('--direction <in|out>', 'in: pings to answer; out: pings sent')
    .option('--limit <n>', 'how many', '50')
    .action((o: { pending?: boolean; direction?: string; limit: string }) => withNode(cli.home(), async (ctx) => {
      if (o.direction !== undefined && o.direction !== 'in' && o.direction !== 'out') fail('invalid_argument', '--direction must be "in" or "out"');
      const { listPings } = await pings();
      const list = await listPings(ctx.db, {
        pending: o.pending === true, limit: Number(o.limit) || 50,
        ...(o.direction === undefined ? {} : { direction: o.direction as 'in' | 'out' }),
      });
      cli.out.print(() => table(['ID', 'DIRECTION', 'PEER', 'CHANNEL', 'SENT', 'ANSWERED', 'BY', 'AFTER'], list.map((p) => [
        p.id, p.direction === 'out' ? 'sent' : 'received', p.peer, p.channel, p.sent_at, p.answered_at ?? 'not yet', p.officer ?? '', duration(p.answer_ms),
      ])), { pings: list });
    }));

  program.command('reachability')
    .description('per peer and channel: pings sent, answered, median and worst time to answer, last success')
    .option('--peer <party>', 'only this peer')
    .option('--channel <channel>', 'only this channel')
    .action((o: { peer?: string; channel?: string }) => withNode(cli.home(), async (ctx) => {
      const { reachability } = await pings();
      const rows = await reachability(ctx, o);
      cli.out.print(() => reachabilityText(rows), { reachability: rows });
    }));
}
