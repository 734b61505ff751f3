import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { DirectoryPartyView, PublishResult } from '../../../modules/directory/directory.publish.js';
import type { DirectoryTables } from '../../../modules/directory/directory.tables.js';
import { POSITIONS, type Contact, type Position } from '../../../modules/directory/directory.types.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli } from '../actor.js';

const service = (): Promise<typeof import('../../../modules/directory/directory.service.js')> => import('../../../modules/directory/directory.service.js');
const publishing = (): Promise<typeof import('../../../modules/directory/directory.publish.js')> => import('../../../modules/directory/directory.publish.js');

export function contactLine(c: Contact): string {
  return [c.name, c.function, c.languages.join(',') || '-', c.hours ?? '-', c.phone ?? '-', c.email ?? '-'].join(' | ');
}

function partyText(e: DirectoryPartyView): string {
  const when = e.version === null
    ? (e.own ? 'never published' : 'no directory received yet')
    : `version ${e.version}, ${e.own ? 'published' : 'last confirmed'} ${e.updated_at ?? ''}`;
  const lines = [`${e.party}  ${e.name ?? ''}${e.own ? ' (this node)' : ''}: ${when}`];
  for (const ch of e.channels) {
    lines.push(`  ${ch.channel}${e.own ? '' : `  (last answered ping: ${ch.last_pong_at ?? 'never'})`}`);
    const inRota = new Map<string, Position>();
    for (const p of POSITIONS) if (ch.rota[p] !== null) inRota.set(ch.rota[p]!, p);
    if (ch.red_recipients.length > 0) lines.push(`    may receive TLP:RED: ${ch.red_recipients.join(', ')}`);
    if (ch.contacts.length === 0) lines.push('    (no contacts)');
    for (const c of ch.contacts) lines.push(`    ${(inRota.get(c.id) ?? '').padEnd(10)} ${contactLine(c)}`);
  }
  return lines.join('\n');
}

function publishText(r: PublishResult): string {
  const sent = r.sent.map((s) => `  ${s.to} on ${s.channel}: ${s.contacts} contact(s), message ${s.id}`);
  const failed = r.failed.map((f) => `  ${f.to}: not sent [${f.code}] ${f.message}`);
  if (sent.length + failed.length === 0) return `Directory version ${r.version}: no peers to send it to`;
  return [`Directory version ${r.version} queued for:`, ...sent, ...failed].join('\n');
}

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter((x) => x !== '');

export function register(program: Command, cli: Cli): void {
  const contact = program.command('contact').description('this party\'s points of contact, per channel');

  contact.command('add')
    .description('add a point of contact (then "hotline directory publish")')
    .requiredOption('--channel <channel>', 'crisis | cert | law')
    .requiredOption('--function <function>', 'what they are, e.g. "CERT duty officer"')
    .requiredOption('--name <name>', 'name of the person or desk')
    .option('--languages <list>', 'languages spoken, e.g. en,ru')
    .option('--hours <hours>', 'e.g. "24/7" or "Mon-Fri 08:00-18:00 UTC"')
    .option('--phone <phone>', 'out-of-band telephone')
    .option('--email <email>', 'out-of-band e-mail')
    .option('--user <user>', 'the user of this node the contact is: they take duty as it (rota take) and are paged through it for TLP:RED')
    .action((o: { channel: string; function: string; name: string; languages?: string; hours?: string; phone?: string; email?: string; user?: string }) =>
      withNode(cli.home(), async (ctx) => {
        const { addContact } = await service();
        const c = await addContact(ctx, {
          channel: o.channel, function: o.function, name: o.name,
          ...(o.languages === undefined ? {} : { languages: list(o.languages) }),
          ...(o.hours === undefined ? {} : { hours: o.hours }),
          ...(o.phone === undefined ? {} : { phone: o.phone }),
          ...(o.email === undefined ? {} : { email: o.email }),
          ...(o.user === undefined ? {} : { user: o.user }),
        });
        await auditCli(ctx, { action: 'contact.add', subject: c.id, details: { channel: c.channel } });
        cli.out.print(`Added contact ${c.id} on ${c.channel}: ${contactLine(c)}\nPeers see it after "hotline directory publish".`, c);
      }));

  contact.command('list')
    .description('list this party\'s contacts, with their rota positions')
    .option('--channel <channel>', 'only this channel')
    .action((o: { channel?: string }) => withNode(cli.home(), async (ctx) => {
      const db: Kysely<DirectoryTables> = ctx.db;
      const { listContacts, rotaIds } = await service();
      const contacts = await listContacts(db, ctx.self.party, o.channel);
      const rota = await rotaIds(db, ctx.self.party);
      const position = (c: Contact): string => POSITIONS.find((p) => rota[c.channel]?.[p] === c.id) ?? '';
      const { shortIds } = await import('../../../shared/shortid.js');
      const short = shortIds(contacts.map((c) => c.id));
      cli.out.print(() => table(['ID', 'CHANNEL', 'ROTA', 'USER', 'FUNCTION', 'NAME', 'LANGUAGES', 'HOURS', 'PHONE', 'EMAIL'], contacts.map((c) => [
        short.get(c.id)!, c.channel, position(c), c.user ?? '', c.function, c.name, c.languages.join(','), c.hours ?? '', c.phone ?? '', c.email ?? '',
      ])), { contacts: contacts.map((c) => ({ ...c, rota: position(c) || null })) });
    }));

  contact.command('link')
    .description('link a contact to a user of this node (who then takes duty as it, and is paged through it for TLP:RED); without a user, unlink it')
    .argument('<contact>', 'the contact: its id (at least 8 characters) or its name')
    .argument('[user]', 'the user name')
    .action((ref: string, user: string | undefined) => withNode(cli.home(), async (ctx) => {
      const { linkContact } = await service();
      const c = await linkContact(ctx, ref, user ?? null);
      cli.out.print(c.user === null ? `Contact ${c.id} (${c.name}) is linked to no user` : `Contact ${c.id} (${c.name}) on ${c.channel} is user ${c.user}`, c);
    }));

  contact.command('remove')
    .description('remove a contact (refused while a rota, a shift or a current override names it)')
    .argument('<contact>', 'its id (at least 8 characters) or its name')
    .action((id: string) => withNode(cli.home(), async (ctx) => {
      const { removeContact } = await service();
      const c = await removeContact(ctx, id);
      await auditCli(ctx, { action: 'contact.remove', subject: c.id, details: { channel: c.channel } });
      cli.out.print(`Removed contact ${c.id} (${c.name}) from ${c.channel}`, { removed: c });
    }));

  const directory = program.command('directory')
    .description('the points-of-contact directory as this node knows it (own and peers\'), with when each entry was last confirmed')
    .option('--party <party>', 'only this party')
    .option('--channel <channel>', 'only this channel')
    .action((o: { party?: string; channel?: string }) => withNode(cli.home(), async (ctx) => {
      const { viewDirectory } = await publishing();
      const parties = await viewDirectory(ctx, o);
      cli.out.print(() => parties.map(partyText).join('\n\n'), { parties });
    }));

  directory.command('publish')
    .description('send this party\'s contacts and rota to every peer as a signed directory-update')
    .action(() => withNode(cli.home(), async (ctx) => {
      const { publishDirectory } = await publishing();
      const r = await publishDirectory(ctx);
      await auditCli(ctx, { action: 'directory.publish' });
      cli.out.print(() => publishText(r), r);
      if (r.failed.length > 0) cli.setExitCode(1);
    }));
}
