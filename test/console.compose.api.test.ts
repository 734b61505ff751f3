/**
 * Issue 11, the API under the console's Compose and Cases pages (bearer tokens): the template
 * catalog honours channel grants, the preview renders in the receiver's language, a refused body
 * reports every problem with its field path, and a case says which steps its machine allows next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { makePair, type TestHome } from './helpers/nodes.js';
import { delivered } from './helpers/cases.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let tokens: Record<string, string>;

interface Catalog {
  languages: string[];
  channels: { channel: string; kinds: string[] }[];
  templates: { kind: string; id: string; opens_case: boolean; text: string; fields: { name: string; type: string; required: boolean; required_if?: { field: string; in: string[] }; vocabulary?: string; labels: Record<string, string> }[] }[];
  vocabularies: Record<string, { labels: Record<string, string>; codes: { code: string; labels: Record<string, string> }[] }>;
}

const alertFields = {
  incident_category: 'ddos', affected_sectors: ['energy', 'finance'], requested_actions: ['mitigate'], confidence: 'high',
  observed_window: { from: '2026-12-05T08:00:00Z', to: '2026-12-05T09:00:00Z' },
};

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false });
  b = await ru.start({ runPings: false });
  onUs = api(a.address);
  onRu = api(b.address);
  tokens = await usersWithTokens(onUs, us.token, { cora: ['cert'], cris: ['crisis'] });
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('GET /api/v1/templates', () => {
  it('a cert officer gets only cert, and no law kinds; the administrator gets law kinds on law only', async () => {
    const r = await onUs('/api/v1/templates', tokens.cora!);
    expect(r.status).toBe(200);
    const c = r.json as unknown as Catalog;
    expect(c.channels.map((x) => x.channel)).toEqual(['cert']);
    expect(c.channels[0]!.kinds).toEqual(['notification', 'inquiry', 'assistance', 'response', 'crisis-alert']);
    expect(c.templates.map((t) => t.kind).sort()).toEqual(['assistance', 'crisis-alert', 'inquiry', 'notification', 'response']);
    expect(JSON.stringify(c)).not.toContain('preservation');

    const all = (await onUs('/api/v1/templates', us.token)).json as unknown as Catalog;
    expect(all.channels.map((x) => x.channel)).toEqual(['crisis', 'cert', 'law']);
    expect(all.channels.find((x) => x.channel === 'law')!.kinds).toContain('preservation-request');
    expect(all.channels.find((x) => x.channel === 'crisis')!.kinds).not.toContain('preservation-request');
    const response = all.templates.find((t) => t.kind === 'preservation-response')!;
    expect(response.opens_case).toBe(false);
    expect(response.fields.find((f) => f.name === 'reference')).toMatchObject({ type: 'text', required: false, required_if: { field: 'outcome', in: ['preserved', 'partially_preserved'] } });
  });

  it('gives each field its type and labels, and each vocabulary its codes in order with labels in all six languages', async () => {
    const c = (await onUs('/api/v1/templates', tokens.cris!)).json as unknown as Catalog;
    expect(c.languages).toEqual(['en', 'ru', 'fr', 'es', 'zh', 'ar']);
    const alert = c.templates.find((t) => t.kind === 'crisis-alert')!;
    expect(alert).toMatchObject({ id: 'crisis-alert@1', opens_case: true, text: 'optional' });
    expect(alert.fields.map((f) => [f.name, f.type, f.required])).toContainEqual(['observed_window', 'time_window', true]);
    expect(alert.fields.find((f) => f.name === 'confidence')).toMatchObject({ vocabulary: 'confidence', labels: { ru: 'Степень уверенности' } });
    expect(c.vocabularies.confidence!.codes.map((x) => x.code)).toEqual(['low', 'medium', 'high', 'confirmed']);
    expect(Object.keys(c.vocabularies.confidence!.codes[2]!.labels).sort()).toEqual(['ar', 'en', 'es', 'fr', 'ru', 'zh']);
    expect(c.vocabularies.close_reason).toBeDefined();
  });

  it('is refused without a token, and is in the OpenAPI document under its tag', async () => {
    expect((await onUs('/api/v1/templates', null)).status).toBe(401);
    const doc = await onUs('/openapi.json', null);
    const paths = doc.json.paths as Record<string, Record<string, { tags?: string[] }>>;
    expect(paths['/api/v1/templates']?.get?.tags).toEqual(['templates']);
    expect(paths['/api/v1/templates/preview']?.post?.tags).toEqual(['templates']);
  });
});

describe('POST /api/v1/templates/preview', () => {
  it('renders in Russian as the receiver would: the title, labels and codes in ru, the free text as written', async () => {
    const r = await onUs('/api/v1/templates/preview', tokens.cris!, {
      method: 'POST', body: { kind: 'crisis-alert', lang: 'ru', body: { fields: alertFields, text: 'DDoS on the grid operator.', lang: 'en' } },
    });
    expect(r.status).toBe(200);
    expect(r.json.problems).toEqual([]);
    const lines = r.json.lines as { field: string; label: string; value: string; lang?: string }[];
    expect(lines[0]).toEqual({ field: 'template', label: 'Сообщение', value: 'Кризисное оповещение' });
    expect(lines).toContainEqual(expect.objectContaining({ field: 'confidence', label: 'Степень уверенности', value: 'Высокая', codes: ['high'] }));
    expect(lines).toContainEqual({ field: 'text', label: 'Свободный текст', value: 'DDoS on the grid operator.', lang: 'en' });
    expect(r.json.text).toContain('Степень уверенности: Высокая');
    // The same body read in English.
    const en = await onUs('/api/v1/templates/preview', tokens.cris!, { method: 'POST', body: { kind: 'crisis-alert', lang: 'en', body: { fields: alertFields } } });
    expect(en.json.text).toContain('Confidence: High');
  });

  it('lists what the send would refuse, without sending; refuses a law kind to a cert officer and an unknown language', async () => {
    const r = await onUs('/api/v1/templates/preview', tokens.cris!, { method: 'POST', body: { kind: 'crisis-alert', lang: 'en', body: { fields: {} } } });
    expect(r.status).toBe(200);
    expect((r.json.problems as { path: string }[]).map((p) => p.path)).toEqual([
      'fields.incident_category', 'fields.affected_sectors', 'fields.observed_window', 'fields.requested_actions', 'fields.confidence',
    ]);
    const law = await onUs('/api/v1/templates/preview', tokens.cora!, { method: 'POST', body: { kind: 'preservation-request', lang: 'en', body: {} } });
    expect(law.status).toBe(403);
    expect(law.json.code).toBe('forbidden');
    const xx = await onUs('/api/v1/templates/preview', tokens.cris!, { method: 'POST', body: { kind: 'crisis-alert', lang: 'xx', body: {} } });
    expect(xx.status).toBe(400);
    expect(xx.json.code).toBe('invalid_argument');
    const out = await onUs('/api/v1/messages?direction=out', us.token);
    expect(out.json.messages).toEqual([]);
  });
});

describe('POST /api/v1/messages refusal', () => {
  it('a body with three mistakes gets three field errors at once, each with its field path; nothing is queued', async () => {
    const r = await onUs('/api/v1/messages', tokens.cris!, {
      method: 'POST',
      body: {
        to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber',
        fields: { ...alertFields, incident_category: undefined, confidence: 'certain', affected_systems: -1 },
      },
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('template_mismatch');
    const problems = (r.json.details as { problems: { field: string; path: string; problem: string; allowed?: string[] }[] }).problems;
    expect(problems.map((p) => [p.field, p.path])).toEqual([
      ['incident_category', 'fields.incident_category'], ['confidence', 'fields.confidence'], ['affected_systems', 'fields.affected_systems'],
    ]);
    expect(problems[1]!.allowed).toEqual(['low', 'medium', 'high', 'confirmed']);
    expect(problems[2]!.problem).toMatch(/the least is 0/);
    expect((await onUs('/api/v1/messages?direction=out', us.token)).json.messages).toEqual([]);
  });
});

describe('GET /api/v1/cases: next steps, summaries, the peer filter', () => {
  it('a crisis alert\'s case offers response (reply), ack and close; after close nothing; summaries in the asked language', async () => {
    const sent = await onUs('/api/v1/messages', tokens.cris!, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority: 'immediate', tlp: 'amber', fields: alertFields, text: 'Grid.' } });
    expect(sent.status).toBe(202);
    const id = String(sent.json.id);
    await delivered(a, id);
    const c = await onRu(`/api/v1/cases/${id}?lang=ru`, ru.token);
    expect(c.status).toBe(200);
    const next = c.json.next as { kind: string; to: string; via: string }[];
    expect(next).toContainEqual({ kind: 'response', to: 'answered', via: 'reply' });
    expect(next).toContainEqual({ kind: 'ack', to: 'acknowledged', via: 'ack' });
    expect(next).toContainEqual({ kind: 'case-close', to: 'closed', via: 'close' });
    expect(next).toContainEqual({ kind: 'inquiry', to: 'open', via: 'reply' });
    expect(next).toContainEqual({ kind: 'indicators', to: 'open', via: 'node' });
    expect(next.some((s) => s.kind.startsWith('preservation'))).toBe(false);
    const messages = c.json.messages as { id: string; summary: string | null }[];
    expect(messages[0]!.summary).toMatch(/^Кризисное оповещение: Распределённая атака/);

    expect(((await onRu('/api/v1/cases?peer=us', ru.token)).json.cases as { id: string }[]).map((x) => x.id)).toContain(id);
    expect((await onRu('/api/v1/cases?peer=nobody', ru.token)).json.cases).toEqual([]);

    const closed = await onUs(`/api/v1/cases/${id}/close`, tokens.cris!, { method: 'POST', body: { reason: 'resolved' } });
    expect(closed.status).toBe(202);
    expect((await onUs(`/api/v1/cases/${id}`, tokens.cris!)).json.next).toEqual([]);
    // A cert officer does not see the crisis case at all.
    expect((await onUs(`/api/v1/cases/${id}`, tokens.cora!)).status).toBe(404);
  });
});
