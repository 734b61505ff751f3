import type { Command } from 'commander';
import type { Cli } from '../main.js';

export function register(program: Command, cli: Cli): void {
  program.command('start')
    .description('run the node in the foreground (federation endpoint, REST API, delivery); JSON logs')
    .action(async () => {
      const { startNode } = await import('../../../main.js');
      const node = await startNode(cli.home());
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
