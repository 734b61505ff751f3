import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The repository root and the built CLI (`npm test` builds dist/ first). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'hotline.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hotline ARGS --home HOME` as a child process with a minimal environment; never a stack trace. */
export function hl(home: string, ...args: string[]): Promise<Run> {
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
