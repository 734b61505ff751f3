import type { Command } from 'commander';
import { withNode } from '../home.js';
import type { Cli } from '../main.js';

export function register(program: Command, cli: Cli): void {
  program.command('descriptor')
    .description("print this node's peer descriptor (JSON) to hand to a peer")
    .action(() => withNode(cli.home(), async (ctx) => {
      const { makeDescriptor } = await import('../../../modules/federation/federation.peers.js');
      process.stdout.write(`${JSON.stringify(makeDescriptor(ctx.self, ctx.keys), null, 2)}\n`);
    }));

  program.command('fingerprint')
    .description("print this node's key fingerprint, to read aloud to a peer")
    .action(() => withNode(cli.home(), async (ctx) => {
      const { fingerprint } = await import('../../../modules/identity/identity.keys.js');
      const fp = fingerprint(ctx.keys.publicKeyB64);
      cli.out.print(`${ctx.self.party}  ${fp}`, { party: ctx.self.party, fingerprint: fp, public_key: ctx.keys.publicKeyB64 });
    }));
}
