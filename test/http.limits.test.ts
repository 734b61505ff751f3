/**
 * What a slow or noisy client may cost a node: a trickled body or slow headers are cut by the
 * server's timeouts (408, connection closed), requests per source address are limited (429
 * rate_limited with Retry-After), and a batch of refused envelopes is one log line. Real nodes on
 * loopback with low limits set in hotline.json (loopback counts only with http.limitLoopback).
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { withNode } from '../src/adapters/cli/home.js';
import type { RunningNode } from '../src/main.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { parseDescriptor } from '../src/modules/federation/federation.peers.js';
import { makeHome, tempDir } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

/**
 * Opens a raw connection, writes `head` at once, then `trickle` one byte at a time (every 20 ms)
 * until the server closes the connection; returns what the server answered and how much was sent.
 */
function trickle(port: number, head: string, trickleText: string): Promise<{ answer: string; sent: number; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= trickleText.length) return; // never reached: the text is longer than any timeout
        socket.write(trickleText[sent]!);
        sent++;
      }, 20);
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, sent, finished: sent >= trickleText.length });
    });
  });
}

describe('HTTP limits', () => {
  it('cuts a trickled body and slow headers with 408 and closes the connection', async () => {
    const us = await makeHome('us', { http: { requestTimeoutMs: 1000, headersTimeoutMs: 500 } });
    const a = await us.start({ runDelivery: false, runDeadlines: false });
    running.push(a);
    const body = '{"envelopes":[' + ' '.repeat(1_000_000);
    const head = `POST /federation/v1/envelopes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 2}\r\n\r\n`;
    const slowBody = await trickle(us.port, head, body);
    expect(slowBody.finished).toBe(false);
    expect(slowBody.answer).toMatch(/^HTTP\/1\.1 408 /);
    const slowHeaders = await trickle(us.port, 'GET /healthz HTTP/1.1\r\n', `X-Slow: ${'a'.repeat(1_000_000)}`);
    expect(slowHeaders.finished).toBe(false);
    expect(slowHeaders.answer).toMatch(/^HTTP\/1\.1 408 /);
    // The node still serves everyone else.
    expect((await fetch(`${us.url}/healthz`)).status).toBe(200);
  });

  it('limits requests per source address, federation and API apart: 429 rate_limited with Retry-After', async () => {
    const us = await makeHome('us', { http: { limitLoopback: true, federationPerMinute: 2, apiPerMinute: 3 } });
    const a = await us.start({ runDelivery: false, runDeadlines: false });
    running.push(a);
    const post = (): Promise<Response> => fetch(`${us.url}/federation/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"envelopes":[]}' });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    const get = (): Promise<Response> => fetch(`${us.url}/api/v1/peers`, { headers: { authorization: `Bearer ${us.token}` } });
    for (let i = 0; i < 3; i++) expect((await get()).status).toBe(200);
    const api = await get();
    expect(api.status).toBe(429);
    expect(await api.json()).toMatchObject({ code: 'rate_limited' });
  });

  it('loopback is not limited by default', async () => {
    const us = await makeHome('us', { http: { federationPerMinute: 1 } });
    const a = await us.start({ runDelivery: false, runDeadlines: false });
    running.push(a);
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${us.url}/federation/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"envelopes":[]}' });
      expect(r.status).toBe(200);
    }
  });

  it('logs one line per batch of refused envelopes, with counts per code', async () => {
    const dir = tempDir();
    const us = await makeHome('us', {}, dir);
    const zz = await makeHome('zz', {}, dir);
    // zz knows us, us does not know zz: everything zz sends is unknown_peer at us.
    const envelopes = await withNode(zz.home, async (ctx) => {
      await ctx.peers.add(parseDescriptor(us.descriptor), { expectFingerprint: us.fingerprint });
      for (let i = 0; i < 50; i++) await send(ctx, { to: 'us', channel: 'crisis', kind: 'notification', priority: 'routine', tlp: 'amber', text: `noise ${i}` });
      const rows = await ctx.db.selectFrom('messages').select('envelope').where('direction', '=', 'out').orderBy('seq').execute();
      return rows.map((r) => JSON.parse(r.envelope) as unknown);
    });
    const lines: { level: number; msg: string; codes?: Record<string, number> }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as (typeof lines)[number]);
        done();
      },
    });
    const a = await us.start({ runDelivery: false, runDeadlines: false, log: pino({ level: 'warn' }, sink) });
    running.push(a);
    const res = await fetch(`${us.url}/federation/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelopes }) });
    const { results } = (await res.json()) as { results: { ok: boolean; error?: { code: string } }[] };
    expect(results.map((r) => r.error?.code)).toEqual(Array(50).fill('unknown_peer'));
    const refusals = lines.filter((l) => /refused/.test(l.msg));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ codes: { unknown_peer: 50 } });
    expect(refusals[0]!.msg).toMatch(/^batch: 50 of 50 envelopes refused; first: "zz" is not a pinned peer/);
  });
});
