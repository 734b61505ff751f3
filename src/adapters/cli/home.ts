import type { NodeBase, NodeContext } from '../../context.js';
import { fail } from '../../shared/errors.js';

/** The home a command acts on: --home, else HOTLINE_HOME (read once, at CLI start). */
export function resolveHome(opt: string | undefined, env: string | undefined): string {
  const home = opt ?? env;
  if (home === undefined || home === '') fail('invalid_argument', 'Say which node: --home DIR, or set HOTLINE_HOME');
  return home;
}

/** Opens a node's store for a one-shot command, runs `fn`, and always closes the store. */
export async function withNode<T>(home: string, fn: (ctx: NodeContext) => Promise<T>, opts: { passphrase?: string } = {}): Promise<T> {
  // Loaded here, not at CLI start: `hotline --help` needs none of the store, the domain or the logger.
  const [{ loadConfig }, { openContext }, { silentLogger }] = await Promise.all([import('../../config.js'), import('../../context.js'), import('../../shared/logger.js')]);
  const ctx = await openContext(loadConfig(home), { log: silentLogger, ...opts });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * Like `withNode`, for a verb that needs only the store, keys and users (context.ts `NodeBase`):
 * no module's hooks, no TAXII, no logger are loaded (`hotline inbox` starts in half the time).
 */
export async function withNodeBase<T>(home: string, fn: (ctx: NodeBase) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { openNodeBase }] = await Promise.all([import('../../config.js'), import('../../context.js')]);
  const ctx = await openNodeBase(loadConfig(home));
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * After queueing: whether the node runs on this home (pidfile.ts: a live pid that holds its
 * address). When it does not, says so on standard error, since nothing will be delivered until it starts.
 */
export async function deliveryNote(home: string, what = 'The message waits'): Promise<boolean> {
  const { runningNode } = await import('../../pidfile.js');
  if ((await runningNode(home)) !== undefined) return true;
  process.stderr.write(`The node is not running: ${what.charAt(0).toLowerCase()}${what.slice(1)} in the outbox and is delivered when it starts (hotline start).\n`);
  return false;
}

/**
 * A passphrase read from a file descriptor (0: standard input), never from the command line: the
 * text up to its first line end. Empty is refused (`invalid_argument`).
 */
export async function readPassphrase(fd: number): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const { fail } = await import('../../shared/errors.js');
  let text: string;
  try {
    text = readFileSync(fd, 'utf8');
  } catch {
    return fail('invalid_argument', `Cannot read the passphrase from file descriptor ${fd}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') fail('invalid_argument', `The passphrase on file descriptor ${fd} is empty`);
  return line;
}
