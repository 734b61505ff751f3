import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimHome, PID_FILE, pidFileName, runningNode, runningProcesses } from './pidfile.js';

const home = (): string => mkdtempSync(join(tmpdir(), 'hotline-pid-'));
const write = (h: string, r: Record<string, unknown>): void => writeFileSync(join(h, PID_FILE), JSON.stringify(r));
/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

describe('hotline.pid: is a node running on this home?', () => {
  it('no file, a garbled file, a dead pid: not running', async () => {
    const h = home();
    expect(await runningNode(h)).toBeUndefined();
    writeFileSync(join(h, PID_FILE), 'not json');
    expect(await runningNode(h)).toBeUndefined();
    write(h, { pid: deadPid(), party: 'us', address: 'http://127.0.0.1:1', started_at: new Date().toISOString() });
    expect(await runningNode(h)).toBeUndefined();
  });

  it('a live pid: running only if its address answers /healthz with the same party', async () => {
    const h = home();
    let party = 'us';
    const server = createServer((_req, res) => res.end(JSON.stringify({ status: 'ok', party })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      write(h, { pid: process.pid, party: 'us', address, started_at: new Date().toISOString() });
      expect(await runningNode(h)).toMatchObject({ pid: process.pid, address });
      party = 'ru'; // another node holds the address now
      expect(await runningNode(h)).toBeUndefined();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(await runningNode(h)).toBeUndefined(); // nothing listens
  });

  it('a live pid whose address answers nothing in time: running if that pid holds the listening socket (busy or stuck), not if another process does', async () => {
    const h = home();
    // Accepts connections and never answers: a node whose event loop is busy or stuck.
    const silent = createNetServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const address = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      write(h, { pid: process.pid, party: 'us', address, started_at: new Date().toISOString() });
      expect(await runningNode(h)).toMatchObject({ pid: process.pid, address });
    } finally {
      silent.close();
    }
    // The same silence from a socket another process holds: the pid file's pid is not the node there.
    const other = spawn(process.execPath, ['-e', `require('node:net').createServer(() => {}).listen(0, '127.0.0.1', function () { console.log(this.address().port) })`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((r) => other.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
      write(h, { pid: process.pid, party: 'us', address: `http://127.0.0.1:${port}`, started_at: new Date().toISOString() });
      expect(await runningNode(h)).toBeUndefined();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('starting (no address yet): a live pid counts for ten minutes, not for ever', async () => {
    const h = home();
    const t = Date.now();
    write(h, { pid: process.pid, party: 'us', address: null, started_at: new Date(t).toISOString() });
    expect(await runningNode(h, t + 60_000)).toMatchObject({ address: null });
    expect(await runningNode(h, t + 11 * 60_000)).toBeUndefined();
  });

  it('claimHome: refused while claimed (already_running, pid), replaces a stale file, release removes only its own', async () => {
    const h = home();
    write(h, { pid: deadPid(), party: 'us', address: 'http://127.0.0.1:1', started_at: new Date().toISOString() });
    const claim = await claimHome(h, 'us');
    expect(JSON.parse(readFileSync(join(h, PID_FILE), 'utf8'))).toMatchObject({ pid: process.pid, address: null });
    await expect(claimHome(h, 'us')).rejects.toMatchObject({ code: 'already_running', message: expect.stringContaining(`already running (pid ${process.pid})`) });
    claim.listening('http://127.0.0.1:7001');
    expect(JSON.parse(readFileSync(join(h, PID_FILE), 'utf8'))).toMatchObject({ address: 'http://127.0.0.1:7001' });
    write(h, { pid: 12345, party: 'us', address: null, started_at: new Date().toISOString() }); // someone else's now
    claim.release();
    expect(existsSync(join(h, PID_FILE))).toBe(true);
    write(h, { pid: deadPid(), party: 'us', address: null, started_at: new Date().toISOString() });
    const second = await claimHome(h, 'us');
    second.release();
    expect(existsSync(join(h, PID_FILE))).toBe(false);
  });

  it('several processes of a node on PostgreSQL: one record per listen address; the same address refused, another allowed; runningProcesses lists them', async () => {
    const h = home();
    const a = await claimHome(h, 'us', { listen: { host: '127.0.0.1', port: 7001 } });
    const b = await claimHome(h, 'us', { listen: { host: '127.0.0.1', port: 7002 } });
    expect(existsSync(join(h, pidFileName({ listen: { host: '127.0.0.1', port: 7001 } })))).toBe(true);
    await expect(claimHome(h, 'us', { listen: { host: '127.0.0.1', port: 7001 } })).rejects.toMatchObject({ code: 'already_running', message: expect.stringContaining('--listen') });
    // Starting (no address yet), both count as running processes of the node.
    expect((await runningProcesses(h)).map((r) => r.pid)).toEqual([process.pid, process.pid]);
    a.release();
    b.release();
    expect(await runningProcesses(h)).toEqual([]);
  });
});
