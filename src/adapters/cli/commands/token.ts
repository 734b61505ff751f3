import type { Command } from 'commander';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { cliActor } from '../actor.js';

/** `hotline token create|list|revoke`: API tokens; a token acts as its user, with its channels. */
export function register(program: Command, cli: Cli): void {
  const token = program.command('token').description('create, list and revoke API tokens for users');

  token.command('create')
    .description('create an API token for a user; its secret is printed once, here')
    .requiredOption('--user <name>', 'the user the token acts as')
    .action((o: { user: string }) => withNode(cli.home(), async (ctx) => {
      const t = await ctx.users.createToken(o.user, cliActor());
      const u = await ctx.users.require(t.user);
      cli.out.print([
        `Token   ${t.id}`,
        `User    ${u.name} (${u.role}; channels ${u.channels.join(', ')})`,
        `Secret  ${t.secret}`,
        `The secret is shown only now: keep it safe. Use it as "Authorization: Bearer <secret>"; revoke it with "hotline token revoke ${t.id}".`,
      ].join('\n'), t);
    }));

  token.command('list')
    .description('list tokens (never their secrets)')
    .option('--user <name>', 'only this user\'s')
    .action((o: { user?: string }) => withNode(cli.home(), async (ctx) => {
      const tokens = await ctx.users.listTokens(o.user);
      cli.out.print(() => table(['ID', 'USER', 'CREATED', 'LAST USED', 'REVOKED'],
        tokens.map((t) => [t.id, t.user, t.created_at, t.last_used_at ?? '', t.revoked_at ?? ''])), { tokens });
    }));

  token.command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>')
    .action((id: string) => withNode(cli.home(), async (ctx) => {
      const t = await ctx.users.revokeToken(id, cliActor());
      cli.out.print(`Revoked token ${t.id} of ${t.user} (at ${t.revoked_at ?? '?'})`, t);
    }));
}
