import type { Command } from 'commander';
import { list, send, show, type MessageView } from '../../../modules/messaging/messaging.service.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';

function stateOf(m: MessageView): string {
  if (m.direction === 'in') return `received ${m.stored_at}`;
  if (m.state === 'delivered') return `delivered ${m.receipted_at ?? ''}`;
  if (m.state === 'retrying') return `retrying (attempt ${m.attempts ?? 0}, next ${m.next_attempt_at ?? '?'})`;
  return 'queued';
}

function describe(m: MessageView): string {
  const lines = [
    `Message   ${m.id}`,
    `Link      ${m.from} → ${m.to}, seq ${m.seq}`,
    `Kind      ${m.kind} on ${m.channel}, ${m.priority.toUpperCase()}, TLP:${m.tlp.toUpperCase()}`,
    `Case      ${m.case}${m.in_reply_to === null ? '' : `, in reply to ${m.in_reply_to}`}`,
    `Sent      ${m.sent_at}`,
    `State     ${stateOf(m)}`,
  ];
  if (m.direction === 'out' && m.state !== 'delivered' && m.last_error) lines.push(`Last error ${m.last_error}`);
  if (m.receipt !== null) {
    const r = m.receipt;
    lines.push(`Receipt   signed by node ${r.from} at ${r.received_at}; link hash ${r.link_hash}`);
  }
  lines.push('', m.text ?? '(no text)');
  return lines.join('\n');
}

function listing(messages: MessageView[]): string {
  return table(['ID', 'SENT', 'FROM', 'TO', 'CHANNEL', 'PRIORITY', 'TLP', 'STATE', 'TEXT'], messages.map((m) => [
    m.id, m.sent_at, m.from, m.to, m.channel, m.priority, m.tlp, stateOf(m), (m.text ?? '').replace(/\s+/g, ' ').slice(0, 40),
  ]));
}

export function register(program: Command, cli: Cli): void {
  program.command('send')
    .description('queue a message to a peer; it is delivered while the node runs')
    .requiredOption('--to <party>', 'the peer')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .option('--kind <kind>', 'message kind', 'notification')
    .option('--priority <priority>', 'flash | immediate | priority | routine', 'routine')
    .option('--tlp <tlp>', 'clear | green | amber | amber+strict | red', 'amber')
    .requiredOption('--text <text>', 'the message')
    .option('--lang <lang>', 'language of the text (BCP 47), e.g. en, ru')
    .option('--case <id>', 'add to an existing case')
    .option('--in-reply-to <id>', 'the message this answers')
    .action((o: { to: string; channel: string; kind: string; priority: string; tlp: string; text: string; lang?: string; case?: string; inReplyTo?: string }) =>
      withNode(cli.home(), async (ctx) => {
        const env = await send(ctx, {
          to: o.to, channel: o.channel, kind: o.kind, priority: o.priority, tlp: o.tlp, text: o.text,
          ...(o.lang === undefined ? {} : { lang: o.lang }),
          ...(o.case === undefined ? {} : { case: o.case }),
          ...(o.inReplyTo === undefined ? {} : { in_reply_to: o.inReplyTo }),
        });
        cli.out.print(env.id, { id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
      }));

  for (const [name, direction, what] of [['inbox', 'in', 'what came in'], ['outbox', 'out', 'what went out, with its delivery state']] as const) {
    program.command(name)
      .description(`${what}, newest first`)
      .option('--limit <n>', 'how many', '50')
      .action((o: { limit: string }) => withNode(cli.home(), async (ctx) => {
        const messages = await list(ctx.db, direction, { limit: Number(o.limit) || 50 });
        cli.out.print(() => listing(messages), { messages });
      }));
  }

  program.command('show')
    .description('one message: its envelope, state, receipt')
    .argument('<id>')
    .action((id: string) => withNode(cli.home(), async (ctx) => {
      const r = await show(ctx.db, id);
      cli.out.print(() => describe(r.message), r);
    }));
}
