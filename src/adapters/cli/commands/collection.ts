import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import type { Collection, Grant } from '../../../modules/taxii/taxii.collections.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { auditCli } from '../actor.js';

async function describeCollection(c: Collection, grants: readonly Grant[], url: string): Promise<string> {
  const { API_ROOT } = await import('../../http/taxii/taxii.routes.js');
  return [
    `Collection ${c.alias} (${c.id})`,
    `Title      ${c.title}${c.description === null ? '' : ` — ${c.description}`}`,
    `Channel    ${c.channel}; objects without a TLP marking are TLP:${c.default_tlp.toUpperCase()}${c.peer === null ? '' : `; indicators from peer ${c.peer}`}`,
    `TAXII      ${url.replace(/\/+$/, '')}${API_ROOT}collections/${c.id}/`,
    `Grants     ${grants.length === 0 ? '(none: only the node administrator)' : grants.map((g) => `${g.subject} ${[g.read ? 'read' : '', g.write ? 'write' : ''].filter(Boolean).join('+')}`).join(', ')}`,
  ].join('\n');
}

/** `user:alice` from `--user alice` etc.; exactly one subject option. */
function subjectOf(o: { user?: string; token?: string; peer?: string; channel?: string }): string {
  const given = (['user', 'token', 'peer', 'channel'] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) fail('invalid_argument', 'Name exactly one grantee: --user NAME, --token ID, --peer PARTY or --channel CHANNEL');
  return `${given[0]!}:${o[given[0]!]!}`;
}

/** `hotline collection add|list|show|grant`: TAXII collections and who may read and write them. */
export function register(program: Command, cli: Cli): void {
  const collection = program.command('collection').description('TAXII collections: add, list, show, grant read/write');

  collection.command('add')
    .description('add a collection (served over TAXII at /taxii2/api/collections/ID/)')
    .argument('<alias>', 'a short unique name, e.g. botnet-c2')
    .option('--title <title>', 'what clients see (default: the alias)')
    .option('--description <text>')
    .option('--channel <channel>', 'the channel whose users may be granted it: crisis | cert | law', 'cert')
    .option('--tlp <tlp>', 'the TLP of objects that carry no TLP marking', 'amber')
    .action((alias: string, o: { title?: string; description?: string; channel: string; tlp: string }) => withNode(cli.home(), async (ctx) => {
      const c = await ctx.taxii.collections.add({
        alias, channel: o.channel, tlp: o.tlp, ...(o.title === undefined ? {} : { title: o.title }), ...(o.description === undefined ? {} : { description: o.description }),
      });
      await auditCli(ctx, { action: 'collection.add', subject: c.id, details: { alias: c.alias, channel: c.channel } });
      cli.out.print(`${await describeCollection(c, [], ctx.config.url)}\nNext: hotline collection grant ${c.alias} --user NAME --read --write`, c);
    }));

  collection.command('list')
    .description('list collections')
    .action(() => withNode(cli.home(), async (ctx) => {
      const list = await ctx.taxii.collections.list();
      cli.out.print(() => table(['ALIAS', 'ID', 'CHANNEL', 'DEFAULT TLP', 'TITLE'],
        list.map((c) => [c.alias, c.id, c.channel, c.default_tlp, c.title])), { collections: list });
    }));

  collection.command('show')
    .description('one collection and its grants')
    .argument('<alias-or-id>')
    .action((id: string) => withNode(cli.home(), async (ctx) => {
      const c = await ctx.taxii.collections.require(id);
      const grants = await ctx.taxii.collections.grants(c.id);
      cli.out.print(await describeCollection(c, grants, ctx.config.url), { ...c, grants });
    }));

  collection.command('grant')
    .description('grant read and/or write on a collection (both off removes the grant)')
    .argument('<alias-or-id>')
    .option('--user <name>', 'a user of this node')
    .option('--token <id>', 'one API token')
    .option('--peer <party>', "a peer's accounts (users with role peer)")
    .option('--channel <channel>', 'every user of this node holding the channel')
    .option('--read', 'may read objects')
    .option('--write', 'may add objects')
    .option('--revoke', 'remove the grant')
    .action((id: string, o: { user?: string; token?: string; peer?: string; channel?: string; read?: boolean; write?: boolean; revoke?: boolean }) =>
      withNode(cli.home(), async (ctx) => {
        const subject = subjectOf(o);
        if (o.revoke !== true && o.read !== true && o.write !== true) fail('invalid_argument', 'Say what to grant: --read, --write or both (or --revoke)');
        const rights = o.revoke === true ? { read: false, write: false } : { read: o.read === true, write: o.write === true };
        const grants = await ctx.taxii.collections.grant(id, subject, rights);
        const c = await ctx.taxii.collections.require(id);
        await auditCli(ctx, { action: 'grant', subject: c.id, details: { alias: c.alias ?? null, grantee: subject, ...rights } });
        cli.out.print(await describeCollection(c, grants, ctx.config.url), { ...c, grants });
      }));
}
