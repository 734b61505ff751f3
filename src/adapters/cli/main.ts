import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { describeError, EXIT, exitCodeFor, output, type Output } from './output.js';
import { resolveHome } from './home.js';

// commander's CommonJS build through require: importing it as an ES module makes Node parse it for
// its exports (cjs-module-lexer), ~5 ms at every start (bench:cli).
const commander = createRequire(import.meta.url)('commander') as typeof import('commander');

/** A command file: adds its verbs to the program. */
export interface CommandFile {
  register(program: Command, cli: Cli): void;
}

/**
 * The command files, in the order `--help` lists their verbs, with the top-level verbs each adds
 * (test/cli.verbs.test.ts checks these against what each file registers). Running a verb loads
 * its own file only; `--help`, `help` or an unknown verb loads them all.
 */
export const COMMAND_FILES: readonly (readonly [verbs: readonly string[], load: () => Promise<CommandFile>])[] = [
  [['init'], () => import('./commands/init.js')],
  [['start'], () => import('./commands/start.js')],
  [['descriptor', 'fingerprint'], () => import('./commands/identity.js')],
  [['key'], () => import('./commands/key.js')],
  [['peer'], () => import('./commands/peer.js')],
  [['send', 'inbox', 'outbox', 'show'], () => import('./commands/messages.js')],
  [['export', 'import'], () => import('./commands/carriage.js')],
  [['verify'], () => import('./commands/verify.js')],
  [['demo'], () => import('./commands/demo.js')],
  [['user'], () => import('./commands/user.js')],
  [['token'], () => import('./commands/token.js')],
  [['transcript'], () => import('./commands/transcript.js')],
  [['templates'], () => import('./commands/templates.js')],
  [['contact', 'directory'], () => import('./commands/directory.js')],
  [['rota'], () => import('./commands/rota.js')],
  [['ping', 'pong', 'pings', 'reachability'], () => import('./commands/pings.js')],
  [['cases', 'case', 'reply', 'close'], () => import('./commands/cases.js')],
  [['ack'], () => import('./commands/ack.js')],
  [['preservation'], () => import('./commands/preservation.js')],
  [['overdue'], () => import('./commands/deadlines.js')],
  [['queue'], () => import('./commands/queue.js')],
  [['collection'], () => import('./commands/collection.js')],
  [['indicators'], () => import('./commands/indicators.js')],
  [['feed'], () => import('./commands/feed.js')],
  [['ipdb'], () => import('./commands/ipdb.js')],
  [['prune'], () => import('./commands/prune.js')],
  [['sink'], () => import('./commands/sink.js')],
  [['status'], () => import('./commands/status.js')],
  [['audit'], () => import('./commands/audit.js')],
  [['migrate'], () => import('./commands/migrate.js')],
];

/** The verb `argv` runs: its first word that is neither an option nor --home's value (undefined when there is none). */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--home') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The command files `argv` needs: the one that adds its verb, or all of them (help, no verb, an unknown verb). */
export async function commandFiles(argv: readonly string[]): Promise<CommandFile[]> {
  const verb = verbOf(argv);
  const one = COMMAND_FILES.find(([verbs]) => verb !== undefined && verbs.includes(verb));
  return Promise.all((one === undefined ? COMMAND_FILES : [one]).map(([, load]) => load()));
}

/** What every command gets: where its node is and how to print. */
export interface Cli {
  home(): string;
  out: Output;
  /** Set by a command that finished but must report failure (e.g. verify found problems). */
  setExitCode(code: number): void;
}

/** Builds the `hotline` program; `env` is read here once and never again. */
export function buildProgram(env: NodeJS.ProcessEnv, files: readonly CommandFile[]): { program: Command; exitCode: () => number } {
  let code: number = EXIT.ok;
  const program = new commander.Command('hotline')
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
  for (const m of files) m.register(program, cli);
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
  const { program, exitCode } = buildProgram(env, await commandFiles(argv));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode();
  } catch (e) {
    if (e instanceof commander.CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${describeError(e)}\n`);
    return exitCodeFor(e);
  }
}
