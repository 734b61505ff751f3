import type { Command } from 'commander';
import type { MessageView } from '../../../modules/messaging/messaging.service.js';
import type { InboxItem, InboxPage } from '../../../modules/messaging/messaging.inbox.js';
import { NODE_KINDS } from '../../../modules/messaging/messaging.kinds.js';
import { lastErrorCode } from '../../../modules/federation/federation.types.js';
import { table } from '../output.js';
import { deliveryNote, withNode, withNodeBase } from '../home.js';
import type { Cli } from '../main.js';
import { acknowledger } from './ack.js';
import { actingAs } from './user.js';
import { collect, fieldsFromOptions, formatRendered } from './templates.js';
import type { RenderedLine } from '../../../modules/templates/templates.types.js';

function fieldsInput(fields: Record<string, unknown> | undefined): { fields?: Record<string, unknown> } {
  return fields === undefined ? {} : { fields };
}

/**
 * A message's state: the node's receipt and a person's acknowledgement, never one for the other,
 * e.g. "delivered: receipted by node ru at T1; acknowledged by Ivan Petrov (ivan) at T2".
 */
export function stateOf(m: MessageView): string {
  const ack = m.acknowledged === null || m.acknowledged === undefined ? '' : `; acknowledged by ${acknowledger(m.acknowledged)} at ${m.acknowledged.at}`;
  if (m.direction === 'in') return `received ${m.stored_at}${ack}`;
  if (m.state === 'delivered') return `delivered: receipted by node ${m.receipt?.from ?? m.to} at ${m.receipt?.received_at ?? m.receipted_at ?? '?'}${ack}`;
  if (m.state === 'retrying') {
    const code = lastErrorCode(m.last_error);
    return `retrying (attempt ${m.attempts ?? 0}, next ${m.next_attempt_at ?? '?'}${code === null ? '' : `, ${code}`})${ack}`;
  }
  if (m.state === 'suspended') return `suspended: ${m.to} is suspended on this node; delivered in order once resumed (hotline peer resume ${m.to})${ack}`;
  if (m.state === 'removed') return `not sent: ${m.to} was removed before it was delivered; kept as evidence${ack}`;
  return `queued${ack}`;
}

function describe(m: MessageView, rendered: readonly RenderedLine[] = []): string {
  const lines = [
    `Message   ${m.id}`,
    `Link      ${m.from} → ${m.to}, seq ${m.seq}`,
    `Kind      ${m.kind} on ${m.channel}, ${m.priority.toUpperCase()}, TLP:${m.tlp.toUpperCase()}`,
    `Case      ${m.case}${m.in_reply_to === null ? '' : `, in reply to ${m.in_reply_to}`}`,
    `Sent      ${m.sent_at}`,
    `State     ${stateOf(m)}`,
  ];
  if (m.sender !== null) lines.push(`Sender    ${m.sender}`);
  if (m.recipients !== null) lines.push(`For       ${m.recipients.join(', ')} (TLP:RED recipients at ${m.to})`);
  if (m.direction === 'out' && m.state !== 'delivered' && m.last_error) lines.push(`Last error ${m.last_error}`);
  if (m.receipt !== null) {
    const r = m.receipt;
    lines.push(`Receipt   signed by node ${r.from} at ${r.received_at}; link hash ${r.link_hash}`);
  }
  lines.push('', ...(rendered.length > 0 ? formatRendered(rendered) : [m.redacted ?? m.text ?? '(no text)']));
  return lines.join('\n');
}

/** The STATE column: delivery (outbox) or receipt, then the acknowledgement (due, overdue, by whom) and whether it was answered. */
function shortState(m: InboxItem, left: (dueAt: string) => string): string {
  let s = m.direction === 'in' ? 'received' : m.state === 'retrying' ? stateOf({ ...m, acknowledged: null }) : m.state;
  if (m.acknowledged !== null && m.acknowledged !== undefined) s += `, acked by ${acknowledger(m.acknowledged)}`;
  else if (m.ack?.acknowledged_at != null) s += ', acked';
  else if (m.ack !== null) s += m.ack.overdue ? `, ack ${left(m.ack.due_at)}` : `, ack due ${left(m.ack.due_at)}`;
  if (m.answered) s += ', answered';
  return s;
}

function listing(page: InboxPage, direction: 'in' | 'out', short: ReadonlyMap<string, string>, left: (dueAt: string) => string): string {
  const rows = table(['ID', 'PRIORITY', 'KIND', direction === 'in' ? 'FROM' : 'TO', 'CHANNEL', 'STATE', 'SUMMARY'], page.messages.map((m) => [
    short.get(m.id)!, m.priority.toUpperCase(), m.kind, direction === 'in' ? m.from : m.to, m.channel, shortState(m, left), m.summary,
  ]));
  return page.next === null ? rows : `${rows}\n(more: add --cursor ${page.next})`;
}

export function register(program: Command, cli: Cli): void {
  program.command('send')
    .description('queue a message to a peer; it is delivered while the node runs')
    .requiredOption('--to <party>', 'the peer')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .option('--kind <kind>', `message kind (not ${Object.keys(NODE_KINDS).join(', ')}: each has its own command)`, 'notification')
    .option('--priority <priority>', 'flash | immediate | priority | routine', 'routine')
    .option('--tlp <tlp>', 'clear | green | amber | amber+strict | red', 'amber')
    .option('--text <text>', 'free text in your language (required for some kinds, e.g. notification)')
    .option('--field <key=value>', 'a template field (repeatable); lists as key=a,b; a time window as key=FROM/TO (see hotline templates KIND)', collect, [])
    .option('--template-file <file>', 'a JSON object of template fields (--field overrides them)')
    .option('--lang <lang>', 'language of the text (BCP 47), e.g. en, ru')
    .option('--case <id>', 'add to an existing case')
    .option('--in-reply-to <id>', 'the message this answers')
    .option('--recipients <names>', 'TLP:RED only, and required for it: user names at the peer who may read it, e.g. alice,bob')
    .option('--as <user>', 'act as this user: its channels and TLP:RED recipiency apply (default: the node administrator)')
    .action((o: { to: string; channel: string; kind: string; priority: string; tlp: string; text?: string; field: string[]; templateFile?: string; lang?: string; case?: string; inReplyTo?: string; recipients?: string; as?: string }) =>
      withNode(cli.home(), async (ctx) => {
        const { send } = await import('../../../modules/messaging/messaging.service.js');
        const fields = await fieldsFromOptions(o.kind, o.field, o.templateFile);
        const env = await send(ctx, {
          to: o.to, channel: o.channel, kind: o.kind, priority: o.priority, tlp: o.tlp,
          ...(o.text === undefined ? {} : { text: o.text }),
          ...fieldsInput(fields),
          ...(o.lang === undefined ? {} : { lang: o.lang }),
          ...(o.case === undefined ? {} : { case: o.case }),
          ...(o.inReplyTo === undefined ? {} : { in_reply_to: o.inReplyTo }),
          ...(o.recipients === undefined ? {} : { recipients: o.recipients.split(',').map((r) => r.trim()).filter((r) => r !== '') }),
        }, await actingAs(ctx, o.as));
        const running = await deliveryNote(cli.home());
        cli.out.print(env.id, { id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued', node_running: running });
      }));

  for (const [name, direction, what] of [['inbox', 'in', 'what came in'], ['outbox', 'out', 'what went out, with its delivery state']] as const) {
    program.command(name)
      .description(`${what}, newest first; filters narrow it, --search finds words in the text and in the rendered fields in any language`)
      .option('--channel <channel>', 'crisis | cert | law (or a comma-separated list)')
      .option('--priority <priority>', 'flash | immediate | priority | routine (or a list)')
      .option('--kind <kind>', 'e.g. crisis-alert (or a list)')
      .option('--from <party>', 'the party that sent it')
      .option('--to <party>', 'the party it went to')
      .option('--state <state>', 'unacked | acked | overdue | answered')
      .option('--case <id>', 'one case (its id or a unique prefix)')
      .option('--since <time>', 'stored since an RFC 3339 UTC time, or a duration back from now: 30m, 12h, 7d')
      .option('--search <text>', 'words that must all appear (each as the start of a word), e.g. "оповещение" or "ddos energy"')
      .option('--limit <n>', 'how many', '50')
      .option('--cursor <next>', 'the next page: the cursor the previous page printed')
      .option('--lang <lang>', "language of the summaries (default: the node's language)")
      .option('--as <user>', 'act as this user: its channels and TLP:RED recipiency apply (default: the node administrator)')
      .action((o: Record<string, string | undefined>) => withNodeBase(cli.home(), async (ctx) => {
        const [{ listMessages }, { timeLeft }, { requireLanguage }, { shortMessageIds }] = await Promise.all([
          import('../../../modules/messaging/messaging.inbox.js'), import('../../../modules/deadlines/deadlines.service.js'),
          import('../../../modules/templates/templates.service.js'), import('../../../modules/federation/federation.ids.js'),
        ]);
        const now = ctx.clock.now();
        const filters = Object.fromEntries(['channel', 'priority', 'kind', 'from', 'to', 'state', 'case', 'since', 'search', 'cursor']
          .filter((k) => o[k] !== undefined).map((k) => [k, o[k]!]));
        const page = await listMessages(ctx.db, now, {
          ...filters, direction, limit: Number(o.limit) || 50, as: await actingAs(ctx, o.as), lang: requireLanguage(o.lang ?? ctx.config.language),
        });
        const short = cli.out.json ? new Map<string, string>() : await shortMessageIds(ctx.db, page.messages.map((m) => m.id));
        cli.out.print(() => listing(page, direction, short, (d) => timeLeft(d, now)), page);
      }));
  }

  program.command('show')
    .description('one message: its envelope, state, receipt')
    .argument('<id>')
    .option('--as <user>', 'act as this user: its channels and TLP:RED recipiency apply (default: the node administrator)')
    .option('--lang <lang>', "language to render the template's labels and codes in (default: the node's language)")
    .action((id: string, o: { as?: string; lang?: string }) => withNodeBase(cli.home(), async (ctx) => {
      const [{ show }, { deadlineOf, describeDeadline }, { render, requireLanguage }] = await Promise.all([
        import('../../../modules/messaging/messaging.service.js'), import('../../../modules/deadlines/deadlines.service.js'), import('../../../modules/templates/templates.service.js'),
      ]);
      const lang = requireLanguage(o.lang ?? ctx.config.language);
      const p = await actingAs(ctx, o.as);
      const r = await show(ctx.db, id, p);
      const rendered = r.message.redacted === undefined ? render(r.message.kind, r.envelope.body, lang) : [];
      const deadline = await deadlineOf(ctx.db, r.message.id, ctx.clock.now(), p);
      const signed = r.signature.note === null ? '' : `\nSignature  ${r.signature.note}${r.signature.fingerprint === null ? '' : ` (key ${r.signature.fingerprint})`}`;
      const text = (): string => describe(r.message, rendered) + signed + (deadline === null ? '' : `\n\n${describeDeadline(deadline).join('\n')}`);
      cli.out.print(text, { ...r, rendered, deadline });
    }));
}
