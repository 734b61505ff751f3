import type { Command } from 'commander';
import type { AckResult } from '../../../modules/cases/cases.types.js';
import { fail } from '../../../shared/errors.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

/** "Ivan Petrov (ivan)", or the display name alone for an ack that does not record the user name. */
export function acknowledger(a: { officer: string; user: string | null }): string {
  return a.user === null ? a.officer : `${a.officer} (${a.user})`;
}

function said(r: AckResult): string {
  return r.already
    ? `Already acknowledged by ${acknowledger(r)} at ${r.at} (ack ${r.ack_id}); nothing sent`
    : `Acknowledged ${r.acknowledges} as ${acknowledger(r)} at ${r.at}: ack ${r.ack_id} queued`;
}

/**
 * `hotline ack ID [--as USER]`: a person acknowledges a message this node received. The ack names
 * the user it acts as (its user name and display name); without `--as`, the node administrator.
 */
export function register(program: Command, cli: Cli): void {
  program.command('ack')
    .description('acknowledge a message this node received (or every unacknowledged one of a case), as the user you act as: a signed ack naming you goes back to its sender')
    .argument('[id]', 'the message read')
    .option('--case <case>', 'instead of one message: every message of this case not yet acknowledged that you may read')
    .option('--text <text>', 'a note, in your language')
    .option('--lang <lang>', 'language of the note (BCP 47)')
    .option('--as <user>', 'the user who read it: the ack names it, by its display name (default: the node administrator)')
    .action((id: string | undefined, o: { case?: string; text?: string; lang?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const { ackMessage, ackCase } = await import('../../../modules/cases/cases.service.js');
      const note = { ...(o.text === undefined ? {} : { text: o.text }), ...(o.lang === undefined ? {} : { lang: o.lang }) };
      if ((id === undefined) === (o.case === undefined)) fail('invalid_argument', 'Give the message to acknowledge (hotline ack ID) or a case (hotline ack --case ID), not both');
      if (o.case !== undefined) {
        const r = await ackCase(ctx, { case: o.case, ...note }, await actingAs(ctx, o.as));
        const who = r.acked[0] === undefined ? '' : acknowledger(r.acked[0]);
        cli.out.print(r.acked.length === 0
          ? `Nothing to acknowledge in case ${r.case}: every message you may read is acknowledged`
          : [`Acknowledged ${r.acked.length} message(s) of case ${r.case} as ${who}:`, ...r.acked.map((a) => `  ${a.acknowledges}: ack ${a.ack_id} queued`)].join('\n'), r);
        return;
      }
      const r = await ackMessage(ctx, { id: id!, ...note }, await actingAs(ctx, o.as));
      cli.out.print(said(r), r);
    }));
}
