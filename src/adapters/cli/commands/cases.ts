import type { Command } from 'commander';
import type { CaseView } from '../../../modules/cases/cases.types.js';
import type { MessageView } from '../../../modules/messaging/messaging.service.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { stateOf } from './messages.js';
import { collect, fieldsFromOptions } from './templates.js';
import { actingAs } from './user.js';

const AS = 'act as this user: only its channels (default: the node administrator)';

function oneLine(s: string | null, max = 50): string {
  const t = (s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The machine's states with the current one in brackets: open → [acknowledged] → answered → closed. */
function path(c: CaseView): string {
  return c.states.map((s) => (s === c.state ? `[${s}]` : s)).join(' → ');
}

function contentOf(m: MessageView): string {
  if (m.redacted !== undefined) return m.redacted;
  if (m.text !== null) return m.text;
  if (m.fields !== null && m.fields !== undefined && Object.keys(m.fields).length > 0) {
    return Object.entries(m.fields).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
  }
  return '(no text)';
}

function describeCase(self: string, c: CaseView, messages: readonly MessageView[]): string {
  const lines = [
    `Case      ${c.id}`,
    `Kind      ${c.kind} on ${c.channel} with ${c.peer}, ${c.priority.toUpperCase()}`,
    `State     ${c.state}   (${path(c)})`,
    `Opened    ${c.opened_at} by ${c.opened_by === 'out' ? `this node (${self})` : c.peer}`,
    `Updated   ${c.updated_at}`,
  ];
  if (c.closed_at !== null) lines.push(`Closed    ${c.closed_at} by message ${c.closed_by ?? '?'}`);
  if (c.subject !== null) lines.push(`Subject   ${c.subject}`);
  lines.push('', `Thread (${messages.length} message${messages.length === 1 ? '' : 's'}, in the order this node stored them):`);
  messages.forEach((m, i) => {
    const reply = m.in_reply_to === null ? '' : `, in reply to ${m.in_reply_to}`;
    lines.push(
      '',
      `${i + 1}. ${m.sent_at}  ${m.from} → ${m.to}  ${m.kind}  ${m.id}${reply}`,
      `   ${stateOf(m)}`,
      ...contentOf(m).split('\n').map((l) => `   ${l}`),
    );
  });
  return lines.join('\n');
}

function listing(cases: readonly CaseView[], short: ReadonlyMap<string, string>): string {
  return table(['CASE', 'STATE', 'KIND', 'CHANNEL', 'PEER', 'PRIORITY', 'OPENED BY', 'UPDATED', 'SUBJECT'], cases.map((c) => [
    short.get(c.id) ?? c.id, c.state, c.kind, c.channel, c.peer, c.priority, c.opened_by === 'out' ? 'us' : c.peer, c.updated_at, oneLine(c.subject ?? '', 40),
  ]));
}

/** `hotline cases`, `hotline case show`, `hotline reply`, `hotline close`: threads and their state machines. */
export function register(program: Command, cli: Cli): void {
  program.command('cases')
    .description('cases (threads), most recently active first, with their state')
    .option('--state <state>', 'open | acknowledged | answered | closed')
    .option('--channel <channel>', 'crisis | cert | law')
    .option('--limit <n>', 'how many', '50')
    .option('--as <user>', AS)
    .action((o: { state?: string; channel?: string; limit: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const [{ listCases }, { shortCaseIds }] = await Promise.all([import('../../../modules/cases/cases.service.js'), import('../../../modules/cases/cases.ids.js')]);
      const cases = await listCases(ctx.db, {
        limit: Number(o.limit) || 50, as: await actingAs(ctx, o.as),
        ...(o.state === undefined ? {} : { state: o.state }),
        ...(o.channel === undefined ? {} : { channel: o.channel }),
      });
      const short = cli.out.json ? new Map<string, string>() : await shortCaseIds(ctx.db, cases.map((c) => c.id));
      cli.out.print(() => listing(cases, short), { cases });
    }));

  program.command('case')
    .description('one case: see "hotline case show ID"')
    .command('show')
    .description('a case: its state machine and its thread, each message with its receipt and acknowledgement')
    .argument('<id>', 'the case id (the id of its first message), or a unique prefix of at least 8 characters')
    .option('--as <user>', AS)
    .action((id: string, o: { as?: string }) => withNode(cli.home(), async (ctx) => {
      const { showCase } = await import('../../../modules/cases/cases.service.js');
      const r = await showCase(ctx.db, id, await actingAs(ctx, o.as));
      cli.out.print(() => describeCase(ctx.self.party, r.case, r.messages), r);
    }));

  program.command('reply')
    .description('answer a message in its case (same peer, same channel, in reply to it)')
    .argument('<id>', 'the message answered (its id or a unique prefix)')
    .option('--text <text>', 'free text in your language')
    .option('--kind <kind>', 'response, or another kind the case allows', 'response')
    .option('--field <key=value>', 'a template field (repeatable), as for hotline send', collect, [])
    .option('--template-file <file>', 'a JSON object of template fields')
    .option('--lang <lang>', 'language of the text (BCP 47), e.g. en, ru')
    .option('--priority <priority>', 'default: the answered message\'s')
    .option('--tlp <tlp>', 'default: the answered message\'s')
    .option('--recipients <names>', 'TLP:RED: user names at the peer who may read it (default: who wrote the answered message)')
    .option('--no-ack', 'do not acknowledge the message answered (by default a reply acknowledges it, in the same transaction)')
    .option('--as <user>', AS)
    .action((id: string, o: { text?: string; kind: string; field: string[]; templateFile?: string; lang?: string; priority?: string; tlp?: string; recipients?: string; ack: boolean; as?: string }) =>
      withNode(cli.home(), async (ctx) => {
        const { replyTo } = await import('../../../modules/cases/cases.service.js');
        const fields = await fieldsFromOptions(o.kind, o.field, o.templateFile);
        const { reply: env, ack } = await replyTo(ctx, {
          id, kind: o.kind, ack: o.ack,
          ...(o.text === undefined ? {} : { text: o.text }),
          ...(fields === undefined ? {} : { fields }),
          ...(o.lang === undefined ? {} : { lang: o.lang }),
          ...(o.priority === undefined ? {} : { priority: o.priority }),
          ...(o.tlp === undefined ? {} : { tlp: o.tlp }),
          ...(o.recipients === undefined ? {} : { recipients: o.recipients.split(',').map((r) => r.trim()).filter((r) => r !== '') }),
        }, await actingAs(ctx, o.as));
        cli.out.print(ack === null ? env.id : `${env.id}\nAcknowledged ${id} too: ack ${ack.id} queued before the reply`,
          { id: env.id, seq: env.seq, case: env.case, in_reply_to: env.in_reply_to, to: env.to, kind: env.kind, state: 'queued', ack_id: ack?.id ?? null });
      }));

  program.command('close')
    .description('close a case: sends case-close to its peer; nothing more can be added to it')
    .argument('<case>', 'the case id or a unique prefix')
    .option('--text <text>', 'why, in your language')
    .option('--reason <code>', 'a close_reason code, e.g. resolved, answered, no-further-action')
    .option('--lang <lang>', 'language of the text (BCP 47)')
    .option('--as <user>', AS)
    .action((caseId: string, o: { text?: string; reason?: string; lang?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const { closeCase } = await import('../../../modules/cases/cases.service.js');
      const env = await closeCase(ctx, {
        case: caseId,
        ...(o.text === undefined ? {} : { text: o.text }),
        ...(o.reason === undefined ? {} : { reason: o.reason }),
        ...(o.lang === undefined ? {} : { lang: o.lang }),
      }, await actingAs(ctx, o.as));
      cli.out.print(`Case ${env.case} closed: case-close ${env.id} queued for ${env.to}`, { id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    }));
}
