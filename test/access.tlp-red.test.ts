/**
 * Who reads a TLP:RED body: its named recipients and its writer, nobody else, not even the node
 * administrator (docs/protocol.md sections 5.6 and 13.1). One rule (messaging.visibility
 * `canRead`) for every view: the matrix below is role × endpoint × TLP over two real nodes, and
 * a body must be visible exactly where the rule says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import type { Transcript } from '../src/modules/transcripts/transcripts.types.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { ensureBuilt, json, ok } from './helpers/cli.js';
import { eventually, makePair, tempDir, type TestHome } from './helpers/nodes.js';
import { publishRedRecipients } from './helpers/red.js';

const SECRET = { red: 'RED-SECRET the source is a liaison officer', amber: 'AMBER-SECRET the grid operator is affected' } as const;
type Tlp = keyof typeof SECRET;

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
const calls: Record<string, Api> = {};
const tokens: Record<string, string> = {};
const ids: Record<Tlp, string> = { red: '', amber: '' };

interface Role {
  role: string;
  /** The node it is on, its token there, and its `--as` for the CLI (none: the node administrator). */
  node: 'us' | 'ru';
  token: () => string;
  as?: string;
  /** May it read a red body? (The rule, stated once for the test: the named recipient and the writer.) */
  readsRed: boolean;
}

const ROLES: Role[] = [
  { role: 'administrator of the receiving node', node: 'ru', token: () => ru.token, readsRed: false },
  { role: 'officer named as recipient', node: 'ru', token: () => tokens.alice!, as: 'alice', readsRed: true },
  { role: 'officer not named', node: 'ru', token: () => tokens.bob!, as: 'bob', readsRed: false },
  { role: 'writer', node: 'us', token: () => tokens.carol!, as: 'carol', readsRed: true },
  { role: 'administrator of the sending node', node: 'us', token: () => us.token, readsRed: false },
  { role: 'other officer of the sending node', node: 'us', token: () => tokens.dave!, as: 'dave', readsRed: false },
];

beforeAll(async () => {
  ensureBuilt();
  [us, ru] = await makePair();
  a = await us.start();
  b = await ru.start();
  calls.us = api(us.url);
  calls.ru = api(ru.url);
  Object.assign(tokens, await usersWithTokens(calls.us, us.token, { carol: ['cert'], dave: ['cert'] }));
  Object.assign(tokens, await usersWithTokens(calls.ru, ru.token, { alice: ['cert'], bob: ['cert'] }));
  await publishRedRecipients(b, a, 'cert', ['alice']);
  for (const tlp of ['red', 'amber'] as const) {
    const sent = await calls.us('/api/v1/messages', tokens.carol!, {
      method: 'POST',
      body: { to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp, text: SECRET[tlp], ...(tlp === 'red' ? { recipients: ['alice'] } : {}) },
    });
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    ids[tlp] = String(sent.json.id);
  }
  await eventually(async () => {
    const got = (await calls.ru!('/api/v1/messages?direction=in', ru.token)).json.messages as { id: string }[];
    return Object.values(ids).every((id) => got.some((m) => m.id === id)) ? true : undefined;
  });
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const home = (r: Role): string => (r.node === 'us' ? us.home : ru.home);
const asArgs = (r: Role): string[] => (r.as === undefined ? [] : ['--as', r.as]);

/** Where a message's body can come out, each answering whether the secret text came out. */
const ENDPOINTS: [string, (r: Role, tlp: Tlp) => Promise<boolean>][] = [
  ['GET /api/v1/messages/:id', async (r, tlp) => {
    const res = await calls[r.node]!(`/api/v1/messages/${ids[tlp]}`, r.token());
    expect(res.status).toBe(200);
    return JSON.stringify(res.json).includes(SECRET[tlp]);
  }],
  ['GET /api/v1/messages (inbox, or outbox on the sending node)', async (r, tlp) => {
    const res = await calls[r.node]!(`/api/v1/messages?direction=${r.node === 'us' ? 'out' : 'in'}&limit=1000`, r.token());
    const m = (res.json.messages as { id: string }[]).find((x) => x.id === ids[tlp]);
    expect(m).toBeDefined();
    return JSON.stringify(m).includes(SECRET[tlp]);
  }],
  ['GET /api/v1/cases/:id', async (r, tlp) => {
    const res = await calls[r.node]!(`/api/v1/cases/${ids[tlp]}`, r.token());
    expect(res.status).toBe(200);
    return JSON.stringify(res.json).includes(SECRET[tlp]);
  }],
  ['GET /api/v1/cases/:id/transcript?include_red=true', async (r, tlp) => {
    const res = await fetch(`${r.node === 'us' ? us.url : ru.url}/api/v1/cases/${ids[tlp]}/transcript?include_red=true`, { headers: { authorization: `Bearer ${r.token()}` } });
    expect(res.status).toBe(200);
    const t = JSON.parse(await res.text()) as Transcript;
    const inFile = t.messages.some((m) => m.envelope.id === ids[tlp]);
    expect(inFile).toBe(!t.withheld.some((w) => w.id === ids[tlp]));
    return inFile && JSON.stringify(t).includes(SECRET[tlp]);
  }],
  ['hotline transcript --include-red [--as USER]', async (r, tlp) => {
    const out = join(tempDir('hotline-access-'), 'case.json');
    await ok(home(r), 'transcript', '--case', ids[tlp], '--out', out, '--include-red', ...asArgs(r));
    const t = JSON.parse(readFileSync(out, 'utf8')) as Transcript;
    expect(t.exported_for).toBe(r.as ?? 'admin');
    return t.messages.some((m) => m.envelope.id === ids[tlp]) && readFileSync(out, 'utf8').includes(SECRET[tlp]);
  }],
  ['hotline show ID [--as USER]', async (r, tlp) => JSON.stringify(await json(home(r), 'show', ids[tlp], ...asArgs(r))).includes(SECRET[tlp])],
];

describe.each(ENDPOINTS)('%s', (_name, shows) => {
  it.each(ROLES.flatMap((r) => (['red', 'amber'] as const).map((tlp) => [r.role, tlp, r] as const)))('%s, TLP:%s', async (_role, tlp, r) => {
    expect(await shows(r, tlp)).toBe(tlp === 'amber' || r.readsRed);
  });
});
