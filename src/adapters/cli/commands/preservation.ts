import type { Command } from 'commander';
import type { PreservationView } from '../../../modules/law/law.types.js';
import { fail } from '../../../shared/errors.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { actingAs } from './user.js';

const law = (): Promise<typeof import('../../../modules/law/law.service.js')> => import('../../../modules/law/law.service.js');

const AS = 'act as this user: it must hold the law channel (default: the node administrator)';

function other(p: PreservationView): string {
  return p.direction === 'out' ? `${p.responding_party} (we asked)` : `${p.requesting_party} (asked us)`;
}

function listing(ps: readonly PreservationView[]): string {
  return table(['CASE', 'STATE', 'WITH', 'REFERENCE', 'PRESERVED', 'EXPIRES', 'DAYS LEFT', 'MLA', 'REMINDED'], ps.map((p) => [
    p.case, p.state, other(p), p.reference ?? '', p.preserved_at ?? '', p.expires_at ?? '', p.days_left === null ? '' : String(p.days_left),
    p.mla_request?.reference ?? '', p.reminded_at ?? '',
  ]));
}

function describe(p: PreservationView): string {
  const lines = [
    `Case        ${p.case}`,
    `Request     ${p.request_id}: ${p.requesting_party} asked ${p.responding_party} to preserve data (Budapest Convention Art. 29)`,
    `State       ${p.state}${p.outcome === null ? '' : ` (${p.outcome})`}`,
  ];
  if (p.reference !== null) lines.push(`Reference   ${p.reference}`);
  if (p.reason !== null) lines.push(`Reason      ${p.reason}`);
  if (p.redacted !== undefined) lines.push(`Withheld    reference, reason: ${p.redacted}`);
  if (p.preserved_at !== null) lines.push(`Preserved   ${p.preserved_at}`);
  if (p.expires_at !== null) lines.push(`Expires     ${p.expires_at}${p.days_left === null ? '' : ` (${p.days_left} days left)`}`);
  if (p.reminded_at !== null) lines.push(`Reminded    ${p.reminded_at}`);
  lines.push(`MLA request ${p.mla_request === null ? 'not recorded yet (hotline preservation mla CASE --reference REF)' : `${p.mla_request.reference ?? '(withheld: TLP:RED)'}, sent ${p.mla_request.sent_at}`}`);
  if (p.extensions.length > 0) {
    lines.push('', 'Extensions:');
    for (const e of p.extensions) {
      const answer = e.outcome === undefined ? 'awaiting answer' : `${e.outcome}${e.expires_at === undefined ? '' : `, now until ${e.expires_at}`}`;
      lines.push(`  ${e.requested_at}  ${e.days} days  ${e.message_id}  ${answer}`);
    }
  }
  return lines.join('\n');
}

function days(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isInteger(n)) fail('invalid_argument', `--days must be a whole number of days, not "${s}"`);
  return n;
}

/** `hotline preservation list|show|extend|mla`: expedited preservations (Art. 29) on the law channel. */
export function register(program: Command, cli: Cli): void {
  const p = program.command('preservation').description('expedited preservation requests on the law channel (Budapest Convention Art. 29)');

  p.command('list')
    .description('preservations, soonest expiry first')
    .option('--due', 'only those reminded of their coming expiry (still preserved)')
    .option('--state <state>', 'requested | preserved | refused | expired | released')
    .option('--as <user>', AS)
    .action((o: { due?: boolean; state?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const { listPreservations } = await law();
      const ps = await listPreservations(ctx.db, ctx.clock.now(), {
        as: await actingAs(ctx, o.as), ...(o.due === true ? { due: true } : {}), ...(o.state === undefined ? {} : { state: o.state }),
      });
      cli.out.print(() => listing(ps), { preservations: ps });
    }));

  p.command('show')
    .description('one preservation: state, reference, expiry, extensions, the mutual-assistance request')
    .argument('<case>', 'the case id (the id of the preservation-request)')
    .option('--as <user>', AS)
    .action((caseId: string, o: { as?: string }) => withNode(cli.home(), async (ctx) => {
      const { showPreservation } = await law();
      const v = await showPreservation(ctx.db, caseId, ctx.clock.now(), await actingAs(ctx, o.as));
      cli.out.print(() => describe(v), v);
    }));

  p.command('extend')
    .description('ask the peer to keep the data longer: a preservation-request in the same case; its answer moves the expiry')
    .argument('<case>', 'the case id')
    .requiredOption('--days <n>', 'how many more days (1 to 365)')
    .option('--text <text>', 'free text in your language')
    .option('--lang <lang>', 'language of the text (BCP 47)')
    .option('--as <user>', AS)
    .action((caseId: string, o: { days: string; text?: string; lang?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const { extendPreservation } = await law();
      const env = await extendPreservation(ctx, {
        case: caseId, days: days(o.days), ...(o.text === undefined ? {} : { text: o.text }), ...(o.lang === undefined ? {} : { lang: o.lang }),
      }, await actingAs(ctx, o.as));
      cli.out.print(`Extension by ${o.days} days asked: preservation-request ${env.id} queued for ${env.to}`, { id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    }));

  p.command('mla')
    .description('record the follow-up mutual-assistance request; tells the peer with a notification in the case')
    .argument('<case>', 'the case id')
    .requiredOption('--reference <ref>', 'the mutual-assistance request\'s reference')
    .option('--date <time>', 'when it was sent, RFC 3339 UTC (default: now)')
    .option('--text <text>', 'free text in your language')
    .option('--lang <lang>', 'language of the text (BCP 47)')
    .option('--as <user>', AS)
    .action((caseId: string, o: { reference: string; date?: string; text?: string; lang?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      const { recordMla } = await law();
      const env = await recordMla(ctx, {
        case: caseId, reference: o.reference,
        ...(o.date === undefined ? {} : { sent_on: o.date }),
        ...(o.text === undefined ? {} : { text: o.text }),
        ...(o.lang === undefined ? {} : { lang: o.lang }),
      }, await actingAs(ctx, o.as));
      cli.out.print(`Mutual-assistance request ${o.reference} recorded; notification ${env.id} queued for ${env.to}`, { id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    }));
}
