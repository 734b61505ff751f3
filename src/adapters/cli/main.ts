import { Command, CommanderError } from 'commander';
import { describeError, EXIT, exitCodeFor, output, type Output } from './output.js';
import { resolveHome } from './home.js';
import * as ack from './commands/ack.js';
import * as carriage from './commands/carriage.js';
import * as collection from './commands/collection.js';
import * as cases from './commands/cases.js';
import * as deadlines from './commands/deadlines.js';
import * as demo from './commands/demo.js';
import * as directory from './commands/directory.js';
import * as rota from './commands/rota.js';
import * as feed from './commands/feed.js';
import * as identity from './commands/identity.js';
import * as key from './commands/key.js';
import * as indicators from './commands/indicators.js';
import * as init from './commands/init.js';
import * as ipdb from './commands/ipdb.js';
import * as messages from './commands/messages.js';
import * as migrateCommand from './commands/migrate.js';
import * as peer from './commands/peer.js';
import * as pings from './commands/pings.js';
import * as preservation from './commands/preservation.js';
import * as prune from './commands/prune.js';
import * as sink from './commands/sink.js';
import * as auditCommand from './commands/audit.js';
import * as queue from './commands/queue.js';
import * as start from './commands/start.js';
import * as status from './commands/status.js';
import * as templates from './commands/templates.js';
import * as token from './commands/token.js';
import * as transcript from './commands/transcript.js';
import * as user from './commands/user.js';
import * as verify from './commands/verify.js';

/** What every command gets: where its node is and how to print. */
export interface Cli {
  home(): string;
  out: Output;
  /** Set by a command that finished but must report failure (e.g. verify found problems). */
  setExitCode(code: number): void;
}

/** Builds the `hotline` program; `env` is read here once and never again. */
export function buildProgram(env: NodeJS.ProcessEnv): { program: Command; exitCode: () => number } {
  let code: number = EXIT.ok;
  const program = new Command('hotline')
    .description('Hotline: signed, receipted messages between parties\' cyber agencies')
    .option('--home <dir>', 'node home (default $HOTLINE_HOME)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  const cli: Cli = {
    home: () => resolveHome(program.opts<{ home?: string }>().home, env.HOTLINE_HOME),
    get out() {
      return output(program.opts<{ json?: boolean }>().json === true);
    },
    setExitCode: (c) => {
      code = c;
    },
  };
  for (const m of [init, start, identity, key, peer, messages, carriage, verify, demo, user, token, transcript, templates, directory, rota, pings, cases, ack, preservation, deadlines, queue, collection, indicators, feed, ipdb, prune, sink, status, auditCommand, migrateCommand]) m.register(program, cli);
  // Options like --home and --json may follow the verb: `hotline inbox --home X --json`.
  for (const c of program.commands) inheritGlobals(c);
  return { program, exitCode: () => code };
}

function inheritGlobals(c: Command): void {
  c.option('--home <dir>', 'node home (default $HOTLINE_HOME)').option('--json', 'machine-readable output');
  c.hook('preAction', (_this, action) => {
    const o = action.opts<{ home?: string; json?: boolean }>();
    const root = action.parent?.parent ?? action.parent;
    if (root === null || root === undefined) return;
    if (o.home !== undefined) root.setOptionValue('home', o.home);
    if (o.json === true) root.setOptionValue('json', true);
  });
  c.exitOverride();
  for (const sub of c.commands) inheritGlobals(sub);
}

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { program, exitCode } = buildProgram(env);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode();
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${describeError(e)}\n`);
    return exitCodeFor(e);
  }
}
