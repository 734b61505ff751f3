/**
 * Message templates between two real nodes on loopback: a FLASH crisis alert with coded fields
 * goes from us to ru; each side renders the same codes in its own language (REST ?lang= and the
 * CLI's show --lang). A body that does not fit its template is refused at send (nothing queued)
 * and on receipt (nothing stored), with template_mismatch naming the field.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { envelopeHash, signEnvelope } from '../src/modules/federation/federation.envelope.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import { GENESIS_HASH, type Envelope, type EnvelopeResult, type UnsignedEnvelope } from '../src/modules/federation/federation.types.js';
import { loadKeys } from '../src/modules/identity/identity.keys.js';
import type { RenderedLine } from '../src/modules/templates/templates.types.js';
import { isoTime } from '../src/shared/clock.js';
import { uuidv7 } from '../src/shared/ids.js';
import { api, type Api } from './helpers/api.js';
import { eventually, makePair, tempDir, type TestHome } from './helpers/nodes.js';
import { ensureBuilt, runCli } from './helpers/cli.js';


let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;

const FIELDS = {
  incident_category: 'intrusion',
  affected_sectors: ['energy'],
  observed_window: { from: '2026-01-15T08:55:00Z', to: '2026-01-15T09:25:00Z' },
  indicators: ['192.0.2.10', 'c2.example.net', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  requested_actions: ['clarify'],
  confidence: 'high',
  from_your_networks: true,
};
const TEXT = 'Significant incident affecting the energy sector, apparently from your networks; we request clarification.';
const ALERT = { to: 'ru', channel: 'crisis', kind: 'crisis-alert', priority: 'flash', tlp: 'amber', fields: FIELDS, text: TEXT, lang: 'en' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hotline ARGS` in this process (runCli: the CLI's entry point, output captured). */
function hl(args: readonly string[]): Promise<Run> {
  return runCli(args);
}

/**
 * Every row of every table, in a stable order: compare two to prove nothing changed. Not the search
 * index (message_search*): the SearchIndexer fills it behind the store, in the background, so on a
 * busy machine it catches up with earlier messages between two snapshots.
 */
async function everything(db: Kysely<unknown>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of await db.introspection.getTables()) {
    if (t.name.startsWith('kysely_') || t.name.startsWith('message_search')) continue;
    const rows = await (db as Kysely<Record<string, Record<string, unknown>>>).selectFrom(t.name).selectAll().execute();
    out[t.name] = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort();
  }
  return out;
}

async function unchanged<T>(node: RunningNode, fn: () => Promise<T>): Promise<T> {
  const before = await everything(node.ctx.db as unknown as Kysely<unknown>);
  const out = await fn();
  expect(await everything(node.ctx.db as unknown as Kysely<unknown>)).toEqual(before);
  return out;
}

/** Waits until us holds ru's receipt for message `id`. */
async function delivered(id: string): Promise<void> {
  a.delivery.wake();
  await eventually(async () => ((await onUs(`/api/v1/messages/${id}`, us.token)).json.message as { state: string }).state === 'delivered' ? true : undefined);
}

function line(rendered: RenderedLine[], field: string): RenderedLine | undefined {
  return rendered.find((l) => l.field === field);
}

beforeAll(async () => {
  ensureBuilt();
  [us, ru] = await makePair();
  // No escalation runs here: the refusal tests compare whole stores before and after, and a step
  // firing in between would change them (this file is about templates, not deadlines).
  a = await us.start({ runDeadlines: false });
  b = await ru.start({ runDeadlines: false });
  onUs = api(us.url);
  onRu = api(ru.url);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('a FLASH crisis alert from a template, us → ru', () => {
  let id: string;

  beforeAll(async () => {
    const r = await onUs('/api/v1/messages', us.token, { method: 'POST', body: ALERT });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    id = String(r.json.id);
    await delivered(id);
  });

  it('travels as { template, fields, text, lang } and arrives intact', async () => {
    const shown = (await onRu(`/api/v1/messages/${id}`, ru.token)).json as { message: Record<string, unknown>; envelope: Envelope };
    expect(shown.envelope.body).toEqual({ template: 'crisis-alert@1', fields: FIELDS, text: TEXT, lang: 'en', sender: 'admin' });
    expect(shown.envelope.priority).toBe('flash');
    expect(shown.message).toMatchObject({ kind: 'crisis-alert', fields: FIELDS, text: TEXT });
  });

  it('ru renders it with Russian labels from the same codes (REST ?lang=ru); us in English', async () => {
    const onRuSide = (await onRu(`/api/v1/messages/${id}?lang=ru`, ru.token)).json.rendered as RenderedLine[];
    expect(line(onRuSide, 'template')).toMatchObject({ label: 'Сообщение', value: 'Кризисное оповещение' });
    expect(line(onRuSide, 'incident_category')).toMatchObject({ label: 'Категория инцидента', value: 'Вторжение (несанкционированный доступ)', codes: ['intrusion'] });
    expect(line(onRuSide, 'affected_sectors')).toMatchObject({ label: 'Затронутые секторы', value: 'Энергетика' });
    expect(line(onRuSide, 'requested_actions')).toMatchObject({ label: 'Запрашиваемые действия', value: 'Дать разъяснения' });
    expect(line(onRuSide, 'confidence')).toMatchObject({ label: 'Степень уверенности', value: 'Высокая' });
    expect(line(onRuSide, 'from_your_networks')).toMatchObject({ value: 'Да' });
    expect(line(onRuSide, 'text')).toMatchObject({ label: 'Свободный текст', value: TEXT, lang: 'en' });
    const onUsSide = (await onUs(`/api/v1/messages/${id}`, us.token)).json.rendered as RenderedLine[];
    expect(line(onUsSide, 'incident_category')).toMatchObject({ label: 'Incident category', value: 'Intrusion (unauthorised access)' });
    expect(line(onUsSide, 'affected_sectors')).toMatchObject({ label: 'Affected sectors', value: 'Energy' });
    expect(line(onUsSide, 'confidence')).toMatchObject({ label: 'Confidence', value: 'High' });
    expect(onUsSide.map((l) => l.codes)).toEqual(onRuSide.map((l) => l.codes));
  });

  it('the REST API refuses a language it has no labels for', async () => {
    const r = await onRu(`/api/v1/messages/${id}?lang=de`, ru.token);
    expect([r.status, r.json.code]).toEqual([400, 'invalid_argument']);
  });

  it('hotline show --lang ru on ru prints the Russian labels; show on us prints English', async () => {
    const onRuSide = await hl(['show', id, '--home', ru.home, '--lang', 'ru']);
    expect(onRuSide.code, onRuSide.stderr).toBe(0);
    expect(onRuSide.stdout).toMatch(/Сообщение\s+Кризисное оповещение/);
    expect(onRuSide.stdout).toMatch(/Категория инцидента\s+Вторжение \(несанкционированный доступ\)/);
    expect(onRuSide.stdout).toMatch(/Затронутые секторы\s+Энергетика/);
    expect(onRuSide.stdout).toMatch(/Степень уверенности\s+Высокая/);
    expect(onRuSide.stdout).toContain(`Свободный текст (en):\n${TEXT}`);
    const onUsSide = await hl(['show', id, '--home', us.home]);
    expect(onUsSide.code, onUsSide.stderr).toBe(0);
    expect(onUsSide.stdout).toMatch(/Incident category\s+Intrusion \(unauthorised access\)/);
    expect(onUsSide.stdout).toMatch(/Confidence\s+High/);
    expect(onUsSide.stdout).not.toContain('Категория');
    const json = JSON.parse((await hl(['show', id, '--home', ru.home, '--lang', 'ru', '--json'])).stdout) as { rendered: RenderedLine[] };
    expect(line(json.rendered, 'confidence')).toMatchObject({ value: 'Высокая', codes: ['high'] });
  });

  it('a node configured with "language": "ru" renders in Russian by default', async () => {
    const file = join(ru.home, 'hotline.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, language: 'ru' }));
    try {
      const r = await hl(['show', id, '--home', ru.home]);
      expect(r.stdout).toMatch(/Степень уверенности\s+Высокая/);
      writeFileSync(file, JSON.stringify({ ...config, language: 'de' }));
      const bad = await hl(['show', id, '--home', ru.home]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/config_invalid.*"language" is "de", but the templates have labels only in: en, ru/);
    } finally {
      writeFileSync(file, JSON.stringify(config));
    }
  });
});

describe('hotline send with --field and --template-file', () => {
  it('types the fields by the template and the message arrives with them', async () => {
    const file = join(tempDir(), 'fields.json');
    writeFileSync(file, JSON.stringify({ incident_category: 'ddos', confidence: 'low', indicators: ['203.0.113.7'] }));
    const r = await hl(['send', '--home', us.home, '--to', 'ru', '--channel', 'crisis', '--kind', 'crisis-alert', '--priority', 'flash', '--json',
      '--template-file', file, '--field', 'confidence=medium', '--field', 'affected_sectors=finance,telecom',
      '--field', 'observed_window=2026-01-15T10:00:00Z/2026-01-15T11:30:00Z', '--field', 'requested_actions=mitigate', '--field', 'affected_systems=40']);
    expect(r.code, r.stderr).toBe(0);
    const id = String((JSON.parse(r.stdout) as { id: string }).id);
    await delivered(id);
    const shown = (await onRu(`/api/v1/messages/${id}?lang=ru`, ru.token)).json as { envelope: Envelope; rendered: RenderedLine[] };
    expect(shown.envelope.body.fields).toEqual({
      incident_category: 'ddos', confidence: 'medium', indicators: ['203.0.113.7'], affected_sectors: ['finance', 'telecom'],
      observed_window: { from: '2026-01-15T10:00:00Z', to: '2026-01-15T11:30:00Z' }, requested_actions: ['mitigate'], affected_systems: 40,
    });
    expect(shown.envelope.body).not.toHaveProperty('text');
    expect(line(shown.rendered, 'affected_sectors')?.value).toBe('Финансы и банковский сектор; Телекоммуникации');
  });

  it('a notification still needs only --text', async () => {
    const r = await hl(['send', '--home', us.home, '--to', 'ru', '--channel', 'crisis', '--text', 'plain notification', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const id = String((JSON.parse(r.stdout) as { id: string }).id);
    await delivered(id);
    expect(((await onRu(`/api/v1/messages/${id}`, ru.token)).json.envelope as Envelope).body).toEqual({ template: 'notification@1', fields: {}, text: 'plain notification', sender: 'admin' });
  });

  const BASE: Record<string, string> = {
    incident_category: 'malware', affected_sectors: 'energy', requested_actions: 'clarify', confidence: 'high',
    observed_window: '2026-01-15T10:00:00Z/2026-01-15T11:00:00Z',
  };
  it.each([
    [{ confidence: 'certain' }, 'confidence', /"certain" is not a code of confidence; allowed: low, medium, high, confirmed/],
    [{ affected_systems: 'many' }, 'affected_systems', /must be a whole number, not "many"/],
    [{ severity: 'high' }, 'severity', /field "severity" is not a field of crisis-alert@1/],
    [{ observed_window: null }, 'observed_window', /field "observed_window" is required and missing/],
  ])('bad fields: exit 2, template_mismatch naming the field, nothing queued (%o)', async (change: Record<string, string | null>, field, message) => {
    const fields = Object.entries({ ...BASE, ...change }).flatMap(([k, v]) => (v === null ? [] : ['--field', `${k}=${v}`]));
    await unchanged(a, async () => {
      const r = await hl(['send', '--home', us.home, '--to', 'ru', '--channel', 'crisis', '--kind', 'crisis-alert', ...fields]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('error [template_mismatch]');
      expect(r.stderr).toContain(`"${field}"`);
      expect(r.stderr).toMatch(message);
    });
  });

  it('a notification without text: exit 2, template_mismatch naming "text"', async () => {
    const r = await unchanged(a, () => hl(['send', '--home', us.home, '--to', 'ru', '--channel', 'crisis']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/template_mismatch.*"text"/);
  });
});

describe('refused at send over REST: template_mismatch naming the field, nothing queued', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['wrong type', { ...FIELDS, affected_systems: '12' }, 'affected_systems', /must be a whole number/],
    ['code outside its vocabulary', { ...FIELDS, affected_sectors: ['energy', 'space'] }, 'affected_sectors', /"space" is not a code of affected_sector; allowed: energy, finance/],
    ['missing required field', { ...FIELDS, confidence: undefined }, 'confidence', /field "confidence" is required and missing/],
    ['unknown field', { ...FIELDS, severity: 'high' }, 'severity', /field "severity" is not a field of crisis-alert@1/],
  ];
  it.each(cases)('%s', async (_what, fields, field, detail) => {
    const r = await unchanged(a, () => onUs('/api/v1/messages', us.token, { method: 'POST', body: { ...ALERT, fields: JSON.parse(JSON.stringify(fields)) as unknown } }));
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'template_mismatch', details: { field, template: 'crisis-alert@1' } });
    expect(String(r.json.detail)).toMatch(detail);
    expect(String(r.json.detail)).toContain(`"${field}"`);
  });
});

describe('refused on receipt: an envelope from us (validly signed) whose body does not fit its template', () => {
  async function forge(body: Record<string, unknown>, kind = 'crisis-alert'): Promise<Envelope> {
    const key = loadKeys(readFileSync(join(us.home, 'node.key'), 'utf8')).privateKey;
    const link = await getLink(b.ctx.db, 'us', 'ru');
    const id = uuidv7();
    const unsigned = {
      v: 1, id, from: 'us', to: 'ru', seq: (link?.last_seq ?? 0) + 1, prev: link?.head_hash ?? GENESIS_HASH, sent_at: isoTime(Date.now()),
      kind, channel: 'crisis', case: id, in_reply_to: null, priority: 'flash', tlp: 'amber', body,
    } as UnsignedEnvelope;
    return signEnvelope(unsigned, key);
  }
  async function post(env: Envelope): Promise<EnvelopeResult> {
    const res = await fetch(`${b.address}/federation/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelopes: [env] }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { results: EnvelopeResult[] }).results[0]!;
  }

  beforeAll(async () => {
    // Everything us queued is delivered, then us stops delivering: the forged envelopes take us's next seq on the link.
    await eventually(async () => {
      const out = (await onUs('/api/v1/messages?direction=out&limit=1000', us.token)).json.messages as { state: string }[];
      return out.every((m) => m.state === 'delivered') ? true : undefined;
    });
    await a.delivery.stop();
  });

  it.each([
    ['a code outside its vocabulary', { template: 'crisis-alert@1', fields: { ...FIELDS, confidence: 'certain' } }, 'confidence'],
    ['a missing required field', { template: 'crisis-alert@1', fields: { ...FIELDS, incident_category: undefined } }, 'incident_category'],
    ['an unknown field', { template: 'crisis-alert@1', fields: { ...FIELDS, severity: 'high' } }, 'severity'],
    ['a field of the wrong type', { template: 'crisis-alert@1', fields: { ...FIELDS, indicators: '192.0.2.10' } }, 'indicators'],
    ['a template version this node does not know', { template: 'crisis-alert@2', fields: FIELDS }, 'template'],
    ['a body member that is not one', { template: 'crisis-alert@1', fields: FIELDS, severity: 'high' }, 'severity'],
  ])('%s → template_mismatch, nothing stored', async (_what, body, field) => {
    const env = await forge(JSON.parse(JSON.stringify(body)) as Record<string, unknown>);
    const r = await unchanged(b, () => post(env));
    expect(r).toMatchObject({ id: env.id, ok: false, error: { code: 'template_mismatch' } });
    expect(r.ok === false && r.error.message).toContain(`"${field}"`);
  });

  it('a plain notification without text is refused too; the same seq with a fitting body is then accepted', async () => {
    const bad = await forge({ fields: {} }, 'notification');
    const r = await unchanged(b, () => post(bad));
    expect(r).toMatchObject({ ok: false, error: { code: 'template_mismatch' } });
    const good = await forge({ text: 'fits' }, 'notification');
    expect(good.seq).toBe(bad.seq);
    expect(await post(good)).toMatchObject({ id: good.id, ok: true });
    expect((await getLink(b.ctx.db, 'us', 'ru'))?.head_hash).toBe(envelopeHash(good));
  });
});
