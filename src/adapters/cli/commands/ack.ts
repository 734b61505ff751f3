import type { Command } from 'commander';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

/** `hotline ack ID --officer NAME`: a person acknowledges a message this node received. */
export function register(program: Command, cli: Cli): void {
  program.command('ack')
    .description('acknowledge, as the officer who read it, a message this node received: a signed ack goes back to its sender')
    .argument('<id>', 'the message read')
    .requiredOption('--officer <name>', 'who read it')
    .option('--text <text>', 'a note, in your language')
    .option('--lang <lang>', 'language of the note (BCP 47)')
    .option('--as <user>', 'act as this user: only its channels (default: the node administrator)')
    .action((id: string, o: { officer: string; text?: string; lang?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const { ackMessage } = await import('../../../modules/cases/cases.service.js');
      const r = await ackMessage(ctx, {
        id, officer: o.officer,
        ...(o.text === undefined ? {} : { text: o.text }),
        ...(o.lang === undefined ? {} : { lang: o.lang }),
      }, await actingAs(ctx, o.as));
      cli.out.print(
        r.already
          ? `Already acknowledged by ${r.officer} at ${r.at} (ack ${r.ack_id}); nothing sent`
          : `Acknowledged ${r.acknowledges} as ${r.officer} at ${r.at}: ack ${r.ack_id} queued`,
        r,
      );
    }));
}
