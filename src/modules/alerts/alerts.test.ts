import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config.js';
import { alertHtml } from '../../adapters/sinks/html.js';
import { webhookSignature } from '../../adapters/sinks/webhook.js';
import { templateCatalog } from '../templates/templates.service.js';
import { escalationAlert, localTime, preservationAlert } from './alerts.render.js';
import { secretKey, shownTarget } from './alerts.sinks.js';
import type { AlertMessage, AlertSettings } from './alerts.types.js';
import { words, WORDS } from './alerts.words.js';

const RU: AlertSettings = { language: 'ru', timeZone: 'Europe/Moscow', publicUrl: 'https://hotline.ru.example' };
const DUE = Date.UTC(2026, 0, 15, 9, 10);

function message(over: Partial<AlertMessage> = {}): AlertMessage {
  return {
    id: '01a2467f-3b2c-7d00-8000-000000000001', short_id: '01a2467f', direction: 'in', from: 'us', to: 'ru', sender: 'alice',
    kind: 'crisis-alert', priority: 'flash', channel: 'crisis', case: '01a2467f-3b2c-7d00-8000-000000000001', tlp: 'amber', recipients: null,
    body: { template: 'crisis-alert@1', fields: { incident_category: 'ddos', confidence: 'high' }, text: 'Secret operational detail' },
    due_at: DUE, ...over,
  };
}

describe('the alert catalogue', () => {
  it('has every entry in English and Russian, and each translation uses the same {placeholders} as the English', () => {
    const holes = (t: string): string[] => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
    for (const [key, entry] of Object.entries(WORDS)) {
      expect(entry.en.trim(), key).not.toBe('');
      expect(entry.ru.trim(), key).not.toBe('');
      for (const [lang, text] of Object.entries(entry)) expect(holes(text), `${key} ${lang}`).toEqual(holes(entry.en));
    }
  });

  it('falls back to English for a word a language lacks, and fills placeholders', () => {
    expect(words('label.sent', 'zh')).toBe('Sent (UTC)');
    expect(words('label.priority', 'zh')).toBe('优先级');
    expect(words('action.ack', 'ru', { command: 'hotline ack 01a2467f' })).toBe('подтвердить: hotline ack 01a2467f');
  });
});

describe('rendering an alert', () => {
  it('in every template language: the kind and field labels come from the templates in that language', () => {
    const catalog = templateCatalog();
    for (const lang of catalog.languages) {
      const a = escalationAlert(message(), { step: '0', paged: null }, { language: lang, timeZone: 'UTC', publicUrl: null });
      expect(a.language).toBe(lang);
      const t = catalog.templates.get('crisis-alert')!;
      expect(a.facts.find((f) => f.value.endsWith('(crisis-alert)'))?.value).toBe(`${t.labels[lang]!} (crisis-alert)`);
      expect(a.content[1]).toEqual({ label: t.fields.find((f) => f.name === 'incident_category')!.labels[lang], value: catalog.vocabularies.get('incident_category')!.codes.get('ddos')![lang] });
      // UTC node: one due line, no local one.
      expect(a.facts.filter((f) => f.value.endsWith(' UTC'))).toHaveLength(1);
    }
  });

  it('TLP:RED: the content is only whom it is for; no field or text reaches the alert', () => {
    const a = escalationAlert(message({ tlp: 'red', recipients: ['ivan', 'olga'] }), { step: '1', paged: 'Officer Petrova, backup' }, RU);
    expect(a.content).toEqual([{ label: 'Содержание', value: 'сообщение TLP:RED для ivan, olga' }]);
    const all = JSON.stringify(a);
    expect(all).not.toContain('Secret operational detail');
    expect(all).not.toContain('DDoS');
    expect(a.facts).toContainEqual({ label: 'Оповещён', value: 'Officer Petrova, backup' });
    expect(a.headline).toBe('Сообщение с приоритетом FLASH от us требует подтверждения человеком (шаг эскалации 1).');
  });

  it('due times in UTC and in the node\'s zone, with its offset (summer and winter)', () => {
    expect(localTime(DUE, { timeZone: 'Europe/Moscow' })).toBe('2026-01-15 12:10 UTC+03:00');
    expect(localTime(Date.UTC(2026, 6, 1, 12, 0), { timeZone: 'Europe/Berlin' })).toBe('2026-07-01 14:00 UTC+02:00');
    expect(localTime(Date.UTC(2026, 0, 1, 12, 0), { timeZone: 'Europe/Berlin' })).toBe('2026-01-01 13:00 UTC+01:00');
    expect(localTime(DUE, { timeZone: 'UTC' })).toBe('2026-01-15 09:10 UTC+00:00');
    const a = escalationAlert(message(), { step: '0', paged: null }, RU);
    expect(a.facts).toContainEqual({ label: 'Срок (UTC)', value: '2026-01-15 09:10 UTC' });
    expect(a.facts).toContainEqual({ label: 'Срок (Europe/Moscow)', value: '2026-01-15 12:10 UTC+03:00' });
    expect(a.todo).toEqual(['подтвердить: hotline ack 01a2467f', 'открыть в консоли: https://hotline.ru.example/messages/01a2467f-3b2c-7d00-8000-000000000001']);
  });

  it('a preservation reminder says what to do', () => {
    const a = preservationAlert({ case: 'c1', reference: 'RU-2026-7', requesting_party: 'us', responding_party: 'ru', direction: 'out', expires_at: '2026-03-16T09:30:00.000Z', days_left: 6 }, RU);
    expect(a.subject).toBe('[hotline] Срок сохранения данных RU-2026-7 истекает 2026-03-16 12:30 UTC+03:00');
    expect(a.todo).toEqual(['продлите срок (hotline preservation extend c1 --days N) или зарегистрируйте запрос о взаимной правовой помощи']);
  });

  it('the HTML part escapes everything from the message and sets the language and direction', () => {
    const a = escalationAlert(message({ body: { fields: {}, text: '<script>alert(1)</script> & "q"' } }), { step: '0', paged: null }, { language: 'ar', timeZone: 'UTC', publicUrl: 'https://h.example' });
    const html = alertHtml(a);
    expect(html).toContain('<html lang="ar" dir="rtl">');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<a href="https://h.example/messages/01a2467f-3b2c-7d00-8000-000000000001">');
  });
});

describe('sink secrets and settings', () => {
  it('a secret is whsec_ and the base64 of 24 to 64 bytes; the signature is v1,<base64 HMAC-SHA256 of id.timestamp.body>', () => {
    const key = Buffer.alloc(32, 7);
    const secret = `whsec_${key.toString('base64')}`;
    expect(secretKey(secret)).toEqual(key);
    for (const bad of ['hunter2', `whsec_${Buffer.alloc(8).toString('base64')}`, `whsec_${Buffer.alloc(65).toString('base64')}`, 'whsec_not base64!']) {
      expect(() => secretKey(bad)).toThrow(/whsec_/);
      // The message never repeats what was given.
      expect(() => secretKey(bad)).not.toThrow(bad);
    }
    // The example from the Standard Webhooks reference libraries' tests.
    expect(webhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'))
      .toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('a target is shown without its secrets: query, credentials, and a Slack-style path', () => {
    expect(shownTarget({ type: 'webhook', format: 'standard', target: 'https://u:p@hooks.example/in?token=x' })).toBe('https://***@hooks.example/in?***');
    expect(shownTarget({ type: 'webhook', format: 'slack', target: 'https://hooks.slack.com/services/T0/B1/XYZ' })).toBe('https://hooks.slack.com/***');
    expect(shownTarget({ type: 'email', format: 'email', target: 'duty@ru.example' })).toBe('duty@ru.example');
  });

  it('time_zone is an IANA name (default UTC), public_url an http(s) URL (default none)', () => {
    const good = {
      party: 'us', name: 'US CERT', url: 'http://127.0.0.1:7001', listen: { host: '127.0.0.1', port: 7001 },
      channels: ['crisis'], key_file: 'node.key', store: { driver: 'sqlite', path: 'hotline.db' }, admin_token_sha256: 'a'.repeat(64),
    };
    expect(parseConfig(good, '/h')).toMatchObject({ timeZone: 'UTC', publicUrl: null });
    expect(parseConfig({ ...good, time_zone: 'Europe/Moscow', public_url: 'https://hotline.example/' }, '/h')).toMatchObject({ timeZone: 'Europe/Moscow', publicUrl: 'https://hotline.example' });
    expect(() => parseConfig({ ...good, time_zone: 'Mars/Olympus' }, '/h')).toThrow(/"time_zone" must be an IANA time zone/);
    expect(() => parseConfig({ ...good, public_url: 'hotline.example' }, '/h')).toThrow(/"public_url" must be/);
  });
});
