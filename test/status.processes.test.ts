/**
 * Issue 10 item 10, with real node processes: `send` says when the node is not running (the
 * message waits in the outbox); a second `hotline start` on the same home, or on an address in
 * use, says "already running (pid N) on ADDRESS" (already_running, not EADDRINUSE); kill -9
 * leaves a pid file behind that is not taken for a running node, and the next start replaces it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBuilt, hl, hlBinary, json } from './helpers/cli.js';
import { makeHome, makePair, tempDir } from './helpers/nodes.js';
import { NodeProcess } from './helpers/processes.js';

const started: NodeProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.kill9()));
});

const SEND = ['send', '--to', 'ru', '--channel', 'cert', '--text', 'For your information.'];
const pidFile = (home: string): string => join(home, 'hotline.pid');

describe('is the node running?', () => {
  it('send says "not running" and that the message waits; not when it runs; kill -9 leaves no false positive; the next start takes over', async () => {
    ensureBuilt();
    const [us] = await makePair();
    const notRunning = /The node is not running: the message waits in the outbox and is delivered when it starts \(hotline start\)/;

    let r = await hl(us.home, ...SEND);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(notRunning);
    expect((await json<{ node_running: boolean; state: string }>(us.home, ...SEND)).node_running).toBe(false);

    const node = new NodeProcess(us.home, us.url);
    started.push(node);
    await node.start();
    const record = JSON.parse(readFileSync(pidFile(us.home), 'utf8')) as { pid: number; address: string; party: string };
    expect(record).toMatchObject({ pid: node.child!.pid, address: `http://127.0.0.1:${us.port}`, party: 'us' });
    r = await hl(us.home, ...SEND);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/not running/);
    expect((await json<{ node_running: boolean }>(us.home, ...SEND)).node_running).toBe(true);
    expect(await json<{ running: boolean; pid: number }>(us.home, 'status')).toMatchObject({ running: true, pid: node.child!.pid });

    // kill -9: the pid file stays, naming a dead process; nobody takes it for a running node.
    await node.kill9();
    expect(existsSync(pidFile(us.home))).toBe(true);
    expect((await hl(us.home, ...SEND)).stderr).toMatch(notRunning);
    expect(await json<{ running: boolean }>(us.home, 'status')).toMatchObject({ running: false });

    // A live pid that does not hold the address (the pid reused by another program) is not a node either.
    writeFileSync(pidFile(us.home), JSON.stringify({ ...record, pid: process.pid }));
    expect((await hl(us.home, ...SEND)).stderr).toMatch(notRunning);

    // The next start replaces the stale file; a clean stop removes it.
    const again = new NodeProcess(us.home, us.url);
    started.push(again);
    await again.start();
    expect(JSON.parse(readFileSync(pidFile(us.home), 'utf8'))).toMatchObject({ pid: again.child!.pid });
    await again.stop();
    expect(existsSync(pidFile(us.home))).toBe(false);
  });

  it('a second start on the same home, or on an address in use: "already running (pid N) on ADDRESS", exit 1, the first node unharmed', async () => {
    ensureBuilt();
    const dir = tempDir();
    const us = await makeHome('us', {}, dir);
    const node = new NodeProcess(us.home, us.url);
    started.push(node);
    await node.start();
    const pid = node.child!.pid!;
    const address = `http://127.0.0.1:${us.port}`;

    const same = await hlBinary(us.home, 'start');
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('error [already_running]');
    expect(same.stderr).toContain(`already running (pid ${pid}) on ${address}`);
    expect(same.stderr).not.toContain('EADDRINUSE');

    // Another home configured on the same address.
    const other = await makeHome('xx', {}, dir);
    const config = JSON.parse(readFileSync(join(other.home, 'hotline.json'), 'utf8')) as { listen: { host: string; port: number } };
    config.listen.port = us.port;
    writeFileSync(join(other.home, 'hotline.json'), JSON.stringify(config));
    const taken = await hlBinary(other.home, 'start');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('error [already_running]');
    expect(taken.stderr).toContain(`already running (pid ${pid}) on ${address} (node "us")`);
    expect(taken.stderr).not.toContain('EADDRINUSE');
    expect(existsSync(pidFile(other.home))).toBe(false); // a refused start leaves nothing behind

    expect((await fetch(`${address}/healthz`)).ok).toBe(true);
    expect(JSON.parse(readFileSync(pidFile(us.home), 'utf8'))).toMatchObject({ pid });
  });

  it('in one process: a second startNode on a home that runs is refused with already_running; after stop it starts', async () => {
    const us = await makeHome('us', {}, tempDir());
    const a = await us.start({ runDelivery: false, runPings: false, runReminders: false, runDeadlines: false, runRetention: false });
    try {
      await expect(us.start()).rejects.toMatchObject({ code: 'already_running', message: expect.stringContaining(`already running (pid ${process.pid}) on ${a.address}`) });
    } finally {
      await a.stop();
    }
    const b = await us.start({ runDelivery: false, runPings: false, runReminders: false, runDeadlines: false, runRetention: false });
    await b.stop();
  });
});
