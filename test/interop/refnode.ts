/**
 * Drives a reference Hotline node as a person would, through its CLI (README.md): init, descriptor,
 * fingerprint, peer add, start, send, outbox, show, export, import. Only the CLI and HTTP are used.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/hotline.js');

/** A free loopback port, from the kernel (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Runs `hotline <args> --home <home>`; resolves with exit code, stdout and stderr (never rejects on exit code). */
export function cli(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args, '--home', home], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** Like cli() but with --json, failing loudly on a non-zero exit; returns the parsed output. */
export async function cliJson<T = unknown>(home: string, args: string[]): Promise<T> {
  const r = await cli(home, [...args, '--json']);
  if (r.code !== 0) throw new Error(`hotline ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

/** Polls `check` up to `tries` times, `pauseMs` apart; returns its first non-undefined value or throws. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, tries = 1200, pauseMs = 250): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new Error(`gave up after ${tries} tries waiting for ${what}`);
}

/** GET on loopback; resolves with the status (0 when the connection fails). */
export function httpStatus(url: string): Promise<number> {
  return new Promise((res) => {
    const req = request(url, (r) => { r.resume(); r.on('end', () => res(r.statusCode ?? 0)); });
    req.on('error', () => res(0));
    req.end();
  });
}

/** A started reference node: `hotline start` as a child process, up once /healthz answers 200. */
export async function startNode(home: string, port: number): Promise<{ child: ChildProcess; log: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'start', '--home', home], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (c: Buffer) => { log += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { log += c.toString(); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  await until('the node to answer /healthz', async () => {
    if (exited) throw new Error('node exited: ' + log);
    return (await httpStatus(`http://127.0.0.1:${port}/healthz`)) === 200 ? true : undefined;
  });
  const stop = async () => {
    if (exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await gone;
  };
  return { child, log: () => log, stop };
}
