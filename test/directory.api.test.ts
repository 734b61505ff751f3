/**
 * Issue 3, the directory and ping tests over the REST API of two real nodes: contacts and rota,
 * publish, the directory on the peer, ping → pong → reachability; refusals as problem+json with
 * their code and nothing changed; a token sees and answers only its channels.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { eventually, type TestHome } from './helpers/nodes.js';
import { makeStorePairHomes } from './helpers/pg-homes.js';
import { describeEachDialect } from './helpers/stores.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let certOfficer: string;

type Entry = { party: string; version: number | null; channels: { channel: string; contacts: { id: string; name: string }[]; rota: Record<string, string | null> }[] };

describeEachDialect('directory over REST', (dialect) => {
  beforeAll(async () => {
    [us, ru] = await makeStorePairHomes(dialect);
    b = await ru.start();
    a = await us.start();
    onUs = api(us.url);
    onRu = api(ru.url);
    ({ certo: certOfficer } = await usersWithTokens(onRu, ru.token, { certo: ['cert'] }) as { certo: string });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('lists the routes in OpenAPI under the directory tag', async () => {
    const doc = (await onUs('/openapi.json', null)).json as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const [path, method] of [['/api/v1/directory', 'get'], ['/api/v1/directory/publish', 'post'], ['/api/v1/pings', 'post'], ['/api/v1/pings/{id}/pong', 'post'], ['/api/v1/reachability', 'get'], ['/api/v1/contacts', 'post'], ['/api/v1/rota/{channel}', 'put']] as const) {
      expect(doc.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['directory']);
    }
  });

  it('contacts, rota and publish; the peer shows the entry; refusals change nothing', async () => {
    expect((await onUs('/api/v1/contacts', null)).status).toBe(401);
    const added = await onUs('/api/v1/contacts', us.token, { method: 'POST', body: { channel: 'crisis', function: 'Crisis desk duty officer', name: 'Jane Smith', languages: ['en', 'ru'], hours: '24/7', phone: '+1 202 555 0100' } });
    expect(added.status, JSON.stringify(added.json)).toBe(201);
    const id = String(added.json.id);
    const before = (await onUs('/api/v1/contacts', us.token)).json;
    for (const [body, code] of [
      [{ channel: 'crisis', function: 'x', name: 'y', email: 'nobody' }, 'invalid_argument'],
      [{ channel: 'spam', function: 'x', name: 'y' }, 'invalid_argument'],
      [{ channel: 'crisis', function: 'x' }, 'invalid_argument'],
    ] as const) {
      const r = await onUs('/api/v1/contacts', us.token, { method: 'POST', body });
      expect([r.status, r.json.code]).toEqual([400, code]);
    }
    expect((await onUs('/api/v1/contacts', us.token)).json).toEqual(before);

    const rota = await onUs('/api/v1/rota/crisis', us.token, { method: 'PUT', body: { primary: id, notify: { primary: { email: 'duty-pager@us.example' } } } });
    expect(rota.status, JSON.stringify(rota.json)).toBe(200);
    expect((await onUs('/api/v1/rota/crisis', us.token)).json).toMatchObject({ channel: 'crisis', chain: [{ position: 'primary', contact: { id }, notify: { email: 'duty-pager@us.example', webhook: null } }] });
    const inUse = await onUs(`/api/v1/contacts/${id}`, us.token, { method: 'DELETE' });
    expect([inUse.status, inUse.json.code]).toEqual([409, 'contact_in_rota']);
    expect((await onUs('/api/v1/contacts', us.token)).json).toEqual(before);

    const published = await onUs('/api/v1/directory/publish', us.token, { method: 'POST' });
    expect(published.status).toBe(202);
    expect(published.json).toMatchObject({ version: 1, sent: [{ to: 'ru', channel: 'crisis', contacts: 1 }], failed: [] });
    const entry = await eventually(async () => {
      const r = await onRu('/api/v1/directory?party=us', ru.token);
      const e = (r.json.parties as Entry[])[0];
      return e?.version === 1 ? e : undefined;
    });
    const crisis = entry.channels.find((c) => c.channel === 'crisis')!;
    expect(crisis.contacts.map((c) => c.name)).toEqual(['Jane Smith']);
    expect(crisis.rota.primary).toBe(id);
    // A cert officer on ru sees only the cert part of the directory, and cannot publish.
    const forCert = (await onRu('/api/v1/directory?party=us', certOfficer)).json.parties as Entry[];
    expect(forCert[0]!.channels.map((c) => c.channel)).toEqual(['cert']);
    const publish = await onRu('/api/v1/directory/publish', certOfficer, { method: 'POST' });
    expect([publish.status, publish.json.code]).toEqual([403, 'forbidden']);
  });

  it('ping → pong → reachability; a second pong, an unknown ping and another channel\'s ping are refused', async () => {
    const sent = await onUs('/api/v1/pings', us.token, { method: 'POST', body: { to: 'ru', channel: 'crisis' } });
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    const pingId = String(sent.json.id);
    await eventually(async () => {
      const r = await onRu('/api/v1/pings?direction=in&pending=true', ru.token);
      return (r.json.pings as { id: string }[]).some((p) => p.id === pingId) ? true : undefined;
    });
    // ru's cert officer neither sees the crisis ping nor may answer it, nor ping on crisis.
    expect(((await onRu('/api/v1/pings', certOfficer)).json.pings as unknown[])).toEqual([]);
    const hidden = await onRu(`/api/v1/pings/${pingId}/pong`, certOfficer, { method: 'POST', body: {} });
    expect([hidden.status, hidden.json.code]).toEqual([404, 'pong_without_ping']);
    const crossing = await onRu('/api/v1/pings', certOfficer, { method: 'POST', body: { to: 'us', channel: 'crisis' } });
    expect([crossing.status, crossing.json.code]).toEqual([403, 'forbidden']);

    // A typed name is refused: the pong names the caller.
    const typed = await onRu(`/api/v1/pings/${pingId}/pong`, ru.token, { method: 'POST', body: { officer: 'Anyone' } });
    expect([typed.status, typed.json.code]).toEqual([400, 'invalid_argument']);
    const pong = await onRu(`/api/v1/pings/${pingId}/pong`, ru.token, { method: 'POST', body: {} });
    expect(pong.status, JSON.stringify(pong.json)).toBe(202);
    expect(pong.json).toMatchObject({ in_reply_to: pingId, case: sent.json.case, to: 'us' });
    const outboxIds = async (): Promise<string[]> => ((await onRu('/api/v1/messages?direction=out', ru.token)).json.messages as { id: string }[]).map((m) => m.id);
    const outbox = await outboxIds();
    for (const [id, status, code] of [[pingId, 409, 'ping_already_answered'], ['01a2a2a2-0000-7000-8000-000000000000', 404, 'pong_without_ping'], ['nonsense', 400, 'invalid_argument']] as const) {
      const r = await onRu(`/api/v1/pings/${id}/pong`, ru.token, { method: 'POST', body: {} });
      expect([r.status, r.json.code], JSON.stringify(r.json)).toEqual([status, code]);
    }
    expect(await outboxIds()).toEqual(outbox);

    const row = await eventually(async () => {
      const r = (await onUs('/api/v1/reachability?peer=ru&channel=crisis', us.token)).json.reachability as { sent: number; answered: number; median_ms: number | null; last_officer: string | null }[];
      return r[0]?.answered === 1 ? r[0] : undefined;
    });
    expect(row).toMatchObject({ sent: 1, answered: 1, last_officer: 'Node administrator' });
    expect(row.median_ms).toBeGreaterThanOrEqual(0);
    // ru's cert officer sees reachability of cert only.
    const certRows = (await onRu('/api/v1/reachability', certOfficer)).json.reachability as { channel: string }[];
    expect(certRows.map((r) => r.channel)).toEqual(['cert']);
  });
});
