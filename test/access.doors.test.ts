/**
 * Open doors, closed: /metrics needs an administrator's token; a node's home is 0700 and what
 * it writes (the store with its -wal and -shm, the key, the admin token, the config, transcripts,
 * carriage files) 0600; and a caller without valid credentials gets one answer whatever the
 * reason (unknown, malformed, revoked, a disabled user's, another user's token).
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { ensureBuilt, ok } from './helpers/cli.js';
import { makePair, tempDir, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let a: RunningNode;
let onUs: Api;
let tokens: Record<string, string>;
let caseId: string;

const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);

beforeAll(async () => {
  ensureBuilt();
  [us] = await makePair();
  a = await us.start({ runDelivery: false, runPings: false });
  onUs = api(us.url);
  tokens = await usersWithTokens(onUs, us.token, { carol: ['cert'], revokee: ['cert'], leaver: ['cert'] });
  const sent = await onUs('/api/v1/messages', tokens.carol!, { method: 'POST', body: { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: 'x' } });
  expect(sent.status, JSON.stringify(sent.json)).toBe(202);
  caseId = String(sent.json.case);
  const id = ((await onUs('/api/v1/tokens?user=revokee', us.token)).json.tokens as { id: string }[])[0]!.id;
  expect((await onUs(`/api/v1/tokens/${id}`, us.token, { method: 'DELETE' })).status).toBe(200);
  expect((await onUs('/api/v1/users/leaver/disable', us.token, { method: 'POST', body: {} })).status).toBe(200);
});
afterAll(async () => {
  await a?.stop();
});

describe('/metrics', () => {
  it('401 without a token or with a bad one, 403 for an officer, 200 for the administrator', async () => {
    const get = (token?: string): Promise<Response> => fetch(`${us.url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    expect((await get()).status).toBe(401);
    expect((await get('not-a-token')).status).toBe(401);
    expect((await get(tokens.carol!)).status).toBe(403);
    const r = await get(us.token);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('hotline_outbox_pending');
  });
});

describe('the home', () => {
  it('is 0700; the store, its -wal and -shm, the key, the admin token and the config are 0600', () => {
    expect(mode(us.home)).toBe('700');
    for (const f of ['hotline.db', 'hotline.db-wal', 'hotline.db-shm', 'node.key', 'admin.token', 'hotline.json']) {
      const file = join(us.home, f);
      expect(existsSync(file), f).toBe(true);
      expect([f, mode(file)]).toEqual([f, '600']);
    }
  });

  it('left open by an older version or a copy (0755, files 0644), is closed again the next time it is opened', async () => {
    const files = ['node.key', 'admin.token', 'hotline.json', 'hotline.db'];
    chmodSync(us.home, 0o755);
    for (const f of files) chmodSync(join(us.home, f), 0o644);
    await ok(us.home, 'inbox');
    expect(mode(us.home)).toBe('700');
    expect(files.map((f) => [f, mode(join(us.home, f))])).toEqual(files.map((f) => [f, '600']));
  });

  it('transcripts and carriage files are written 0600', async () => {
    const dir = tempDir('hotline-doors-');
    await ok(us.home, 'transcript', '--case', caseId, '--out', join(dir, 'case.json'));
    await ok(us.home, 'export', '--to', 'ru', '--out', join(dir, 'to-ru.json'));
    expect([mode(join(dir, 'case.json')), mode(join(dir, 'to-ru.json'))]).toEqual(['600', '600']);
  });
});

describe('without valid credentials, one answer for all', () => {
  it('unknown, malformed, revoked, a disabled user\'s: the same 401 body on the REST API', async () => {
    const answer = async (authorization?: string): Promise<[number, unknown]> => {
      const r = await fetch(`${us.url}/api/v1/messages`, authorization === undefined ? {} : { headers: { authorization } });
      return [r.status, await r.json()];
    };
    const unknown = await answer('Bearer never-issued-token');
    expect(unknown[0]).toBe(401);
    for (const h of [undefined, 'Bearer', 'Basic abc', 'bearer  two words', `Bearer ${tokens.revokee!}`, `Bearer ${tokens.leaver!}`]) {
      expect(await answer(h), String(h)).toEqual(unknown);
    }
  });

  it('TAXII: unknown, malformed, revoked, another user\'s token: the same 401 body', async () => {
    const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
    const answer = async (authorization?: string): Promise<[number, unknown]> => {
      const r = await fetch(`${us.url}/taxii2/`, { headers: { accept: 'application/taxii+json;version=2.1', ...(authorization === undefined ? {} : { authorization }) } });
      // error_id is unique per answer (TAXII 2.1 error resource); everything else must be the same.
      const { error_id: _id, ...body } = (await r.json()) as Record<string, unknown>;
      return [r.status, body];
    };
    const unknown = await answer('Bearer never-issued-token');
    expect(unknown[0]).toBe(401);
    for (const h of [undefined, 'Digest abc', basic('carol', 'never-issued'), basic('revokee', tokens.revokee!), basic('dave', tokens.carol!), 'Basic bm9jb2xvbg==']) {
      expect(await answer(h), String(h)).toEqual(unknown);
    }
  });
});
