import type { Command } from 'commander';
import type { DutyView, Notify, Override, Position, RotaStep, Shift } from '../../../modules/directory/directory.types.js';
import { fail } from '../../../shared/errors.js';
import { auditCli } from '../actor.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { table } from '../output.js';
import { contactLine } from './directory.js';
import { actingAs } from './user.js';

const POSITIONS: readonly Position[] = ['primary', 'backup', 'supervisor'];
const service = (): Promise<typeof import('../../../modules/directory/directory.service.js')> => import('../../../modules/directory/directory.service.js');
const rotas = (): Promise<typeof import('../../../modules/directory/directory.rota.js')> => import('../../../modules/directory/directory.rota.js');

function why(s: RotaStep): string {
  if (s.source === 'override') return `  (took the duty, until ${s.until ?? '?'}; ${s.entry ?? ''})`;
  if (s.source === 'shift') return `  (shift ${s.entry ?? ''})`;
  return '';
}

function chainText(channel: string, chain: readonly RotaStep[]): string {
  if (chain.length === 0) return `No rota on ${channel}`;
  return [`Rota on ${channel}:`, ...chain.map((s) => {
    const notify = s.notify === null ? '' : `  notify ${[s.notify.webhook, s.notify.email].filter((x) => x !== null).join(', ')}`;
    return `  ${s.position.padEnd(10)} ${contactLine(s.contact)}  [${s.contact.id}]${notify}${why(s)}`;
  })].join('\n');
}

function dutyText(d: DutyView): string {
  const lines = [`${d.channel}  (shifts in ${d.time_zone}; times below in UTC)`];
  if (d.now.length === 0) lines.push('  nobody on duty: no rota, shift or override');
  for (const s of d.now) lines.push(`  ${s.position.padEnd(10)} ${s.contact.name}${s.contact.user === null ? '' : ` (${s.contact.user})`}${why(s)}`);
  lines.push(d.next === null ? '  next: no change of primary in the next 8 days'
    : `  next: ${d.next.contact === null ? 'nobody' : d.next.contact.name} from ${d.next.at}${d.next.source === null ? '' : ` (${d.next.source})`}`);
  return lines.join('\n');
}

function shiftsText(r: { shifts: Shift[]; overrides: Override[] }): string {
  const shifts = r.shifts.length === 0 ? 'No shifts' : table(['ID', 'CHANNEL', 'POSITION', 'DAYS', 'HOURS', 'CONTACT'],
    r.shifts.map((s) => [s.id, s.channel, s.position, s.days.join(','), s.hours, s.contact.name]));
  const overrides = r.overrides.length === 0 ? 'No current overrides' : table(['ID', 'CHANNEL', 'POSITION', 'FROM', 'UNTIL', 'CONTACT', 'TAKEN BY'],
    r.overrides.map((o) => [o.id, o.channel, o.position, o.from, o.until, o.contact.name, o.taken_by ?? '']));
  return `${shifts}\n\n${overrides}`;
}

/** "8h", "90m", "1d", "2h30m" in ms. */
export function duration(s: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(s.trim());
  if (m === null || s.trim() === '') return fail('invalid_argument', `--for must be a duration such as 8h, 90m, 1d or 2h30m (got "${s}")`);
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000;
}

const orNone = (v: string | undefined): string | null | undefined => (v === undefined ? undefined : v === 'none' ? null : v);

/**
 * `hotline rota`: who is on duty now and next per channel; `rota set` (one position at a time),
 * `rota show`, `rota shift add`, `rota shifts`, `rota take` ("I take the duty now"), `rota remove`.
 */
export function register(program: Command, cli: Cli): void {
  const showDuty = (channel?: string): Promise<void> => withNode(cli.home(), async (ctx) => {
    const { dutyNow } = await rotas();
    const duty = await dutyNow(ctx, ctx.config.timeZone, channel);
    cli.out.print(() => duty.map(dutyText).join('\n\n'), { duty });
  });
  const rota = program.command('rota')
    .description('who is on duty now and next on each channel (shifts and overrides applied); subcommands change the rota')
    .action(() => showDuty());

  rota.command('now')
    .description('who is on duty now and next (as "hotline rota"), on one channel')
    .option('--channel <channel>', 'only this channel')
    .action((o: { channel?: string }) => showDuty(o.channel));

  const set = rota.command('set')
    .description('change the rota of a channel: positions not given keep their holder ("none" empties one)')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .option('--primary <contact>', 'the officer on duty (contact id, at least 8 characters, or name)')
    .option('--backup <contact>', 'next if the primary does not acknowledge')
    .option('--supervisor <contact>', 'last in the chain');
  for (const p of POSITIONS) {
    set.option(`--${p}-webhook <url>`, `where escalation notifies the ${p} (POST)`).option(`--${p}-notify-email <address>`, `where escalation e-mails the ${p}`);
  }
  set.action((o: Record<string, string | undefined>) => withNode(cli.home(), async (ctx) => {
    const notify: Partial<Record<Position, Partial<Notify>>> = {};
    for (const p of POSITIONS) {
      const webhook = o[`${p}Webhook`];
      const email = o[`${p}NotifyEmail`];
      if (webhook !== undefined || email !== undefined) notify[p] = { ...(webhook === undefined ? {} : { webhook }), ...(email === undefined ? {} : { email }) };
    }
    const { setRota } = await service();
    const given: Partial<Record<Position, string | null>> = {};
    for (const p of POSITIONS) if (orNone(o[p]) !== undefined) given[p] = orNone(o[p])!;
    const chain = await setRota(ctx, { channel: o.channel!, notify, ...given });
    // The positions' contact ids, never their webhook URLs (they may carry a secret).
    await auditCli(ctx, { action: 'rota.set', subject: o.channel!, details: Object.fromEntries(chain.map((st) => [st.position, st.contact.id])) });
    cli.out.print(() => chainText(o.channel!, chain), { channel: o.channel, chain });
  }));

  rota.command('show')
    .description('the escalation chain of a channel as "rota set" made it (this party\'s, or a peer\'s as published)')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .option('--party <party>', 'a peer (default: this party)')
    .action((o: { channel: string; party?: string }) => withNode(cli.home(), async (ctx) => {
      const { rotaFor } = await service();
      const chain = await rotaFor(ctx.db, o.party ?? ctx.self.party, o.channel);
      cli.out.print(() => chainText(o.channel, chain), { party: o.party ?? ctx.self.party, channel: o.channel, chain });
    }));

  rota.command('shift')
    .description('add a shift: the contact holds the position on these weekdays during these hours (the node\'s time_zone)')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .requiredOption('--contact <contact>', 'contact id (at least 8 characters) or name')
    .requiredOption('--days <days>', 'e.g. mon-fri, sat,sun, daily')
    .requiredOption('--hours <hours>', 'e.g. 08:00-18:00, or 22:00-06:00 past midnight')
    .option('--position <position>', 'primary | backup | supervisor', 'primary')
    .action((o: { channel: string; contact: string; days: string; hours: string; position: string }) => withNode(cli.home(), async (ctx) => {
      const { addShift } = await rotas();
      const s = await addShift(ctx, o);
      await auditCli(ctx, { action: 'rota.set', subject: s.channel, details: { shift: s.id, position: s.position, contact: s.contact.id, days: s.days.join(','), hours: s.hours } });
      cli.out.print(`Shift ${s.id}: ${s.contact.name} is ${s.position} on ${s.channel}, ${s.days.join(',')} ${s.hours} (${ctx.config.timeZone})`, s);
    }));

  rota.command('shifts')
    .description('list the shifts and the overrides not yet ended')
    .option('--channel <channel>', 'only this channel')
    .action((o: { channel?: string }) => withNode(cli.home(), async (ctx) => {
      const { listRotaEntries } = await rotas();
      const r = await listRotaEntries(ctx, o.channel);
      cli.out.print(() => shiftsText(r), r);
    }));

  rota.command('take')
    .description('"I take the duty now": the contact linked to you holds the position from now until an end')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .option('--position <position>', 'primary | backup | supervisor', 'primary')
    .option('--until <time>', 'when it ends, e.g. 2026-05-01T18:00:00Z')
    .option('--for <duration>', 'how long, e.g. 8h, 90m, 1d (default 8h)')
    .option('--as <user>', 'the user taking the duty (linked to a contact on the channel: hotline contact link)')
    .action((o: { channel: string; position: string; until?: string; for?: string; as?: string }) => withNode(cli.home(), async (ctx) => {
      if (o.until !== undefined && o.for !== undefined) fail('invalid_argument', 'Give --until or --for, not both');
      const until = o.until !== undefined ? Date.parse(o.until) : ctx.clock.now() + duration(o.for ?? '8h');
      if (Number.isNaN(until)) fail('invalid_argument', `--until must be a time such as 2026-05-01T18:00:00Z (got "${o.until ?? ''}")`);
      const { takeDuty } = await rotas();
      const who = await actingAs(ctx, o.as);
      const r = await takeDuty(ctx, { channel: o.channel, position: o.position, user: who.user, until });
      await auditCli(ctx, { action: 'rota.override', subject: r.channel, details: { id: r.id, position: r.position, until: r.until } }, o.as);
      cli.out.print(`${r.contact.name} (${who.user}) is ${r.position} on ${r.channel} until ${r.until}: override ${r.id}`, r);
    }));

  rota.command('remove')
    .description('remove a shift, or end an override now')
    .argument('<id>', 'the shift\'s or override\'s id (at least 8 characters)')
    .action((id: string) => withNode(cli.home(), async (ctx) => {
      const { removeRotaEntry } = await rotas();
      const r = await removeRotaEntry(ctx, id);
      await auditCli(ctx, { action: r.removed === 'shift' ? 'rota.set' : 'rota.override', subject: r.id, details: { removed: r.removed } });
      cli.out.print(r.removed === 'shift' ? `Removed shift ${r.id}` : `Ended override ${r.id}`, r);
    }));
}
