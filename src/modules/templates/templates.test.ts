import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { KINDS } from '../federation/federation.types.js';
import { defaultTemplatesDir, readCatalog } from './templates.catalog.js';
import { composeBody, fieldsFromArgs, render, requireLanguage, templateCatalog, validateBody } from './templates.service.js';
import { isIndicator } from './templates.values.js';

const catalog = templateCatalog();

/** A crisis alert that fits crisis-alert@1. */
function alert(): { template: string; fields: Record<string, unknown>; text: string; lang: string } {
  return {
    template: 'crisis-alert@1',
    fields: {
      incident_category: 'intrusion',
      affected_sectors: ['energy', 'telecom'],
      observed_window: { from: '2026-01-15T08:55:00Z', to: '2026-01-15T09:25:00.000Z' },
      indicators: ['192.0.2.10', '198.51.100.0/24', 'c2.example.net', 'd41d8cd98f00b204e9800998ecf8427e', 'https://evil.example/x?y=1'],
      requested_actions: ['clarify', 'mitigate'],
      confidence: 'high',
      from_your_networks: true,
      affected_systems: 12,
    },
    text: 'Significant incident affecting the energy sector, apparently from your networks; we request clarification.',
    lang: 'en',
  };
}

/** Runs `fn`, expects template_mismatch, returns the error. */
function mismatch(fn: () => void): HotlineError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HotlineError);
    expect((e as HotlineError).code).toBe('template_mismatch');
    return e as HotlineError;
  }
  throw new Error('expected template_mismatch, nothing was thrown');
}

describe('the template data files', () => {
  it('load and validate: vocabularies in six languages, every required kind has a template', () => {
    expect(catalog.dir).toBe(defaultTemplatesDir());
    expect(catalog.languages).toEqual(['en', 'ru', 'fr', 'es', 'zh', 'ar']);
    for (const kind of ['notification', 'inquiry', 'assistance', 'response', 'crisis-alert', 'case-close', 'ack', 'ping', 'pong']) {
      expect(catalog.templates.get(kind)?.id, kind).toBe(`${kind}@1`);
    }
    for (const v of ['incident_category', 'affected_sector', 'requested_action', 'confidence']) expect(catalog.vocabularies.has(v), v).toBe(true);
    expect([...catalog.vocabularies.get('confidence')!.codes.keys()]).toEqual(['low', 'medium', 'high', 'confirmed']);
  });

  it('have English and Russian labels for every template, field, vocabulary and code (and the six languages for ours)', () => {
    const all: Readonly<Record<string, string>>[] = [...catalog.terms.values()];
    for (const v of catalog.vocabularies.values()) all.push(v.labels, ...v.codes.values());
    for (const t of catalog.templates.values()) all.push(t.labels, ...t.fields.map((f) => f.labels));
    for (const labels of all) {
      expect(Object.keys(labels)).toEqual(expect.arrayContaining(['en', 'ru']));
    }
    const ours = ['notification', 'inquiry', 'assistance', 'response', 'crisis-alert', 'case-close', 'ack', 'ping', 'pong'];
    for (const labels of [...all.slice(0, catalog.terms.size), ...ours.flatMap((k) => [catalog.templates.get(k)!.labels, ...catalog.templates.get(k)!.fields.map((f) => f.labels)])]) {
      expect(Object.keys(labels).sort()).toEqual([...catalog.languages].sort());
    }
  });

  it('are only templates of known kinds', () => {
    for (const kind of catalog.templates.keys()) expect(KINDS).toContain(kind);
  });
});

describe('a broken template file is a startup error naming the file and the member', () => {
  function broken(edit: (dir: string) => void): HotlineError {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-templates-'));
    cpSync(defaultTemplatesDir(), dir, { recursive: true });
    edit(dir);
    try {
      readCatalog(dir);
    } catch (e) {
      expect((e as HotlineError).code).toBe('template_invalid');
      return e as HotlineError;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    throw new Error('the broken catalog loaded');
  }
  /** Sets (or, with `undefined`, deletes) the member at `path` in a data file. */
  const patch = (file: string, path: readonly string[], value: unknown) => (dir: string): void => {
    const full = join(dir, file);
    const root = JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>;
    let o = root;
    for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
    if (value === undefined) delete o[path.at(-1)!];
    else o[path.at(-1)!] = value;
    writeFileSync(full, JSON.stringify(root));
  };
  const both = (...edits: ((dir: string) => void)[]) => (dir: string): void => edits.forEach((e) => e(dir));

  it.each([
    ['not JSON', (d: string) => writeFileSync(join(d, 'ping.json'), '{"kind": "ping",'), /ping\.json: is not valid JSON/],
    ['unknown field type', patch('crisis-alert.json', ['fields', 'confidence', 'type'], 'percent'), /crisis-alert\.json: fields\.confidence\.type: must be one of text, code/],
    ['unknown vocabulary', patch('crisis-alert.json', ['fields', 'affected_sectors', 'vocabulary'], 'sectors'), /crisis-alert\.json: fields\.affected_sectors\.vocabulary: must name a vocabulary/],
    ['missing Russian label', patch('notification.json', ['fields', 'indicators', 'labels', 'ru'], undefined), /notification\.json: fields\.indicators\.labels\.ru: is missing/],
    ['label in an undeclared language', patch('ack.json', ['labels', 'de'], 'Bestätigung'), /ack\.json: labels\.de: is not one of the languages/],
    ['unknown member', patch('pong.json', ['fields', 'officer', 'optional'], true), /pong\.json: fields\.officer\.optional: is not a known member/],
    ['kind differs from the file name', patch('pong.json', ['kind'], 'ping'), /pong\.json: kind: must be "pong"/],
    ['a file for no kind', (d: string) => writeFileSync(join(d, 'telegram.json'), '{}'), /telegram\.json: "telegram" is not a message kind/],
    ['a field named like a body member', patch('ping.json', ['fields', 'text'], { type: 'text', required: false, labels: { en: 'x', ru: 'x' } }), /ping\.json: fields\.text: "text" is a body member/],
    ['min on a text field', patch('ack.json', ['fields', 'officer', 'min'], 1), /ack\.json: fields\.officer\.min: applies only to integer/],
    ['required_if on a non-code field', both(patch('ack.json', ['fields', 'officer', 'required'], false), patch('ack.json', ['fields', 'officer', 'required_if'], { field: 'acknowledges', in: ['x'] })),
      /ack\.json: fields\.officer\.required_if\.field: must name a code field/],
    ['a bad code', patch('vocabularies.json', ['vocabularies', 'confidence', 'codes', 'Very High'], { en: 'x', ru: 'x' }), /vocabularies\.json: vocabularies\.confidence\.codes\.Very High: a code is/],
    ['no Russian in the languages', patch('vocabularies.json', ['languages'], ['en']), /vocabularies\.json: languages: must include "ru"/],
  ])('%s', (_what, edit, message) => {
    expect(broken(edit).message).toMatch(message);
  });
});

describe('validateBody', () => {
  it('accepts a crisis alert that fits, with or without the template member', () => {
    validateBody('crisis-alert', alert());
    const { template: _t, ...noTemplate } = alert();
    validateBody('crisis-alert', noTemplate);
  });

  it('accepts a notification with just text (and refuses one without it)', () => {
    validateBody('notification', { text: 'hello' });
    validateBody('notification', { template: 'notification@1', fields: {}, text: 'hello', lang: 'ru' });
    expect(mismatch(() => validateBody('notification', { fields: {} })).details).toMatchObject({ field: 'text' });
  });

  it('lets through kinds without a template, and the users module\'s sender and recipients', () => {
    validateBody('indicators', { anything: [1, 2, 3] });
    validateBody('notification', { text: 'x', sender: 'alice', recipients: ['bob'] });
  });

  it('a field of the wrong type: names the field and the type it must be', () => {
    const b = alert();
    b.fields.affected_systems = 'twelve';
    const e = mismatch(() => validateBody('crisis-alert', b));
    expect(e.details).toMatchObject({ field: 'affected_systems', template: 'crisis-alert@1' });
    expect(e.message).toMatch(/field "affected_systems": must be a whole number, not "twelve"/);
  });

  it('a code outside its vocabulary: names the field and lists the allowed codes', () => {
    const b = alert();
    b.fields.confidence = 'certain';
    const e = mismatch(() => validateBody('crisis-alert', b));
    expect(e.details).toMatchObject({ field: 'confidence', allowed: ['low', 'medium', 'high', 'confirmed'] });
    expect(e.message).toMatch(/"certain" is not a code of confidence; allowed: low, medium, high, confirmed/);
    b.fields.confidence = 'high';
    b.fields.affected_sectors = ['energy', 'space'];
    expect(mismatch(() => validateBody('crisis-alert', b)).details).toMatchObject({ field: 'affected_sectors' });
  });

  it('a missing required field: names it', () => {
    const b = alert();
    delete b.fields.observed_window;
    const e = mismatch(() => validateBody('crisis-alert', b));
    expect(e.details).toMatchObject({ field: 'observed_window' });
    expect(e.message).toMatch(/field "observed_window" is required and missing/);
  });

  it('an unknown field: names it and lists the template\'s fields', () => {
    const b = alert();
    b.fields.severity = 'high';
    const e = mismatch(() => validateBody('crisis-alert', b));
    expect(e.details).toMatchObject({ field: 'severity' });
    expect(e.message).toMatch(/field "severity" is not a field of crisis-alert@1; its fields are: incident_category, /);
  });

  it.each([
    [{ ...alert(), officer: 'x' }, 'officer', /"officer" is not a body member/],
    [{ ...alert(), template: 'crisis-alert@2' }, 'template', /"template" is "crisis-alert@2", but this node knows crisis-alert messages as "crisis-alert@1"/],
    [{ ...alert(), template: 'notification@1' }, 'template', /"template" is "notification@1"/],
    [{ ...alert(), text: '   ' }, 'text', /must be a non-empty string/],
    [{ ...alert(), lang: 'english please' }, 'lang', /"lang" must be the language tag/],
    [{ ...alert(), fields: [] }, 'fields', /"fields" must be a JSON object/],
  ])('body members: %# names %s', (body, field, message) => {
    const e = mismatch(() => validateBody('crisis-alert', body));
    expect(e.details).toMatchObject({ field });
    expect(e.message).toMatch(message);
  });

  it.each([
    ['time window that ends before it starts', { observed_window: { from: '2026-01-15T10:00:00Z', to: '2026-01-15T09:00:00Z' } }, 'observed_window', /starts .* after it ends/],
    ['time window with a local time', { observed_window: { from: '2026-01-15T10:00:00+03:00', to: '2026-01-15T11:00:00Z' } }, 'observed_window', /RFC 3339 UTC/],
    ['time window as a string', { observed_window: '2026-01-15T10:00:00Z/2026-01-15T11:00:00Z' }, 'observed_window', /"from"/],
    ['an indicator that is none', { indicators: ['192.0.2.10', 'not an indicator'] }, 'indicators', /"not an indicator" is not an IP address/],
    ['the same indicator twice', { indicators: ['192.0.2.10', '192.0.2.10'] }, 'indicators', /lists "192.0.2.10" twice/],
    ['an empty list of codes', { requested_actions: [] }, 'requested_actions', /non-empty list of codes/],
    ['a negative count', { affected_systems: -1 }, 'affected_systems', /the least is 0/],
    ['a fractional count', { affected_systems: 1.5 }, 'affected_systems', /whole number/],
    ['a boolean as text', { from_your_networks: 'yes' }, 'from_your_networks', /true or false/],
    ['null', { confidence: null }, 'confidence', /one code/],
  ])('%s', (_what, change, field, message) => {
    const b = alert();
    Object.assign(b.fields, change);
    const e = mismatch(() => validateBody('crisis-alert', b));
    expect(e.details).toMatchObject({ field });
    expect(e.message).toMatch(message);
  });

  it('ack: the acknowledged message id and the officer are required; the id must be a UUID', () => {
    const id = '019b1f2e-8c3a-7d10-8f00-0123456789ab';
    validateBody('ack', { fields: { acknowledges: id, officer: 'Duty officer Petrov' } });
    expect(mismatch(() => validateBody('ack', { fields: { acknowledges: id } })).details).toMatchObject({ field: 'officer' });
    expect(mismatch(() => validateBody('ack', { fields: { acknowledges: id.toUpperCase(), officer: 'x' } })).details).toMatchObject({ field: 'acknowledges' });
  });
});

describe('render', () => {
  it('labels in the reader\'s language, codes as their labels, the free text as written', () => {
    const ru = render('crisis-alert', alert(), 'ru');
    const en = render('crisis-alert', alert(), 'en');
    const at = (lines: typeof ru, field: string) => lines.find((l) => l.field === field)!;
    expect(at(ru, 'template')).toEqual({ field: 'template', label: 'Сообщение', value: 'Кризисное оповещение' });
    expect(at(ru, 'incident_category')).toEqual({ field: 'incident_category', label: 'Категория инцидента', value: 'Вторжение (несанкционированный доступ)', codes: ['intrusion'] });
    expect(at(ru, 'affected_sectors')).toMatchObject({ label: 'Затронутые секторы', value: 'Энергетика; Телекоммуникации', codes: ['energy', 'telecom'] });
    expect(at(ru, 'confidence').value).toBe('Высокая');
    expect(at(ru, 'from_your_networks').value).toBe('Да');
    expect(at(en, 'incident_category')).toMatchObject({ label: 'Incident category', value: 'Intrusion (unauthorised access)' });
    expect(at(en, 'observed_window').value).toBe('2026-01-15T08:55:00Z – 2026-01-15T09:25:00.000Z');
    expect(at(ru, 'text')).toEqual({ field: 'text', label: 'Свободный текст', value: alert().text, lang: 'en' });
    expect(ru.map((l) => l.field)).toEqual(['template', 'incident_category', 'affected_sectors', 'observed_window', 'indicators', 'requested_actions', 'confidence', 'from_your_networks', 'affected_systems', 'text']);
    expect(at(render('crisis-alert', alert(), 'zh'), 'confidence').value).toBe('高');
  });

  it('falls back to English where a label is missing in the language', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-templates-'));
    cpSync(defaultTemplatesDir(), dir, { recursive: true });
    const file = join(dir, 'vocabularies.json');
    const j = JSON.parse(readFileSync(file, 'utf8')) as { vocabularies: Record<string, { codes: Record<string, Record<string, string>> }> };
    delete j.vocabularies.confidence!.codes.high!.fr;
    writeFileSync(file, JSON.stringify(j));
    const lines = render('crisis-alert', alert(), 'fr', readCatalog(dir));
    expect(lines.find((l) => l.field === 'confidence')!.value).toBe('High');
    expect(lines.find((l) => l.field === 'incident_category')!.value).toBe('Intrusion (accès non autorisé)');
    rmSync(dir, { recursive: true, force: true });
  });

  it('never throws on a body that does not fit: shows values as they are and unknown fields by name', () => {
    const lines = render('crisis-alert', { fields: { confidence: 'certain', extra: { a: 1 } }, text: 'x' }, 'ru');
    expect(lines).toContainEqual({ field: 'confidence', label: 'Степень уверенности', value: 'certain' });
    expect(lines).toContainEqual({ field: 'extra', label: 'extra', value: '{"a":1}' });
    expect(render('indicators', { fields: { n: 1 } }, 'ru')).toEqual([{ field: 'n', label: 'n', value: '1' }]);
    expect(render('notification', 'not an object', 'en')).toEqual([{ field: 'template', label: 'Message', value: 'Notification' }]);
  });

  it('refuses a language it has no labels for', () => {
    expect(requireLanguage('ru')).toBe('ru');
    expect(() => requireLanguage('de')).toThrow(/No labels in language "de"; the templates have: en, ru, fr, es, zh, ar/);
  });
});

describe('composing a body and reading --field arguments', () => {
  it('composeBody writes { template, fields, text, lang } for a templated kind', () => {
    expect(composeBody('notification', { text: 'hi' })).toEqual({ template: 'notification@1', fields: {}, text: 'hi' });
    expect(composeBody('indicators', { text: 'hi', lang: 'en' })).toEqual({ text: 'hi', lang: 'en' });
  });

  it('fieldsFromArgs types values by the template: lists, time windows, integers, booleans', () => {
    const f = fieldsFromArgs('crisis-alert', [
      'incident_category=intrusion', 'affected_sectors=energy, telecom', 'observed_window=2026-01-15T08:55:00Z/2026-01-15T09:25:00Z',
      'indicators=192.0.2.10', 'indicators=c2.example.net', 'affected_systems=12', 'from_your_networks=yes', 'confidence=high',
    ], { requested_actions: ['clarify'], confidence: 'low' });
    expect(f).toEqual({
      requested_actions: ['clarify'], confidence: 'high', incident_category: 'intrusion', affected_sectors: ['energy', 'telecom'],
      observed_window: { from: '2026-01-15T08:55:00Z', to: '2026-01-15T09:25:00Z' }, indicators: ['192.0.2.10', 'c2.example.net'],
      affected_systems: 12, from_your_networks: true,
    });
    validateBody('crisis-alert', { fields: f });
    expect(fieldsFromArgs('crisis-alert', ['affected_systems=many'])).toEqual({ affected_systems: 'many' });
    expect(() => fieldsFromArgs('crisis-alert', ['confidence'])).toThrow(/--field takes key=value/);
    expect(() => fieldsFromArgs('crisis-alert', ['confidence=low', 'confidence=high'])).toThrow(/--field confidence is given twice/);
  });

  it('isIndicator: IPs, prefixes, domains, URLs, e-mail addresses, hashes; nothing else', () => {
    for (const s of ['192.0.2.1', '2001:db8::1', '10.0.0.0/8', '2001:db8::/32', 'example.org', 'xn--80ak6aa92e.com', 'https://a.example/p?q=1',
      'phish@bad.example', 'd41d8cd98f00b204e9800998ecf8427e', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']) {
      expect(isIndicator(s), s).toBe(true);
    }
    for (const s of ['', 'not an indicator', '999.1.1.1', '10.0.0.0/33', 'localhost', 'deadbeef', 'javascript:alert(1)', 'a b.example', 'example.123']) {
      expect(isIndicator(s), s).toBe(false);
    }
  });
});
