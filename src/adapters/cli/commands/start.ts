import type { Command } from 'commander';
import type { Cli } from '../main.js';

export function register(program: Command, cli: Cli): void {
  program.command('start')
    .description('run the node in the foreground (federation endpoint, REST API, delivery); JSON logs')
    .option('--passphrase-fd <n>', "read the encrypted node key's passphrase from this file descriptor (else the systemd credential hotline-passphrase)")
    .action(async (o: { passphraseFd?: string }) => {
      const { startNode } = await import('../../../main.js');
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
      const node = await startNode(cli.home(), passphrase === undefined ? {} : { passphrase });
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
