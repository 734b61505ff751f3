/**
 * The channel wall over real HTTP: two nodes on loopback; on `ru` a cert, a law and a crisis
 * officer (and one holding cert and crisis), each with a token, each trying everything the
 * others may see. Bad tokens and bad user input are refused with their code and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { CHANNELS, type Channel } from '../src/modules/federation/federation.types.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let tokens: Record<string, string>;
/** Message ids on ru by channel: what came in from us, what ru's officers sent out. */
const inbound: Record<string, string> = {};
const outbound: Record<string, string> = {};

const OFFICERS: Record<string, Channel[]> = { certo: ['cert'], lawo: ['law'], crisiso: ['crisis'], duo: ['crisis', 'cert'] };
const message = (channel: string, text: string): Record<string, unknown> => ({ to: 'us', channel, kind: 'notification', priority: 'routine', tlp: 'amber', text });

type Listed = { id: string; channel: string; text: string | null }[];

async function listed(token: string, direction: 'in' | 'out'): Promise<Listed> {
  const r = await onRu(`/api/v1/messages?direction=${direction}&limit=1000`, token);
  expect(r.status).toBe(200);
  return r.json.messages as Listed;
}

/** Everything ru holds, as its administrator sees it: to show that a refusal changed nothing. */
async function state(): Promise<unknown> {
  return {
    in: await listed(ru.token, 'in'),
    out: await listed(ru.token, 'out'),
    peers: (await onRu('/api/v1/peers', ru.token)).json,
    users: (await onRu('/api/v1/users', ru.token)).json,
    tokens: (await onRu('/api/v1/tokens', ru.token)).json,
  };
}

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start();
  b = await ru.start();
  onUs = api(us.url);
  onRu = api(ru.url);
  tokens = await usersWithTokens(onRu, ru.token, OFFICERS);
  for (const c of CHANNELS) {
    const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { ...message(c, `us→ru on ${c}`), to: 'ru' } });
    expect(sent.status).toBe(202);
    inbound[c] = String(sent.json.id);
    // Each of ru's single-channel officers sends on its own channel.
    const officer = Object.keys(OFFICERS).find((o) => OFFICERS[o]!.length === 1 && OFFICERS[o]![0] === c)!;
    const out = await onRu('/api/v1/messages', tokens[officer]!, { method: 'POST', body: message(c, `ru→us on ${c} by ${officer}`) });
    expect(out.status, JSON.stringify(out.json)).toBe(202);
    outbound[c] = String(out.json.id);
  }
  await eventually(async () => ((await listed(ru.token, 'in')).length === 3 ? true : undefined));
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('the channel wall (REST, real nodes)', () => {
  it('the administrator token sees every channel, both directions', async () => {
    expect((await listed(ru.token, 'in')).map((m) => m.channel).sort()).toEqual([...CHANNELS].sort());
    expect((await listed(ru.token, 'out')).map((m) => m.channel).sort()).toEqual([...CHANNELS].sort());
    for (const id of [...Object.values(inbound), ...Object.values(outbound)]) expect((await onRu(`/api/v1/messages/${id}`, ru.token)).status).toBe(200);
  });

  it.each(Object.entries(OFFICERS))('%s lists only its channels (%s), in and out', async (officer, channels) => {
    const t = tokens[officer]!;
    const inbox = await listed(t, 'in');
    expect(inbox.map((m) => m.id).sort()).toEqual(channels.map((c) => inbound[c]).sort());
    expect(inbox.every((m) => channels.includes(m.channel as Channel))).toBe(true);
    const outbox = await listed(t, 'out');
    expect(outbox.map((m) => m.id).sort()).toEqual(channels.map((c) => outbound[c]).sort());
    expect((await onRu('/api/v1/me', t)).json).toEqual({ user: officer, role: 'officer', channels, token: expect.any(String) as string });
  });

  it.each(Object.entries(OFFICERS))('%s gets 404 not_found (as for a message that does not exist) for every message on another channel', async (officer, channels) => {
    const t = tokens[officer]!;
    for (const c of CHANNELS) {
      for (const id of [inbound[c]!, outbound[c]!]) {
        const r = await onRu(`/api/v1/messages/${id}`, t);
        if (channels.includes(c)) {
          expect(r.status).toBe(200);
          expect((r.json.message as { text: string }).text).toMatch(new RegExp(`on ${c}`));
        } else {
          expect([r.status, r.json.code]).toEqual([404, 'not_found']);
          expect(r.json.detail).toBe(`No message ${id} on this node`);
          expect(JSON.stringify(r.json)).not.toContain(`on ${c}`);
        }
      }
    }
  });

  it.each(Object.entries(OFFICERS))('%s may not send on another channel: 403 forbidden, nothing queued', async (officer, channels) => {
    for (const c of CHANNELS.filter((x) => !channels.includes(x))) {
      const before = await state();
      const r = await onRu('/api/v1/messages', tokens[officer]!, { method: 'POST', body: message(c, 'crossing the wall') });
      expect([r.status, r.json.code]).toEqual([403, 'forbidden']);
      expect(String(r.json.detail)).toContain(`"${c}"`);
      expect(await state()).toEqual(before);
    }
  });

  it('law is never visible to a cert or crisis token, nor cert and crisis to a law token', async () => {
    for (const officer of ['certo', 'crisiso', 'duo']) {
      const all = [...await listed(tokens[officer]!, 'in'), ...await listed(tokens[officer]!, 'out')];
      expect(all.some((m) => m.channel === 'law')).toBe(false);
    }
    const law = [...await listed(tokens.lawo!, 'in'), ...await listed(tokens.lawo!, 'out')];
    expect(law.length).toBe(2);
    expect(law.every((m) => m.channel === 'law')).toBe(true);
  });

  it('officers may not administer the node: pin peers, list or add users, mint or revoke tokens (403, nothing changed)', async () => {
    const descriptor = (await onUs('/api/v1/node', us.token)).json;
    const tokenId = ((await onRu('/api/v1/tokens', ru.token)).json.tokens as { id: string }[])[0]!.id;
    for (const officer of Object.keys(OFFICERS)) {
      const t = tokens[officer]!;
      const before = await state();
      for (const [path, method, body] of [
        ['/api/v1/peers', 'POST', { descriptor }],
        ['/api/v1/users', 'GET', undefined],
        ['/api/v1/users', 'POST', { name: 'mallory', role: 'admin' }],
        ['/api/v1/users/lawo/disable', 'POST', {}],
        ['/api/v1/tokens', 'GET', undefined],
        ['/api/v1/tokens', 'POST', { user: 'lawo' }],
        [`/api/v1/tokens/${tokenId}`, 'DELETE', undefined],
      ] as const) {
        const r = await onRu(path, t, { method, ...(body === undefined ? {} : { body }) });
        expect([path, method, r.status, r.json.code]).toEqual([path, method, 403, 'forbidden']);
      }
      expect(await state()).toEqual(before);
    }
  });
});

describe('bad tokens and bad input', () => {
  it('a missing or unknown token: 401', async () => {
    for (const t of [null, 'not-a-token']) {
      const r = await onRu('/api/v1/messages', t);
      expect([r.status, r.json.code]).toEqual([401, 'unauthorized']);
    }
  });

  it('a revoked token: 401, and only that token stops working', async () => {
    const [t] = Object.values(await usersWithTokens(onRu, ru.token, { revokee: ['cert'] }));
    const spare = await onRu('/api/v1/tokens', ru.token, { method: 'POST', body: { user: 'revokee' } });
    const id = ((await onRu('/api/v1/tokens?user=revokee', ru.token)).json.tokens as { id: string }[])[0]!.id;
    expect((await onRu('/api/v1/messages', t!)).status).toBe(200);
    const revoked = await onRu(`/api/v1/tokens/${id}`, ru.token, { method: 'DELETE' });
    expect(revoked.json).toMatchObject({ id, user: 'revokee', revoked_at: expect.any(String) });
    const before = await state();
    for (const path of ['/api/v1/messages', `/api/v1/messages/${inbound.cert!}`, '/api/v1/me']) {
      const r = await onRu(path, t!);
      expect([r.status, r.json.code]).toEqual([401, 'unauthorized']);
      // The same answer as for a token that never existed: nothing learnt about the token.
      expect(r.json).toEqual((await onRu(path, 'never-issued-token')).json);
    }
    const send = await onRu('/api/v1/messages', t!, { method: 'POST', body: message('cert', 'after revocation') });
    expect(send.status).toBe(401);
    expect(await state()).toEqual(before);
    expect((await onRu('/api/v1/me', String(spare.json.secret))).json.user).toBe('revokee');
  });

  it('a token of a disabled user: 401, every token of it', async () => {
    const [t] = Object.values(await usersWithTokens(onRu, ru.token, { leaver: ['law'] }));
    const second = String((await onRu('/api/v1/tokens', ru.token, { method: 'POST', body: { user: 'leaver' } })).json.secret);
    expect((await onRu('/api/v1/messages', t!)).status).toBe(200);
    const disabled = await onRu('/api/v1/users/leaver/disable', ru.token, { method: 'POST', body: {} });
    expect(disabled.json).toMatchObject({ name: 'leaver', disabled_at: expect.any(String) });
    const before = await state();
    for (const secret of [t!, second]) {
      const r = await onRu('/api/v1/messages', secret, { method: 'POST', body: message('law', 'after leaving') });
      expect([r.status, r.json.code]).toEqual([401, 'unauthorized']);
      expect(r.json).toEqual((await onRu('/api/v1/messages', 'never-issued-token', { method: 'POST', body: message('law', 'after leaving') })).json);
    }
    // No new token for a disabled user either.
    const minted = await onRu('/api/v1/tokens', ru.token, { method: 'POST', body: { user: 'leaver' } });
    expect([minted.status, minted.json.code]).toEqual([400, 'invalid_argument']);
    expect(await state()).toEqual(before);
  });

  it.each([
    ['/api/v1/tokens', { user: 'ghost' }, 404, 'unknown_user', /No user "ghost"/],
    ['/api/v1/users', { name: 'navy', role: 'officer', channels: ['cert', 'navy'] }, 400, 'unknown_channel', /"navy"/],
    ['/api/v1/users', { name: 'empty', role: 'officer', channels: [] }, 400, 'invalid_argument', /at least one channel/],
    ['/api/v1/users', { name: 'nochan', role: 'officer' }, 400, 'invalid_argument', /needs channels/],
    ['/api/v1/users', { name: 'certo', role: 'officer', channels: ['cert'] }, 409, 'user_exists', /already exists/],
    ['/api/v1/users', { name: 'admin', role: 'admin' }, 400, 'invalid_argument', /reserved/],
    ['/api/v1/users', { name: 'Bad Name', role: 'officer', channels: ['cert'] }, 400, 'invalid_argument', /a-z/],
    ['/api/v1/users', { name: 'rolo', role: 'king', channels: ['cert'] }, 400, 'invalid_argument', /role/],
  ] as const)('POST %s %j → %i %s, nothing changed', async (path, body, status, code, detail) => {
    const before = await state();
    const r = await onRu(path, ru.token, { method: 'POST', body });
    expect([r.status, r.json.code]).toEqual([status, code]);
    expect(String(r.json.detail)).toMatch(detail);
    expect(await state()).toEqual(before);
  });

  it('revoking a token that does not exist: 404', async () => {
    const r = await onRu('/api/v1/tokens/01a20000-0000-7000-8000-000000000000', ru.token, { method: 'DELETE' });
    expect([r.status, r.json.code]).toEqual([404, 'not_found']);
  });
});
