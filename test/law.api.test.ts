/**
 * Issue 3, the law channel over the REST API of a real node: a preservation request us→ru, answered
 * preserved; on ru a `law` officer's token lists, shows, and (on us) extends and records the MLA
 * request; a `cert` token sees no law traffic anywhere (preservations 403, the case and its
 * messages 404, absent from every listing) and cannot act on it. OpenAPI documents the routes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { isoTime } from '../src/shared/clock.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { eventually } from './helpers/nodes.js';
import { makeStorePairHomes } from './helpers/pg-homes.js';
import { describeEachDialect } from './helpers/stores.js';
import { preservationRequest } from './helpers/law.js';

let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let adminUs: string;
let ruTokens: Record<string, string>;
let usTokens: Record<string, string>;
let caseId: string;
let responseId: string;

describeEachDialect('/api/v1/preservations', (dialect) => {
  beforeAll(async () => {
    const [us, ru] = await makeStorePairHomes(dialect);
    a = await us.start({ runPings: false, runReminders: false });
    b = await ru.start({ runPings: false, runReminders: false });
    onUs = api(us.url);
    onRu = api(ru.url);
    adminUs = us.token;
    ruTokens = await usersWithTokens(onRu, ru.token, { lawo: ['law'], certo: ['cert'] });
    usTokens = await usersWithTokens(onUs, us.token, { lawus: ['law'], certus: ['cert'] });
    const sent = await onUs('/api/v1/messages', usTokens.lawus!, { method: 'POST', body: preservationRequest() });
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    caseId = String(sent.json.id);
    await eventually(async () => ((await onRu(`/api/v1/preservations/${caseId}`, ruTokens.lawo!)).status === 200 ? true : undefined));
    const answered = await onRu(`/api/v1/messages/${caseId}/reply`, ruTokens.lawo!, {
      method: 'POST', body: { kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'RU-77', preserved_at: isoTime(Date.now()) } },
    });
    expect(answered.status, JSON.stringify(answered.json)).toBe(202);
    responseId = String(answered.json.id);
    await eventually(async () => ((await onUs(`/api/v1/preservations/${caseId}`, adminUs)).json.state === 'preserved' ? true : undefined));
  });

  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a law token lists and shows the preservation', async () => {
    const list = await onRu('/api/v1/preservations', ruTokens.lawo!);
    expect(list.status).toBe(200);
    expect(list.json.preservations).toMatchObject([{ case: caseId, state: 'preserved', reference: 'RU-77', direction: 'in', requesting_party: 'us' }]);
    const one = await onRu(`/api/v1/preservations/${caseId}`, ruTokens.lawo!);
    expect(one.json).toMatchObject({ case: caseId, response_id: responseId, days_left: 59 });
    expect(Date.parse(String(one.json.expires_at)) - Date.parse(String(one.json.preserved_at))).toBe(60 * 24 * 60 * 60 * 1000);
    expect((await onRu('/api/v1/preservations?due=true', ruTokens.lawo!)).json.preservations).toEqual([]);
  });

  it('a cert token sees no law traffic: preservations 403, the case and its messages 404, absent from listings', async () => {
    const cert = ruTokens.certo!;
    for (const path of ['/api/v1/preservations', `/api/v1/preservations/${caseId}`, '/api/v1/preservations?due=true']) {
      const r = await onRu(path, cert);
      expect(r.status, path).toBe(403);
      expect(r.json.code).toBe('forbidden');
      expect(JSON.stringify(r.json)).not.toContain('RU-77');
    }
    expect((await onRu(`/api/v1/cases/${caseId}`, cert)).status).toBe(404);
    for (const id of [caseId, responseId]) expect((await onRu(`/api/v1/messages/${id}`, cert)).status).toBe(404);
    const cases = await onRu('/api/v1/cases', cert);
    expect(cases.status).toBe(200);
    expect(cases.json.cases).toEqual([]);
    for (const direction of ['in', 'out']) {
      const m = await onRu(`/api/v1/messages?direction=${direction}`, cert);
      expect(m.status).toBe(200);
      expect(m.json.messages).toEqual([]);
    }
  });

  it('a cert token cannot extend or record the MLA request (403), and nothing is sent; a law token can', async () => {
    const before = (await onUs(`/api/v1/preservations/${caseId}`, adminUs)).json;
    const ext = await onUs(`/api/v1/preservations/${caseId}/extend`, usTokens.certus!, { method: 'POST', body: { days: 30 } });
    expect(ext.status).toBe(403);
    const mla = await onUs(`/api/v1/preservations/${caseId}/mla`, usTokens.certus!, { method: 'POST', body: { reference: 'MLA-9' } });
    expect(mla.status).toBe(403);
    expect((await onUs(`/api/v1/preservations/${caseId}`, adminUs)).json).toEqual(before);

    const bad = await onUs(`/api/v1/preservations/${caseId}/extend`, usTokens.lawus!, { method: 'POST', body: { days: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('invalid_argument');
    const ok = await onUs(`/api/v1/preservations/${caseId}/extend`, usTokens.lawus!, { method: 'POST', body: { days: 30 } });
    expect(ok.status, JSON.stringify(ok.json)).toBe(202);
    const again = await onUs(`/api/v1/preservations/${caseId}/extend`, usTokens.lawus!, { method: 'POST', body: { days: 30 } });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('preservation_state');
    const rec = await onUs(`/api/v1/preservations/${caseId}/mla`, usTokens.lawus!, { method: 'POST', body: { reference: 'MLA-9', sent_on: '2026-02-01T00:00:00Z' } });
    expect(rec.status, JSON.stringify(rec.json)).toBe(202);
    await eventually(async () => {
      const p = (await onRu(`/api/v1/preservations/${caseId}`, ruTokens.lawo!)).json as { mla_request: unknown; extensions: unknown[] };
      return p.mla_request !== null && p.extensions.length === 1 ? p : undefined;
    });
    expect((await onRu(`/api/v1/preservations/${caseId}`, ruTokens.lawo!)).json).toMatchObject({
      mla_request: { reference: 'MLA-9', sent_at: '2026-02-01T00:00:00.000Z', message_id: rec.json.id }, extensions: [{ message_id: ok.json.id, days: 30 }],
    });
  });

  it('a preservation request missing an Art. 29 field over REST: 400 template_mismatch naming it', async () => {
    const body = preservationRequest();
    delete body.fields.necessity;
    const r = await onUs('/api/v1/messages', usTokens.lawus!, { method: 'POST', body });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'template_mismatch', details: { field: 'necessity' } });
  });

  it('OpenAPI documents the law routes', async () => {
    const doc = (await onUs('/openapi.json', null)).json as { paths: Record<string, Record<string, { tags?: string[]; summary?: string }>> };
    for (const [path, method] of [['/api/v1/preservations', 'get'], ['/api/v1/preservations/{case}', 'get'], ['/api/v1/preservations/{case}/extend', 'post'], ['/api/v1/preservations/{case}/mla', 'post']] as const) {
      expect(doc.paths[path]?.[method], path).toMatchObject({ tags: ['law'] });
      expect(doc.paths[path]![method]!.summary).toBeTruthy();
    }
  });
});
