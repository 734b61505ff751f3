import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { makePair, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let node: RunningNode;

beforeAll(async () => {
  [us] = await makePair();
  node = await us.start({ runDelivery: false });
});
afterAll(async () => {
  await node.stop();
});

async function call(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
  const token = init.token === undefined ? us.token : init.token;
  const res = await fetch(`${us.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: (await res.json()) as Record<string, unknown> };
}

const message = { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'amber', text: 'hello' };

describe('REST API', () => {
  it('serves OpenAPI 3.1 describing the federation endpoint and the API', async () => {
    const r = await call('/openapi.json', { token: null });
    expect(r.json.openapi).toBe('3.1.0');
    const paths = Object.keys(r.json.paths as object);
    expect(paths).toEqual(expect.arrayContaining(['/federation/v1/envelopes', '/api/v1/messages', '/api/v1/messages/{id}', '/api/v1/peers', '/healthz']));
  });

  it('answers /healthz without a token; /metrics only with an administrator\'s token', async () => {
    expect((await call('/healthz', { token: null })).json).toEqual({ status: 'ok', party: 'us' });
    expect((await fetch(`${us.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${us.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    const metrics = await (await fetch(`${us.url}/metrics`, { headers: { authorization: `Bearer ${us.token}` } })).text();
    expect(metrics).toContain('hotline_outbox_pending');
    expect(metrics).toContain('hotline_envelopes_received_total');
  });

  it('refuses a missing or wrong token with 401 problem+json, and queues nothing', async () => {
    for (const token of [null, 'wrong-token']) {
      const r = await call('/api/v1/messages', { method: 'POST', body: message, token });
      expect(r.status).toBe(401);
      expect(r.type).toContain('application/problem+json');
      expect(r.json.code).toBe('unauthorized');
    }
    expect((await call('/api/v1/messages?direction=out')).json.messages).toEqual([]);
  });

  it('queues a message (202) and shows it as queued with its seq and case', async () => {
    const r = await call('/api/v1/messages', { method: 'POST', body: message });
    expect(r.status).toBe(202);
    const shown = await call(`/api/v1/messages/${String(r.json.id)}`);
    expect(shown.json.message).toMatchObject({ id: r.json.id, state: 'queued', to: 'ru', priority: 'flash', text: 'hello', case: r.json.id });
    expect((shown.json.envelope as { sig: string }).sig).toHaveLength(86);
  });

  it.each([
    [{ ...message, priority: 'urgent' }, 'invalid_argument', /priority/],
    [{ ...message, to: 'cn' }, 'unknown_peer', /"cn"/],
    [{ ...message, text: '' }, 'invalid_argument', /text/],
    [{ ...message, extra: 1 }, 'invalid_argument', /extra|additional/],
  ])('refuses bad input with a stable code and changes nothing (%#)', async (body, code, detail) => {
    const before = (await call('/api/v1/messages?direction=out&limit=1000')).json.messages;
    const r = await call('/api/v1/messages', { method: 'POST', body });
    expect(r.json.code).toBe(code);
    expect(String(r.json.detail)).toMatch(detail);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect((await call('/api/v1/messages?direction=out&limit=1000')).json.messages).toEqual(before);
  });

  it('answers 404 not_found for an unknown message and 400 for a malformed id', async () => {
    const missing = await call('/api/v1/messages/01a20000-0000-7000-8000-000000000000');
    expect([missing.status, missing.json.code]).toEqual([404, 'not_found']);
    const bad = await call('/api/v1/messages/nope');
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid_argument']);
  });

  it('lists and shows peers, and refuses to pin the same party twice', async () => {
    const peers = (await call('/api/v1/peers')).json.peers as { party: string }[];
    expect(peers.map((p) => p.party)).toEqual(['ru']);
    const again = await call('/api/v1/peers', { method: 'POST', body: { descriptor: (await call('/api/v1/node')).json, trust_on_first_use: true } });
    expect(again.json.code).toBe('invalid_argument'); // its own descriptor: a node does not peer with itself
  });
});
