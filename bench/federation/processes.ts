/**
 * Child processes and temp dirs the bench creates: tracked so they are always cleaned up, even
 * on error or Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

export function running(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

/** Resolves true if the child exited within `ms`. */
function waitExit(c: ChildProcess, ms: number): Promise<boolean> {
  if (!running(c)) return Promise.resolve(true);
  return new Promise((res) => {
    const timer = setTimeout(() => {
      c.off('exit', onExit);
      res(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      res(true);
    };
    c.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(c: ChildProcess, graceMs = 10_000): Promise<void> {
  if (!running(c)) return;
  c.kill('SIGTERM');
  if (await waitExit(c, graceMs)) return;
  c.kill('SIGKILL');
  await waitExit(c, 5_000);
}

/** Kills every tracked child still running and removes every temp dir still there. */
export function cleanupSync(): void {
  for (const c of children) if (running(c)) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Cleans up when the process exits, and on SIGINT / SIGTERM (exit code 130). */
export function installCleanup(): void {
  process.once('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.exit(130);
    });
  }
}

export function makeTempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** Reads lines from a child's stdout until one parses as a JSON object, or the child exits / time runs out. */
export function firstJsonLine(c: ChildProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`no JSON from child within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString('utf8');
      for (const line of buf.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          done(undefined, JSON.parse(line) as Record<string, unknown>);
          return;
        } catch {
          // not complete yet
        }
      }
    };
    const onExit = (code: number | null): void => done(new Error(`child exited (code ${code}) before printing its result`));
    const done = (err: Error | undefined, v?: Record<string, unknown>): void => {
      clearTimeout(timer);
      c.stdout?.off('data', onData);
      c.off('exit', onExit);
      if (err !== undefined) rej(err);
      else res(v!);
    };
    c.stdout?.on('data', onData);
    c.once('exit', onExit);
  });
}
