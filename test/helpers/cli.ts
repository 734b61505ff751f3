import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { run } from '../../src/adapters/cli/main.js';

/** The repository root and the built CLI (`npm test` builds dist/ first). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'hotline.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `hotline ARGS --home HOME` in this process, through the entry point bin/hotline.js calls
 * (`run` in src/adapters/cli/main.ts), with a minimal environment; never a stack trace. Spawning a
 * node process per command made the CLI tests the slowest of the suite (each spawn loads every
 * module again): the binary itself is tested as a child process in test/cli.test.ts ({@link hlBinary}).
 */
export async function hl(home: string, ...args: string[]): Promise<Run> {
  const r = await runCli([...args, '--home', home]);
  expect(r.stderr + r.stdout).not.toContain('    at ');
  return r;
}

/** Runs `hotline ARGS --home HOME` as a child process (the built binary) with a minimal environment; never a stack trace. */
export function hlBinary(home: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args, '--home', home], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      expect(stderr + stdout).not.toContain('    at ');
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `hotline ARGS` in this process as bin/hotline.js would (`run(argv, env)`), capturing what
 * it writes to stdout and stderr, and returns its exit code. `env` is the whole environment the
 * command sees (PATH and HOME are added; no HOTLINE_HOME unless given). One run at a time: the
 * capture is process-wide, so concurrent tests queue here. Standard input is not the command's:
 * a test that feeds stdin (`-`) runs the binary.
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const once = async (): Promise<Run> => {
    const out = { stdout: '', stderr: '' };
    const restore = [capture(process.stdout, (s) => { out.stdout += s; }), capture(process.stderr, (s) => { out.stderr += s; })];
    let code: number;
    try {
      code = await run(args, { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env });
    } catch (e) {
      // What node does with an error bin/hotline.js lets escape: a stack trace and exit 1.
      out.stderr += `${e instanceof Error ? e.stack : String(e)}\n`;
      code = 1;
    } finally {
      for (const r of restore) r();
    }
    return { code, ...out };
  };
  const p = queue.then(once, once);
  queue = p.catch(() => undefined);
  return p;
}

/** Sends what is written to `stream` to `sink` instead; returns the undo. */
function capture(stream: NodeJS.WriteStream, sink: (s: string) => void): () => void {
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

/** Runs a command that must exit 0; returns its stdout. */
export async function ok(home: string, ...args: string[]): Promise<string> {
  const r = await hl(home, ...args);
  expect(r.code, `hotline ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Runs a command with --json that must exit 0; returns its parsed output. */
export async function json<T>(home: string, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(home, ...args, '--json')) as T;
}

/** Runs a command that must exit `code` with stderr matching `pattern`. */
export async function exits(code: number, pattern: RegExp, home: string, ...args: string[]): Promise<void> {
  const r = await hl(home, ...args);
  expect(r.code, `hotline ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(code);
  expect(r.stderr).toMatch(pattern);
}

/**
 * Builds dist/ if `file` (a path under dist/) is missing: `npm test` builds first, so this only
 * matters when one test file is run on its own.
 */
export function ensureBuilt(file = 'src/adapters/cli/main.js'): void {
  if (existsSync(join(ROOT, 'dist', file))) return;
  const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
}
