/**
 * Issue 10 item 11, the audit trail, on two real nodes: what people do through the REST API (from
 * 127.0.0.1) and the CLI (from "cli") is recorded with who did it; `hotline audit` and GET
 * /api/v1/audit (administrators only) search it; `hotline verify` finds a one-byte change, a
 * deleted record and two swapped records, naming the record; no record holds a body or a secret.
 */
import { publishRedRecipients } from './helpers/red.js';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withNode } from '../src/adapters/cli/home.js';
import type { RunningNode } from '../src/main.js';
import type { AuditRecord } from '../src/modules/audit/audit.types.js';
import { api, type Api } from './helpers/api.js';
import { delivered } from './helpers/cases.js';
import { hl } from './helpers/cli.js';
import { eventually, makeHome, makePair, type TestHome } from './helpers/nodes.js';

const CLI_USER = `cli:${userInfo().username}`;
const BODY = 'the-unique-body-text-7f3a';
const RED_BODY = 'the-red-body-text-91c2';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let olga: string;
let ivan: string;
let sentId: string;
const secrets: string[] = [];

async function json<T>(home: string, ...args: string[]): Promise<T> {
  const r = await hl(home, ...args, '--json');
  expect(r.code, `hotline ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function records(home: string, ...filter: string[]): Promise<AuditRecord[]> {
  return (await json<{ records: AuditRecord[] }>(home, 'audit', ...filter)).records;
}

const one = (rs: AuditRecord[], action: string, subject?: string): AuditRecord | undefined =>
  rs.find((r) => r.action === action && (subject === undefined || r.subject === subject));

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false, runReminders: false });
  b = await ru.start({ runPings: false, runReminders: false });
  onUs = api(us.url);
  onRu = api(ru.url);
  // On us, through REST as the administrator: a user and its token.
  expect((await onUs('/api/v1/users', us.token, { method: 'POST', body: { name: 'olga', role: 'officer', channels: ['crisis'] } })).status).toBe(201);
  olga = String((await onUs('/api/v1/tokens', us.token, { method: 'POST', body: { user: 'olga' } })).json.secret);
  // On ru, through the CLI: a user and its token.
  await json(ru.home, 'user', 'add', 'ivan', '--channels', 'crisis', '--display-name', 'Ivan Petrov');
  ivan = (await json<{ secret: string }>(ru.home, 'token', 'create', '--user', 'ivan')).secret;
  secrets.push(olga, ivan, us.token, ru.token);
  // olga sends through REST; ivan acknowledges through the CLI.
  const sent = await onUs('/api/v1/messages', olga, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: BODY } });
  expect(sent.status, JSON.stringify(sent.json)).toBe(202);
  sentId = String(sent.json.id);
  await delivered(a, sentId);
  await json(ru.home, 'ack', sentId, '--as', 'ivan');
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('what is recorded, with who and from where', () => {
  it('a send through REST: olga from 127.0.0.1, naming the message, never its text', async () => {
    const r = one(await records(us.home, '--action', 'message.send'), 'message.send', sentId);
    expect(r).toMatchObject({ actor: 'olga', address: '127.0.0.1', details: { kind: 'inquiry', to: 'ru', channel: 'crisis', priority: 'flash' } });
  });

  it('an ack through the CLI: ivan from cli, naming the message acknowledged', async () => {
    expect(one(await records(ru.home), 'message.ack', sentId)).toMatchObject({ actor: 'ivan', address: 'cli' });
  });

  it('an ack through REST: ivan from 127.0.0.1', async () => {
    const sent = await onUs('/api/v1/messages', olga, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'routine', tlp: 'amber', text: BODY } });
    const id = String(sent.json.id);
    await delivered(a, id);
    expect((await onRu(`/api/v1/messages/${id}/ack`, ivan, { method: 'POST', body: {} })).status).toBe(202);
    expect(one(await records(ru.home), 'message.ack', id)).toMatchObject({ actor: 'ivan', address: '127.0.0.1' });
  });

  it('user add and token create: through REST as admin from 127.0.0.1, through the CLI as the OS user from cli', async () => {
    const onUsRecords = await records(us.home);
    expect(one(onUsRecords, 'user.add', 'olga')).toMatchObject({ actor: 'admin', address: '127.0.0.1', details: { role: 'officer', channels: ['crisis'] } });
    expect(one(onUsRecords, 'token.create')).toMatchObject({ actor: 'admin', address: '127.0.0.1', details: { user: 'olga' } });
    const onRuRecords = await records(ru.home);
    expect(one(onRuRecords, 'user.add', 'ivan')).toMatchObject({ actor: CLI_USER, address: 'cli' });
    expect(one(onRuRecords, 'token.create')).toMatchObject({ actor: CLI_USER, address: 'cli', details: { user: 'ivan' } });
  });

  it('peer add through REST and the CLI', async () => {
    const de = await makeHome('de');
    expect((await onUs('/api/v1/peers', us.token, { method: 'POST', body: { descriptor: de.descriptor, fingerprint: de.fingerprint } })).status).toBe(201);
    expect(one(await records(us.home), 'peer.add', 'de')).toMatchObject({ actor: 'admin', address: '127.0.0.1', details: { fingerprint: de.fingerprint } });
    const fr = await makeHome('fr');
    const file = `${fr.home}/descriptor.json`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify(fr.descriptor));
    await json(ru.home, 'peer', 'add', '--descriptor', file, '--fingerprint', fr.fingerprint);
    expect(one(await records(ru.home), 'peer.add', 'fr')).toMatchObject({ actor: CLI_USER, address: 'cli' });
  });

  it('prune through the CLI (a dry run is not recorded)', async () => {
    await json(us.home, 'prune', '--dry-run');
    expect(one(await records(us.home), 'prune')).toBeUndefined();
    await json(us.home, 'prune');
    expect(one(await records(us.home), 'prune')).toMatchObject({ actor: CLI_USER, address: 'cli', details: { deleted: expect.any(Object) } });
  });

  it('transcripts through REST and the CLI', async () => {
    expect((await onUs(`/api/v1/cases/${sentId}/transcript`, olga)).status).toBe(200);
    expect(one(await records(us.home, '--user', 'olga'), 'transcript', sentId)).toMatchObject({ address: '127.0.0.1' });
    await json(us.home, 'transcript', '--case', sentId, '--out', `${us.home}/t.json`, '--as', 'olga');
    const both = (await records(us.home, '--action', 'transcript')).map((r) => [r.actor, r.address]);
    expect(both).toEqual([['olga', 'cli'], ['olga', '127.0.0.1']]);
  });

  it('reading a TLP:RED body: the permitted reader is recorded; a refused reader and a redacted view are not', async () => {
    await publishRedRecipients(b, a, 'crisis', ['ivan']); // ru publishes ivan as a TLP:RED recipient, or us may not send to him
    const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'routine', tlp: 'red', recipients: ['ivan'], text: RED_BODY } });
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    const id = String(sent.json.id);
    await delivered(a, id);
    expect((await onRu(`/api/v1/messages/${id}`, ru.token)).json.message).toMatchObject({ redacted: expect.any(String) });
    expect(one(await records(ru.home), 'message.read_red', id)).toBeUndefined();
    const read = await onRu(`/api/v1/messages/${id}`, ivan);
    expect((read.json.message as { text: string }).text).toBe(RED_BODY);
    expect(one(await records(ru.home), 'message.read_red', id)).toMatchObject({ actor: 'ivan', address: '127.0.0.1', details: { from: 'us' } });
  });

  it('contact and rota changes through the CLI and REST, never a webhook URL', async () => {
    const c = await json<{ id: string }>(us.home, 'contact', 'add', '--channel', 'crisis', '--function', 'duty officer', '--name', 'Duty desk');
    const hook = 'http://127.0.0.1:9/hook?token=hook-secret-4b8e';
    await json(us.home, 'rota', 'set', '--channel', 'crisis', '--primary', c.id, '--primary-webhook', hook);
    secrets.push('hook-secret-4b8e');
    const put = await onUs('/api/v1/rota/crisis', us.token, { method: 'PUT', body: { primary: c.id } });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    const rs = await records(us.home);
    expect(one(rs, 'contact.add', c.id)).toMatchObject({ actor: CLI_USER, address: 'cli', details: { channel: 'crisis' } });
    expect(rs.filter((r) => r.action === 'rota.set').map((r) => [r.actor, r.address, r.subject, r.details.primary]))
      .toEqual([['admin', '127.0.0.1', 'crisis', c.id], [CLI_USER, 'cli', 'crisis', c.id]]);
  });

  it('a failed REST authentication: anonymous, with the address, never the token tried', async () => {
    const tried = 'not-a-valid-token-5d1e';
    expect((await onUs('/api/v1/messages', tried)).status).toBe(401);
    const r = one(await records(us.home, '--action', 'auth.failed'), 'auth.failed');
    expect(r).toMatchObject({ actor: 'anonymous', address: '127.0.0.1', details: { method: 'GET', route: '/api/v1/messages' } });
    secrets.push(tried);
  });

  it('no record holds a message body or a token secret', async () => {
    for (const n of [a, b]) {
      const all = JSON.stringify(await n.ctx.db.selectFrom('audit').selectAll().execute());
      expect(all.length).toBeGreaterThan(100);
      for (const s of [BODY, RED_BODY, ...secrets]) expect(all).not.toContain(s);
    }
  });
});

describe('searching the trail', () => {
  it('hotline audit filters by user, action, since and limit; the text output is a table', async () => {
    const byOlga = await records(us.home, '--user', 'olga');
    expect(byOlga.length).toBeGreaterThan(0);
    expect(byOlga.every((r) => r.actor === 'olga')).toBe(true);
    const sends = await records(us.home, '--action', 'message.send');
    expect(sends.length).toBeGreaterThan(1);
    expect(sends.every((r) => r.action === 'message.send')).toBe(true);
    expect(await records(us.home, '--since', '2999-01-01T00:00:00Z')).toEqual([]);
    expect((await records(us.home, '--since', '1h')).length).toBeGreaterThan(0);
    expect((await records(us.home, '--limit', '1')).length).toBe(1);
    const text = await hl(us.home, 'audit', '--user', 'olga');
    expect(text.stdout).toMatch(/WHO\s+FROM\s+ACTION/);
    expect(text.stdout).toContain('message.send');
    const bad = await hl(us.home, 'audit', '--action', 'nonsense');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('invalid_argument')]);
  });

  it('GET /api/v1/audit: administrators only; others are forbidden', async () => {
    const denied = await onUs('/api/v1/audit', olga);
    expect([denied.status, denied.json.code]).toEqual([403, 'forbidden']);
    const got = await onUs('/api/v1/audit?action=user.add&limit=5', us.token);
    expect(got.status).toBe(200);
    expect((got.json.records as AuditRecord[]).map((r) => [r.action, r.subject])).toEqual([['user.add', 'olga']]);
  });
});

describe('hotline verify checks the trail', () => {
  type Row = { seq: number; details: string };
  const rowsOf = (n: RunningNode): Promise<Row[]> => n.ctx.db.selectFrom('audit').select(['seq', 'details']).orderBy('seq').execute() as Promise<Row[]>;

  it('OK while the trail is whole', async () => {
    const r = await hl(us.home, 'verify');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/audit trail \(\d+ record\(s\)\) is whole and unchanged/);
  });

  it('a one-byte change, a deleted record and two swapped records each fail it, naming the record', async () => {
    await a.stop();
    await withNode(us.home, async (ctx) => {
      const rows = (await ctx.db.selectFrom('audit').selectAll().orderBy('seq').execute());
      expect(rows.length).toBeGreaterThan(4);
      const target = rows[2]!;
      // One byte.
      await ctx.db.updateTable('audit').set({ address: target.address.replace('1', '2') }).where('seq', '=', target.seq).execute();
    });
    let r = await hl(us.home, 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/audit record #3 \(id [0-9a-f-]+\): audit_changed: .*does not match its hash/);
    await withNode(us.home, async (ctx) => {
      await ctx.db.updateTable('audit').set({ address: '127.0.0.1' }).where('seq', '=', 3).execute();
    });
    r = await hl(us.home, 'verify');
    expect(r.code, r.stdout).toBe(0);

    // A deleted record.
    let saved: Record<string, unknown> = {};
    await withNode(us.home, async (ctx) => {
      saved = (await ctx.db.selectFrom('audit').selectAll().where('seq', '=', 4).executeTakeFirstOrThrow()) as unknown as Record<string, unknown>;
      await ctx.db.deleteFrom('audit').where('seq', '=', 4).execute();
    });
    r = await hl(us.home, 'verify', '--json');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { problems: { where: string; code: string }[] }).problems).toContainEqual({ where: 'audit record #4', code: 'audit_removed', message: expect.stringContaining('#4 is missing') });
    await withNode(us.home, async (ctx) => {
      await ctx.db.insertInto('audit').values(saved as never).execute();
    });
    expect((await hl(us.home, 'verify')).code).toBe(0);

    // Two swapped records.
    await withNode(us.home, async (ctx) => {
      await ctx.db.updateTable('audit').set({ seq: 1_000_000 }).where('seq', '=', 2).execute();
      await ctx.db.updateTable('audit').set({ seq: 2 }).where('seq', '=', 3).execute();
      await ctx.db.updateTable('audit').set({ seq: 3 }).where('seq', '=', 1_000_000).execute();
    });
    r = await hl(us.home, 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/audit record #2 \(id [0-9a-f-]+\): audit_changed/);
    a = await us.start({ runPings: false, runReminders: false });
  });

  it('the receive path records nothing: receiving messages adds no audit record', async () => {
    const before = (await rowsOf(b)).length;
    for (let i = 0; i < 3; i++) {
      const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'routine', tlp: 'amber', text: 'x' } });
      await eventually(async () => ((await b.ctx.db.selectFrom('messages').select('id').where('id', '=', String(sent.json.id)).executeTakeFirst()) ? true : undefined));
    }
    expect((await rowsOf(b)).length).toBe(before);
  });
});
