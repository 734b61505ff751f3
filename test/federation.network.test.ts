/**
 * Delivery against peers that misbehave on the network: one that answers with a redirect (never
 * followed: a peer must not steer the node at another address), and one that accepts the
 * connection and never answers (it holds only its own link). Real nodes and real servers on loopback.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import { send, show } from '../src/modules/messaging/messaging.service.js';
import { ensureBuilt, json, ok } from './helpers/cli.js';
import { eventually, makeHome, peerAll, tempDir } from './helpers/nodes.js';

const running: RunningNode[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
beforeAll(() => ensureBuilt());

/** An HTTP server on 127.0.0.1 (port 0 or `port`) that counts requests and answers each with `answer`. */
async function countingServer(answer: (res: import('node:http').ServerResponse) => void, port = 0): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const server: HttpServer = createHttpServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n };
}

const message = { channel: 'crisis', kind: 'notification', tlp: 'amber', text: 'network test' } as const;

describe('delivery on a misbehaving network', () => {
  it('never follows a redirect: a 307 is a failed attempt coded redirect_refused, shown in outbox and peer list', async () => {
    const dir = tempDir();
    const us = await makeHome('us', {}, dir);
    const ru = await makeHome('ru', {}, dir);
    await peerAll(us, ru);
    // Where the redirect points: a second loopback server that counts what reaches it.
    const target = await countingServer((res) => res.end('{"results":[]}'));
    // ru's pinned URL answers every request with 307 to the target.
    const redirector = await countingServer((res) => {
      res.writeHead(307, { location: `${target.url}/federation/v1/envelopes` });
      res.end();
    }, ru.port);
    const a = await us.start({ runDelivery: false });
    running.push(a);
    const env = await send(a.ctx, { ...message, to: 'ru', priority: 'flash' });
    expect(await a.delivery.runOnce()).toBe(0);
    expect(redirector.count()).toBe(1);
    expect(target.count()).toBe(0);
    const link = (await getLink(a.ctx.db, 'us', 'ru'))!;
    expect(link.attempts).toBe(1);
    expect(link.last_error).toMatch(/^redirect_refused: ru at .* answered HTTP 307 to http:\/\/127\.0\.0\.1:\d+\/federation\/v1\/envelopes; redirects are never followed/);
    expect((await show(a.ctx.db, env.id)).message).toMatchObject({ state: 'retrying', last_error: link.last_error });

    expect(await ok(us.home, 'outbox')).toMatch(/retrying \(attempt 1, next [^)]*, redirect_refused\)/);
    expect(await ok(us.home, 'peer', 'list')).toMatch(/failing: redirect_refused \(1 attempts, 1 pending\)/);
    const listed = await json<{ peers: { party: string; delivery: { last_error_code: string | null; pending: number } }[] }>(us.home, 'peer', 'list');
    expect(listed.peers.find((p) => p.party === 'ru')?.delivery).toMatchObject({ last_error_code: 'redirect_refused', pending: 1 });
    expect(target.count()).toBe(0);
  });

  it('a peer that accepts and never answers holds only its own link: a FLASH to a healthy peer is receipted while that attempt is still open', async () => {
    const dir = tempDir();
    const us = await makeHome('us', {}, dir);
    const ru = await makeHome('ru', {}, dir);
    const hx = await makeHome('hx', {}, dir);
    await peerAll(us, ru);
    await peerAll(us, hx);
    // hx's address: a TCP server that reads everything and never writes a byte.
    const sockets: Socket[] = [];
    let closed = 0;
    let bytes = 0;
    const hung: NetServer = createNetServer((s) => {
      sockets.push(s);
      s.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      s.on('close', () => closed++);
    });
    await new Promise<void>((r) => hung.listen(hx.port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      hung.close(() => r());
    }));
    const b = await ru.start();
    running.push(b);
    const a = await us.start();
    running.push(a);

    await send(a.ctx, { ...message, to: 'hx', priority: 'routine' });
    // The request to hx is on the wire and waiting for an answer that never comes.
    await eventually(async () => (bytes > 0 ? true : undefined));
    const flash = await send(a.ctx, { ...message, to: 'ru', priority: 'flash' });
    a.delivery.wake();
    await eventually(async () => ((await show(a.ctx.db, flash.id)).message.state === 'delivered' ? true : undefined));
    // The order of events: the FLASH was receipted while hx's attempt was still open, unanswered.
    expect(closed).toBe(0);
    expect(sockets.length).toBeGreaterThan(0);
    const hxLink = (await getLink(a.ctx.db, 'us', 'hx'))!;
    expect(hxLink).toMatchObject({ attempts: 0, acked_seq: 0 });
  });
});
