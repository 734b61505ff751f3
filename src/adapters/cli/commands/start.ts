import type { Command } from 'commander';
import type { Cli } from '../main.js';

export function register(program: Command, cli: Cli): void {
  program.command('start')
    .description('run the node in the foreground (federation endpoint, REST API, delivery); JSON logs')
    .option('--passphrase-fd <n>', "read the encrypted node key's passphrase from this file descriptor (else the systemd credential hotline-passphrase)")
    .option('--listen <host:port>', 'listen here instead of the home\'s "listen" (on PostgreSQL several processes of one node run, one per address, behind a load balancer)')
    .action(async (o: { passphraseFd?: string; listen?: string }) => {
      const { startNode } = await import('../../../main.js');
      let listen: { host: string; port: number } | undefined;
      if (o.listen !== undefined) {
        const m = /^(.+):(\d{1,5})$/.exec(o.listen);
        const port = m === null ? -1 : Number(m[2]);
        if (m === null || port > 65535) {
          const { fail } = await import('../../../shared/errors.js');
          fail('invalid_argument', `--listen must be HOST:PORT with a port up to 65535, e.g. 127.0.0.1:7002 (got "${o.listen}")`);
        }
        listen = { host: m![1]!.replace(/^\[(.*)\]$/, '$1'), port };
      }
      let passphrase: string | undefined;
      if (o.passphraseFd !== undefined) {
        const { readPassphrase } = await import('../home.js');
        const fd = Number(o.passphraseFd);
        if (!Number.isInteger(fd) || fd < 0) {
          const { fail } = await import('../../../shared/errors.js');
          fail('invalid_argument', `--passphrase-fd must be a file descriptor number (got "${o.passphraseFd}")`);
        }
        passphrase = await readPassphrase(fd);
      }
      const node = await startNode(cli.home(), { ...(passphrase === undefined ? {} : { passphrase }), ...(listen === undefined ? {} : { listen }) });
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          node.ctx.log.info({ signal }, 'shutting down');
          void node.stop().then(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
