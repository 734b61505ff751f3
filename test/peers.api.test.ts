/**
 * Issue 12 over REST (administrators, bearer tokens): GET /api/v1/peers shows what `peer list
 * --json` shows (fingerprint, key history, state); suspend, resume, remove and a descriptor update
 * through the API change the peer as the CLI does, are audited, and are refused to officers and
 * for a descriptor signed by another key (nothing changed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { withNode } from '../src/adapters/cli/home.js';
import { generateKeys } from '../src/modules/identity/identity.keys.js';
import { makeDescriptor } from '../src/modules/federation/federation.peers.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { makePair, type TestHome } from './helpers/nodes.js';

interface PeerView { party: string; url: string; fingerprint: string; state: string; key_changed_at: string | null; keys: { fingerprint: string; valid_until: string | null }[]; lifecycle: string }

let us: TestHome, ru: TestHome, a: RunningNode, call: Api, officer: string;
beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false, runReminders: false, runDeadlines: false, runDelivery: false });
  call = api(us.url);
  officer = (await usersWithTokens(call, us.token, { olga: ['crisis', 'cert'] })).olga!;
});
afterAll(async () => { await a?.stop(); });

const peer = async (): Promise<PeerView> => (await call('/api/v1/peers/ru', us.token)).json as unknown as PeerView;

describe('peers over REST', () => {
  it('lists each peer with its fingerprint, key history and state, as peer list --json does', async () => {
    const list = (await call('/api/v1/peers', us.token)).json.peers as PeerView[];
    expect(list.map((p) => [p.party, p.fingerprint, p.state, p.key_changed_at, p.keys.length])).toEqual([['ru', ru.fingerprint, 'ok', null, 1]]);
    expect(list[0]!.keys[0]).toMatchObject({ fingerprint: ru.fingerprint, valid_until: null });
  });

  it('suspend, resume and remove: administrators only, each changes the state and is audited', async () => {
    const refused = await call('/api/v1/peers/ru/suspend', officer, { method: 'POST' });
    expect([refused.status, refused.json.code]).toEqual([403, 'forbidden']);
    expect((await peer()).state).toBe('ok');

    expect((await call('/api/v1/peers/ru/suspend', us.token, { method: 'POST' })).status).toBe(200);
    expect((await peer()).state).toBe('suspended');
    expect((await call('/api/v1/peers/ru/resume', us.token, { method: 'POST' })).status).toBe(200);
    expect((await peer()).state).toBe('ok');

    const moved = await withNode(ru.home, async (ctx) => makeDescriptor({ ...ctx.self, url: 'http://127.0.0.1:9/' }, generateKeys().keys));
    const forged = await call('/api/v1/peers/ru/descriptor', us.token, { method: 'PUT', body: { descriptor: moved } });
    expect([forged.status, forged.json.code]).toEqual([409, 'descriptor_not_pinned']);
    expect((await peer()).url).toBe(ru.url);

    const honest = await withNode(ru.home, async (ctx) => makeDescriptor({ ...ctx.self, url: 'http://127.0.0.1:9/' }, ctx.keys));
    expect((await call('/api/v1/peers/ru/descriptor', us.token, { method: 'PUT', body: { descriptor: honest } })).status).toBe(200);
    expect((await peer()).url).toBe('http://127.0.0.1:9/');

    expect((await call('/api/v1/peers/ru', us.token, { method: 'DELETE' })).status).toBe(200);
    expect((await peer()).state).toBe('removed');
    const resumeRemoved = await call('/api/v1/peers/ru/resume', us.token, { method: 'POST' });
    expect([resumeRemoved.status, resumeRemoved.json.code]).toEqual([409, 'peer_removed']);

    const audit = (await call('/api/v1/audit?limit=50', us.token)).json.records as { action: string; subject: string | null }[];
    expect(audit.filter((r) => r.action.startsWith('peer.') && r.subject === 'ru').map((r) => r.action).reverse())
      .toEqual(['peer.suspend', 'peer.resume', 'peer.update', 'peer.remove']);
  });
});
