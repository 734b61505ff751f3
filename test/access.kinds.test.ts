/**
 * Kinds only the node emits (messaging.kinds.ts NODE_KINDS) are refused on the generic send, the
 * REST route, `hotline send` and replies, with `reserved_kind` naming the command that emits
 * them; nothing is queued. docs/protocol.md section 5.3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { NODE_KINDS, PERSON_KINDS } from '../src/modules/messaging/messaging.kinds.js';
import { KINDS } from '../src/modules/federation/federation.types.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { ensureBuilt, exits } from './helpers/cli.js';
import { makePair, type TestHome } from './helpers/nodes.js';
import { snapshot } from './helpers/stores.js';

let us: TestHome;
let a: RunningNode;
let onUs: Api;
let officer: string;
/** A message this node holds, to reply to. */
let received: string;

const NODE_ONLY = Object.keys(NODE_KINDS);

beforeAll(async () => {
  ensureBuilt();
  [us] = await makePair();
  a = await us.start({ runDelivery: false, runPings: false });
  onUs = api(us.url);
  ({ carol: officer } = await usersWithTokens(onUs, us.token, { carol: ['crisis'] }) as { carol: string });
  const sent = await onUs('/api/v1/messages', officer, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'routine', tlp: 'green', text: 'status?' } });
  expect(sent.status, JSON.stringify(sent.json)).toBe(202);
  received = String(sent.json.id);
});
afterAll(async () => {
  await a?.stop();
});

describe('node-only kinds', () => {
  it('are data: ack, ping, pong, case-close, directory-update, indicators and key-change; every other kind is a person\'s', () => {
    expect(NODE_ONLY.sort()).toEqual(['ack', 'case-close', 'directory-update', 'indicators', 'key-change', 'ping', 'pong']);
    expect([...PERSON_KINDS, ...NODE_ONLY].sort()).toEqual([...KINDS].sort());
  });

  it.each(NODE_ONLY)('POST /api/v1/messages {"kind":"%s"}, by an officer and by the administrator → 400 reserved_kind, nothing queued', async (kind) => {
    const before = await snapshot(a.ctx.db);
    for (const token of [officer, us.token]) {
      const r = await onUs('/api/v1/messages', token, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind, priority: 'routine', tlp: 'green', text: 'x' } });
      expect([r.status, r.json.code]).toEqual([400, 'reserved_kind']);
      expect(String(r.json.detail)).toContain(`Kind "${kind}" is sent only by ${NODE_KINDS[kind as keyof typeof NODE_KINDS]!}`);
    }
    expect(await snapshot(a.ctx.db)).toEqual(before);
  });

  it.each(['ack', 'pong', 'case-close'])('POST /api/v1/messages/:id/reply {"kind":"%s"} → 400 reserved_kind, nothing queued', async (kind) => {
    const before = await snapshot(a.ctx.db);
    const r = await onUs(`/api/v1/messages/${received}/reply`, officer, { method: 'POST', body: { kind, text: 'x' } });
    expect([r.status, r.json.code]).toEqual([400, 'reserved_kind']);
    expect(await snapshot(a.ctx.db)).toEqual(before);
  });

  it('hotline send --kind key-change and --kind ack exit 2 with reserved_kind; hotline reply --kind pong too; nothing queued', async () => {
    const before = await snapshot(a.ctx.db);
    await exits(2, /error \[reserved_kind\]: Kind "key-change" is sent only by "hotline key rotate"/, us.home, 'send', '--to', 'ru', '--channel', 'crisis', '--kind', 'key-change', '--text', 'x');
    await exits(2, /error \[reserved_kind\]: Kind "ack" is sent only by "hotline ack ID"/, us.home, 'send', '--to', 'ru', '--channel', 'crisis', '--kind', 'ack', '--text', 'x', '--as', 'carol');
    await exits(2, /error \[reserved_kind\]/, us.home, 'reply', received, '--kind', 'pong', '--text', 'x');
    expect(await snapshot(a.ctx.db)).toEqual(before);
  });
});
