import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import type { NodeBase } from '../../../context.js';
import { NODE_ADMIN, type Principal, type User } from '../../../modules/users/users.types.js';
import { table } from '../output.js';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';
import { cliActor } from '../actor.js';
import { readNewPassword } from '../password.js';

function describeUser(u: User): string {
  return `${u.name}${u.display_name === null ? '' : ` (${u.display_name})`}  ${u.role}${u.peer === undefined ? '' : ` of peer ${u.peer}`}; channels ${u.channels.join(', ')}${u.disabled_at === null ? '' : `; disabled since ${u.disabled_at}`}`;
}

/** `hotline user add|edit|list|disable`: the node's users, their roles and channel grants. */
export function register(program: Command, cli: Cli): void {
  const user = program.command('user').description('add, edit, list and disable users (who may read and write which channels)');

  user.command('add')
    .description('add a user with a role and the channels it may read and write')
    .argument('<name>', 'lower case, e.g. alice or duty.officer')
    .option('--role <role>', 'officer | admin | peer (an account a peer\'s systems use for TAXII only)', 'officer')
    .option('--channels <list>', 'channels granted, e.g. cert,crisis (an admin gets all by default)')
    .option('--peer <party>', 'role peer: the pinned peer whose systems use the account')
    .option('--display-name <name>', 'what the person is called, e.g. "Ivan Petrov": their acknowledgements name it (default: the user name)')
    .option('--password-stdin', 'also set the console password, read from standard input (one line) or asked on the terminal')
    .action((name: string, o: { role: string; channels?: string; peer?: string; displayName?: string; passwordStdin?: boolean }) => withNode(cli.home(), async (ctx) => {
      // Read and checked before the user is added: a refused password leaves no user behind.
      // Loaded here, not at the top: `hotline --help` loads only the command files (test/cli.startup).
      const password = o.passwordStdin === true ? (await import('../../../modules/users/users.passwords.js')).checkPassword(await readNewPassword(name)) : undefined;
      if (password !== undefined && o.role === 'peer') checkPeerPassword();
      const u = await ctx.users.add({
        name, role: o.role, ...(o.channels === undefined ? {} : { channels: o.channels }), ...(o.peer === undefined ? {} : { peer: o.peer }),
        ...(o.displayName === undefined ? {} : { display_name: o.displayName }),
      }, cliActor());
      if (password !== undefined) await ctx.users.setPassword(u.name, password, cliActor());
      cli.out.print(password !== undefined
        ? `Added ${describeUser(u)}, with a console password: they sign in at ${ctx.config.publicUrl ?? ctx.config.url}/`
        : `Added ${describeUser(u)}\nNext: hotline token create --user ${u.name}, or hotline user passwd ${u.name} for the console`, { ...u, password: password !== undefined });
    }));

  user.command('passwd')
    .description('set a user\'s console password (asked on the terminal without echo, or one line from standard input); their sessions end')
    .argument('<name>')
    .action((name: string) => withNode(cli.home(), async (ctx) => {
      await ctx.users.require(name);
      await ctx.users.setPassword(name, await readNewPassword(name), cliActor());
      cli.out.print(`Set the console password of ${name}; their open sessions have ended`, { user: name, password: true });
    }));

  user.command('totp')
    .description('the second factor (TOTP) of a user: --reset removes it (a lost phone); they enrol again on their account page')
    .argument('<name>')
    .option('--reset', 'remove the user\'s TOTP secret')
    .action((name: string, o: { reset?: boolean }) => withNode(cli.home(), async (ctx) => {
      if (o.reset !== true) {
        const st = await ctx.users.signInState((await ctx.users.require(name)).name);
        cli.out.print(`${name}: ${st.totp ? 'TOTP enrolled' : 'no TOTP'}; ${st.password ? 'has a console password' : 'no console password'}`, { user: name, ...st });
        return;
      }
      await ctx.users.resetTotp(name, cliActor());
      cli.out.print(`Removed the TOTP second factor of ${name}: they enrol again on their account page after signing in`, { user: name, totp: false });
    }));

  user.command('edit')
    .description('change a user\'s display name (what its acknowledgements name)')
    .argument('<name>')
    .option('--display-name <name>', 'e.g. "Ivan Petrov"')
    .action((name: string, o: { displayName?: string }) => withNode(cli.home(), async (ctx) => {
      const u = await ctx.users.edit(name, o.displayName === undefined ? {} : { display_name: o.displayName }, cliActor());
      cli.out.print(`Changed ${describeUser(u)}`, u);
    }));

  user.command('list')
    .description('list users')
    .action(() => withNode(cli.home(), async (ctx) => {
      const users = await ctx.users.list();
      cli.out.print(() => table(['NAME', 'DISPLAY NAME', 'ROLE', 'CHANNELS', 'CREATED', 'DISABLED'],
        users.map((u) => [u.name, u.display_name ?? '', u.role, u.channels.join(','), u.created_at, u.disabled_at ?? ''])), { users });
    }));

  user.command('disable')
    .description('disable a user: every token of it stops working at once')
    .argument('<name>')
    .action((name: string) => withNode(cli.home(), async (ctx) => {
      const u = await ctx.users.disable(name, cliActor());
      cli.out.print(`Disabled ${describeUser(u)}`, u);
    }));
}

function checkPeerPassword(): never {
  return fail('invalid_argument', 'A peer account uses TAXII with a token and never signs in to the console: drop --password-stdin');
}

/** The principal a command acts as: the user named with `--as`, else the node administrator. */
export async function actingAs(ctx: Pick<NodeBase, 'users'>, as: string | undefined): Promise<Principal> {
  const p = as === undefined ? NODE_ADMIN : await ctx.users.principalFor(as);
  // What a person does through the CLI is recorded in the audit trail as them, from "cli".
  return Object.freeze({ ...p, via: cliActor(as) });
}
