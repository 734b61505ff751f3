/**
 * Issue 3, cases and acknowledgement over the REST API of two real nodes: list and show cases,
 * acknowledge (idempotent), reply, close; refusals are problem+json with the stable code; a token
 * sees and acts only on the cases of its channels; the routes are in the OpenAPI document.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import type { TestHome } from './helpers/nodes.js';
import { makeStorePairHomes } from './helpers/pg-homes.js';
import { describeEachDialect } from './helpers/stores.js';
import { delivered, until } from './helpers/cases.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;

describeEachDialect('REST API: cases and acknowledgement', (dialect) => {
  beforeAll(async () => {
    [us, ru] = await makeStorePairHomes(dialect);
    a = await us.start({ runPings: false });
    b = await ru.start({ runPings: false });
    onUs = api(a.address);
    onRu = api(b.address);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('inquiry → ack (twice: the first stands) → reply → close, with refusals as problems', async () => {
    const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'immediate', tlp: 'amber', text: 'Please clarify.' } });
    expect(sent.status).toBe(202);
    const id = String(sent.json.id);
    await delivered(a, id);

    const listed = await onRu('/api/v1/cases', ru.token);
    expect(listed.status).toBe(200);
    expect(listed.json.cases).toEqual([expect.objectContaining({ id, state: 'open', kind: 'inquiry', peer: 'us', opened_by: 'in', subject: 'Please clarify.' })]);

    const ack = await onRu(`/api/v1/messages/${id}/ack`, ru.token, { method: 'POST', body: {} });
    expect(ack.status).toBe(202);
    expect(ack.json).toMatchObject({ acknowledges: id, case: id, officer: 'Node administrator', user: 'admin', already: false });
    const again = await onRu(`/api/v1/messages/${id}/ack`, ru.token, { method: 'POST', body: { text: 'again' } });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ ...ack.json, already: true });

    const own = await onUs(`/api/v1/messages/${id}/ack`, us.token, { method: 'POST', body: {} });
    expect(own.status).toBe(400);
    expect(own.json).toMatchObject({ code: 'ack_invalid', status: 400 });

    const answer = await onRu(`/api/v1/messages/${id}/reply`, ru.token, { method: 'POST', body: { text: 'Clarified.' } });
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({ case: id, in_reply_to: id, to: 'us', kind: 'response', state: 'queued' });
    await until(a, id, 'answered');
    const shown = await onUs(`/api/v1/messages/${id}`, us.token);
    expect((shown.json.message as Record<string, unknown>).acknowledged).toEqual({ officer: 'Node administrator', user: 'admin', at: ack.json.at, ack_id: ack.json.ack_id });
    expect((shown.json.message as Record<string, unknown>).state).toBe('delivered');

    const closed = await onUs(`/api/v1/cases/${id}/close`, us.token, { method: 'POST', body: { reason: 'answered' } });
    expect(closed.status).toBe(202);
    const twice = await onUs(`/api/v1/cases/${id}/close`, us.token, { method: 'POST', body: {} });
    expect(twice.status).toBe(409);
    expect(twice.json).toMatchObject({ code: 'case_closed' });

    const c = await onUs(`/api/v1/cases/${id}`, us.token);
    expect(c.status).toBe(200);
    expect(c.json.case).toMatchObject({ id, state: 'closed', states: ['open', 'acknowledged', 'answered', 'closed'], priority: 'immediate' });
    expect((c.json.messages as { kind: string }[]).map((m) => m.kind)).toEqual(['inquiry', 'ack', 'response', 'case-close']);
    expect(((await onUs('/api/v1/cases?state=closed', us.token)).json.cases as { id: string }[]).map((x) => x.id)).toEqual([id]);
    expect((await onUs('/api/v1/cases?state=open', us.token)).json.cases).toEqual([]);
    expect((await onUs('/api/v1/cases?state=pending', us.token)).json).toMatchObject({ code: 'invalid_argument' });
    expect((await onUs(`/api/v1/cases/${id}/nope`, us.token)).status).toBe(404);
    expect((await onUs('/api/v1/cases', null)).status).toBe(401);
  });

  it('a token sees and acts on the cases of its channels only; others are not found', async () => {
    const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { to: 'ru', channel: 'law', kind: 'notification', priority: 'routine', tlp: 'amber', text: 'Law traffic.' } });
    const id = String(sent.json.id);
    await delivered(a, id);
    const tokens = await usersWithTokens(onUs, us.token, { carla: ['cert'], lena: ['law'] });
    const ruTokens = await usersWithTokens(onRu, ru.token, { boris: ['cert'] });
    expect(((await onUs('/api/v1/cases', tokens.carla!)).json.cases as unknown[])).toEqual([]);
    expect(((await onUs('/api/v1/cases', tokens.lena!)).json.cases as { id: string }[]).map((x) => x.id)).toEqual([id]);
    for (const [path, method, body] of [[`/api/v1/cases/${id}`, 'GET', undefined], [`/api/v1/cases/${id}/close`, 'POST', {}], [`/api/v1/messages/${id}/reply`, 'POST', { text: 'x' }]] as const) {
      const r = await onUs(path, tokens.carla!, { method, ...(body === undefined ? {} : { body }) });
      expect(r.status, path).toBe(404);
      expect(r.json.code).toBe('not_found');
    }
    const hidden = await onRu(`/api/v1/messages/${id}/ack`, ruTokens.boris!, { method: 'POST', body: {} });
    expect(hidden.json.code).toBe('ack_invalid');
    expect((await onUs(`/api/v1/cases/${id}`, tokens.lena!)).json.case).toMatchObject({ id, channel: 'law', state: 'open' });
  });

  it('the routes are in the OpenAPI document, tagged and summarised', async () => {
    const doc = (await (await fetch(`${a.address}/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; summary?: string; security?: unknown }>> };
    for (const [path, method] of [['/api/v1/cases', 'get'], ['/api/v1/cases/{id}', 'get'], ['/api/v1/cases/{id}/close', 'post'], ['/api/v1/messages/{id}/ack', 'post'], ['/api/v1/messages/{id}/reply', 'post']] as const) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op!.tags).toEqual(['cases']);
      expect(op!.summary).toBeTruthy();
      expect(op!.security).toEqual([{ bearer: [] }]);
    }
  });
});
