/**
 * Issue 13 item 3, several processes of one node on one PostgreSQL store: a FLASH received by
 * process 1 appears on a console (GET /api/v1/events) connected to process 2 (LISTEN/NOTIFY); each
 * process claims its own listen address (a second start on one address is refused, an SQLite home
 * still runs one process whatever --listen says); `hotline status` lists the processes, not one
 * killed with -9 whose lease has not lapsed yet, and `feed ingest` does not hand its run to one.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { freePort } from '../src/adapters/cli/commands/demo.js';
import { ensureBuilt, hlBinary, json } from './helpers/cli.js';
import { eventually, makeHome, peerAll, tempDir } from './helpers/nodes.js';
import { loadConfig } from '../src/config.js';
import { openContext } from '../src/context.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { silentLogger } from '../src/shared/logger.js';
import { twoProcessNode } from './helpers/multiproc.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/pg.js';
import { NodeProcess, readStore } from './helpers/processes.js';

const { Client } = createRequire(import.meta.url)('pg') as typeof import('pg');
const running: { kill9(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill9()));
});
let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

/** Makes the `process:` lease of the process `pid` live for `ms` more: a lease that cannot lapse during the test. */
async function liveFor(url: string, pid: number, ms: number): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query('update leases set expires_at = $1 where name like $2', [Date.now() + ms, `process:%:${pid}:%`]);
    expect(r.rowCount).toBe(1);
  } finally {
    await c.end();
  }
}

/** Reads a Server-Sent Events stream until `want` returns true for an event; resolves with that event. */
async function sseUntil(res: Response, want: (name: string, data: Record<string, unknown>) => boolean, onOpen: () => Promise<void>): Promise<Record<string, unknown>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let opened = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.startsWith(': hotline events') && !opened) {
          opened = true;
          await onOpen();
          continue;
        }
        const name = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (name === undefined || data === undefined) continue;
        const parsed = JSON.parse(data) as Record<string, unknown>;
        if (want(name, parsed)) return parsed;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

describePg('several processes of one node on PostgreSQL', () => {
  it('a FLASH received by process 1 appears on a console connected to process 2; per-address pid files; status lists both', async () => {
    ensureBuilt();
    database = await createTestDatabase();
    // Peers deliver to process 1 only (the home's url): process 2 can hear of the FLASH only through PostgreSQL.
    // Delivery looks for work once an hour by itself: what is delivered sooner was woken by a notice.
    const { us, ru, p1, p2 } = await twoProcessNode(database.url, tempDir(), { extra: { delivery: { pollMs: 3_600_000 } }, setup: peerAll, running });
    const port1 = p1.port;

    // A second process on an address already claimed is refused; one on another address is what --listen is for.
    const same = await hlBinary(us.home, 'start', '--listen', `127.0.0.1:${port1}`);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('error [already_running]');
    expect(same.stderr).toContain(`already running (pid ${p1.child!.pid})`);
    expect(same.stderr).toContain('--listen');

    const status = await json<{ running: boolean; processes: { pid: number; address: string }[] }>(us.home, 'status');
    expect(status.running).toBe(true);
    expect(status.processes.map((p) => p.pid).sort()).toEqual([p1.child!.pid, p2.child!.pid].sort());
    expect(status.processes.map((p) => p.address).sort()).toEqual([p1.address, p2.address].sort());

    const console2 = await fetch(`${p2.address}/api/v1/events`, { headers: { authorization: `Bearer ${us.token}` } });
    expect(console2.status).toBe(200);
    let sent: string | undefined;
    const heard = await sseUntil(console2, (name, d) => name === 'message' && d.id === sent, async () => {
      // Sent only once process 2's stream is open: what it hears is what process 1 stored after.
      const r = await fetch(`${ru.url}/api/v1/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${ru.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: 'us', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'green', text: 'FLASH: heard on every process' }),
      });
      expect(r.status).toBe(202);
      sent = ((await r.json()) as { id: string }).id;
    });
    expect(heard).toMatchObject({ id: sent, direction: 'in', priority: 'flash', peer: 'ru' });
    // Process 1 received it (the peer delivers to its address): process 2's log has no receive of it.
    expect(p2.logLines().some((l) => JSON.stringify(l).includes(sent!) && l.msg !== undefined && String(l.msg).includes('receiv'))).toBe(false);

    // A message queued by another process on the store (here this test, as `hotline send` would) wakes the running processes at once (NOTIFY).
    const writer = await openContext(loadConfig(us.home), { log: silentLogger });
    try {
      const env = await send(writer, { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'queued outside the running processes' });
      await eventually(async () => readStore(ru.home, (db) => db.prepare('select id from messages where id = ?').get(env.id)) ?? undefined);
    } finally {
      await writer.close();
    }

    // Process 2 killed with -9: its `process:` lease stays live until it lapses (made an hour here, so
    // that the lapse cannot be what drops it), but status no longer lists it: its pid is gone.
    await p2.kill9();
    await liveFor(database!.url, p2.child!.pid!, 3_600_000);
    const after = await json<{ running: boolean; processes: { pid: number }[] }>(us.home, 'status');
    expect(after.running).toBe(true);
    expect(after.processes.map((p) => p.pid)).toEqual([p1.child!.pid]);

    // Both killed: `feed ingest` runs the feed itself instead of handing it to a node that is gone.
    await p1.kill9();
    await liveFor(database!.url, p1.child!.pid!, 3_600_000);
    expect((await json<{ running: boolean }>(us.home, 'status')).running).toBe(false);
    const feed = join(tempDir(), 'feed.csv');
    writeFileSync(feed, 'ip,port,timestamp,family,type\n198.51.100.7,80,2026-11-30T10:00:00Z,mirai,infected\n');
    const run = await json<{ ran_by: string; report: { records: number } }>(us.home, 'feed', 'ingest', feed, '--source', 'after-kill');
    expect(run.ran_by).toBe('cli');
    expect(run.report.records).toBe(1);
  });

  it('an SQLite home runs one process, whatever --listen says', async () => {
    ensureBuilt();
    const dir = tempDir();
    const solo = await makeHome('xx', {}, dir);
    const first = new NodeProcess(solo.home, solo.url);
    running.push(first);
    await first.start();
    const second = await hlBinary(solo.home, 'start', '--listen', `127.0.0.1:${await freePort()}`);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('error [already_running]');
    expect(second.stderr).toContain(`already running (pid ${first.child!.pid})`);
  });
});
