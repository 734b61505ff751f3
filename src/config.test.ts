import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP, loadConfig, parseConfig } from './config.js';
import { DEFAULT_LIMITS } from './modules/federation/federation.types.js';

const good = {
  party: 'us', name: 'US CERT', url: 'http://127.0.0.1:7001', listen: { host: '127.0.0.1', port: 7001 },
  channels: ['crisis', 'cert'], key_file: 'node.key', store: { driver: 'sqlite', path: 'hotline.db' },
  admin_token_sha256: 'a'.repeat(64),
};

function problem(raw: unknown): string {
  try {
    parseConfig(raw, '/tmp/home');
    return 'ok';
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
}

describe('config', () => {
  it('parses a good file, resolves paths against the home, applies defaults, and freezes', () => {
    const c = parseConfig(good, '/tmp/home');
    expect(c.store).toEqual({ driver: 'sqlite', path: '/tmp/home/hotline.db' });
    expect(c.keyFile).toBe('/tmp/home/node.key');
    expect(c.limits).toEqual(DEFAULT_LIMITS);
    expect(c.language).toBe('en');
    expect(parseConfig({ ...good, language: 'ru' }, '/tmp/home').language).toBe('ru');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it.each([
    [{ ...good, party: 'US!' }, /"party"/],
    [{ ...good, url: 'http://hotline.example.org' }, /"url".*https/],
    [{ ...good, listen: { host: '127.0.0.1', port: 70000 } }, /"listen"/],
    [{ ...good, channels: ['crisis', 'gossip'] }, /"channels"/],
    [{ ...good, channels: ['crisis', 'cert', 'crisis'] }, /"channels" lists "crisis" more than once/],
    [{ ...good, name: ' US CERT' }, /"name" must not begin or end with whitespace/],
    [{ ...good, name: 'US CERT\n' }, /"name" must not begin or end with whitespace/],
    [{ ...good, name: '   ' }, /"name" must not begin or end with whitespace/],
    [{ ...good, name: '' }, /"name" must be a non-empty string/],
    [{ ...good, name: 'x'.repeat(201) }, /"name" is 201 characters; at most 200/],
    [{ ...good, url: 'https://user:secret@cert.example/' }, /"url".*user name or password/],
    [{ ...good, url: 'https://cert.example/?a=1' }, /"url".*query/],
    [{ ...good, url: 'https://cert.example/#f' }, /"url".*fragment/],
    [{ ...good, store: { driver: 'mysql', path: 'x' } }, /"store.driver"/],
    [{ ...good, store: { driver: 'postgres', url: 'postgres://u:secret@h/db' } }, /must not hold the password.*password_file.*PGPASSWORD/],
    [{ ...good, store: { driver: 'postgres', url: 'http://h/db' } }, /postgres:\/\/user@host/],
    [{ ...good, database_url: 'postgres://h/db' }, /either "store" or "database_url"/],
    [{ ...good, admin_token_sha256: 'nope' }, /"admin_token_sha256"/],
    [{ ...good, limits: { maxBodyBytes: -1 } }, /"limits.maxBodyBytes" must be a positive number/],
    [{ ...good, limits: { maxBodyByte: 10 } }, /"limits.maxBodyByte" is not a setting/],
    [{ ...good, log_level: 'loud' }, /"log_level"/],
    [{ ...good, language: 'Russian' }, /"language" must be a language code/],
    [{ ...good, language: 7 }, /"language"/],
    [[], /JSON object/],
  ])('refuses a bad field and names it (%#)', (raw, message) => {
    const p = problem(raw);
    expect(p.startsWith('config_invalid')).toBe(true);
    expect(p).toMatch(message);
  });

  it('names the file when it is missing or not JSON', () => {
    const home = mkdtempSync(join(tmpdir(), 'hotline-config-'));
    expect(() => loadConfig(home)).toThrow(/hotline\.json does not exist/);
    writeFileSync(join(home, 'hotline.json'), '{ "party": ');
    expect(() => loadConfig(home)).toThrow(/hotline\.json is not valid JSON/);
    writeFileSync(join(home, 'hotline.json'), JSON.stringify({ ...good, party: 'x' }));
    expect(() => loadConfig(home)).toThrow(/hotline\.json: "party"/);
  });

  it('reads a PostgreSQL store from "store" or its shorthand "database_url", the password file resolved against the home', () => {
    const { store: _, ...rest } = good;
    expect(parseConfig({ ...rest, database_url: 'postgres://hotline@db.example:5432/hotline' }, '/tmp/home').store)
      .toEqual({ driver: 'postgres', url: 'postgres://hotline@db.example:5432/hotline', passwordFile: null, maxConnections: 10 });
    expect(parseConfig({ ...good, store: { driver: 'postgres', url: 'postgresql://h/db', password_file: 'db.password', max_connections: 4, schema: 'hotline' } }, '/tmp/home').store)
      .toEqual({ driver: 'postgres', url: 'postgresql://h/db', passwordFile: '/tmp/home/db.password', maxConnections: 4, schema: 'hotline' });
  });

  it('reads the http limits: numbers over the defaults, limitLoopback a boolean, headers no later than the request', () => {
    expect(parseConfig(good, '/tmp/home').http).toEqual(DEFAULT_HTTP);
    expect(parseConfig({ ...good, http: { apiPerMinute: 5, limitLoopback: true } }, '/tmp/home').http).toMatchObject({ apiPerMinute: 5, limitLoopback: true, federationPerMinute: 600 });
    expect(problem({ ...good, http: { limitLoopback: 'yes' } })).toBe('config_invalid: "http.limitLoopback" must be true or false');
    expect(problem({ ...good, http: { maxConections: 5 } })).toMatch(/^config_invalid: "http.maxConections" is not a setting/);
    expect(problem({ ...good, http: { requestTimeoutMs: 1000, headersTimeoutMs: 2000 } })).toMatch(/"http.headersTimeoutMs" must not be more than "http.requestTimeoutMs"/);
    expect(parseConfig({ ...good, delivery: { concurrency: 2 } }, '/tmp/home').delivery).toMatchObject({ concurrency: 2, timeoutMs: 30_000 });
  });
});
