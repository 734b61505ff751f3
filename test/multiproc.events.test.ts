/**
 * Issue 13 item 3, several processes of one node on one PostgreSQL store: a FLASH received by
 * process 1 appears on a console (GET /api/v1/events) connected to process 2 (LISTEN/NOTIFY); each
 * process claims its own listen address (a second start on one address is refused, an SQLite home
 * still runs one process whatever --listen says); `hotline status` lists the processes.
 */
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

const running: { kill9(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill9()));
});
let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

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
