/**
 * What bad input gets on the feed paths that the exchange test does not drive: the CLI's own
 * options, `hotline ipdb import` of a bad file, and the REST endpoints for jurisdictions, uploads
 * and collections. Each is refused with its code and changes nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { ensureBuilt, hl, ok } from './helpers/cli.js';
import { makePair, tempDir, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let node: RunningNode;
let call: Api;
let tokens: Record<string, string>;
const dir = tempDir('hotline-feed-refusals-');

beforeAll(async () => {
  ensureBuilt();
  [us] = await makePair();
  await ok(us.home, 'feed', 'jurisdiction', 'set', 'ru', '--countries', 'RU');
  node = await us.start({ runDelivery: false });
  call = api(node.address);
  tokens = await usersWithTokens(call, us.token, { certo: ['cert'], lawo: ['law'] });
  writeFileSync(join(dir, 'ok.csv'), 'ip,port,timestamp,family,type\n198.51.100.1,80,2026-11-30T10:00:00Z,mirai,bot\n');
});
afterAll(async () => node?.stop());

const runsOf = async (): Promise<number> => (await node.ctx.db.selectFrom('feed_runs').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

describe('hotline feed ingest and ipdb import, refused', () => {
  it.each([
    [['feed', 'ingest', 'OK', '--tlp', 'white'], 2, /unknown_tlp.*"white"/],
    [['feed', 'ingest', 'OK', '--window-hours', '-1'], 2, /--window-hours must be a number of hours/],
    [['feed', 'ingest', 'OK', '--keep-days', '0'], 2, /--keep-days must be a positive number/],
    [['feed', 'ingest', 'OK', '--format', 'xml'], 2, /--format must be one of csv, jsonl, stix, auto/],
    [['feed', 'ingest', 'MISSING'], 2, /Cannot read .*missing\.csv/],
    [['feed', 'ingest', 'http://127.0.0.1:1/feed.csv'], 2, /Cannot fetch/],
    [['feed', 'show', 'not-a-run'], 1, /not_found/],
    [['feed', 'jurisdiction', 'set', 'ru', '--prefixes', '10.0.0.1/8'], 2, /host bits are set in "10.0.0.1\/8"; the prefix is 10.0.0.0\/8/],
    [['feed', 'jurisdiction', 'set', 'ru', '--asns', 'AS-12'], 2, /not an AS number/],
  ])('%j → exit %i, a message, no run recorded', async (args, code, message) => {
    const before = await runsOf();
    const r = await hl(us.home, ...args.map((a) => (a === 'OK' ? join(dir, 'ok.csv') : a === 'MISSING' ? join(dir, 'missing.csv') : a)));
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(await runsOf()).toBe(before);
  });

  it('ipdb import of a bad file names the line and changes nothing; a good one is used', async () => {
    const before = await ok(us.home, 'ipdb', 'status', '--json');
    writeFileSync(join(dir, 'bad.csv'), '1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.0.255,CN\n');
    const r = await hl(us.home, 'ipdb', 'import', join(dir, 'bad.csv'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ipdb_invalid.*line 2/);
    const after = JSON.parse(await ok(us.home, 'ipdb', 'status', '--json')) as { sources: { origin: string }[] };
    expect(after.sources.map((s) => s.origin)).toEqual((JSON.parse(before) as { sources: { origin: string }[] }).sources.map((s) => s.origin));
    expect(after.sources.every((s) => s.origin === 'package')).toBe(true);
    const k = await hl(us.home, 'ipdb', 'import', join(dir, 'bad.csv'), '--kind', 'nope');
    expect(k.code).toBe(2);
    expect(k.stderr).toMatch(/--kind must be one of/);
  });
});

describe('REST, refused', () => {
  it('jurisdictions: admin only; bad values are 400 and change nothing', async () => {
    const before = await node.ctx.jurisdictions.list();
    expect((await call('/api/v1/jurisdictions/ru', tokens.certo!, { method: 'PUT', body: { countries: ['FR'] } })).json.code).toBe('forbidden');
    for (const [body, code] of [[{ countries: ['FRA'] }, 'invalid_argument'], [{ prefixes: ['300.0.0.0/8'] }, 'invalid_argument'], [{ colour: 'red' }, 'invalid_argument']] as const) {
      const r = await call('/api/v1/jurisdictions/ru', us.token, { method: 'PUT', body });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe(code);
    }
    const unknown = await call('/api/v1/jurisdictions/xx', us.token, { method: 'PUT', body: { countries: ['DE'] } });
    expect(unknown.json.code).toBe('unknown_peer');
    expect(await node.ctx.jurisdictions.list()).toEqual(before);
  });

  it('feed uploads: cert only (403 for a law user), a bad format is 400, an empty body is 400; no run recorded', async () => {
    const before = await runsOf();
    const up = (token: string, q = '', body = 'ip\n198.51.100.1\n') => fetch(`${node.address}/api/v1/feed-runs${q}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body });
    expect((await up(tokens.lawo!)).status).toBe(403);
    expect((await up(tokens.certo!, '?format=xml')).status).toBe(400);
    const empty = await up(tokens.certo!, '', '');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { code: string }).code).toBe('feed_format');
    // Neither a body nor a Content-Type: fastify hands the route no stream at all; still an empty upload, not a 500.
    const none = await fetch(`${node.address}/api/v1/feed-runs`, { method: 'POST', headers: { authorization: `Bearer ${tokens.certo!}` } });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { code: string }).code).toBe('feed_format');
    expect((await fetch(`${node.address}/api/v1/feed-runs/nope`, { headers: { authorization: `Bearer ${tokens.certo!}` } })).status).toBe(404);
    expect(await runsOf()).toBe(before);
  });

  it('collections and indicators: admin only to add or grant; bad aliases and grants are refused, nothing changes', async () => {
    const count = async (): Promise<number> => (await node.ctx.db.selectFrom('taxii_collections').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await count();
    expect((await call('/api/v1/collections', tokens.certo!, { method: 'POST', body: { alias: 'x' } })).status).toBe(403);
    const bad = await call('/api/v1/collections', us.token, { method: 'POST', body: { alias: 'Not OK' } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('invalid_argument');
    expect((await call('/api/v1/collections/nope/grants', us.token, { method: 'PUT', body: { subject: 'user:certo', read: true, write: false } })).status).toBe(404);
    expect(await count()).toBe(before);
    const ind = await call('/api/v1/indicators', tokens.certo!, { method: 'POST', body: { to: 'ru', bundle: { type: 'bundle', id: 'bundle--x', objects: [] } } });
    expect(ind.status).toBe(422);
    expect(ind.json.code).toBe('bundle_invalid');
  });
});
