/**
 * Issue 10, the duty officer's tools on the CLI and REST, between two real nodes on loopback: the
 * queue (what to acknowledge, FLASH first, TLP:RED only for its recipients, machine traffic never),
 * the inbox's filters, its full-text search (a Russian label found by a Russian word in an alert
 * written in English), cursor paging, and short ids (a unique prefix works; an ambiguous one is
 * exit 2 listing the candidates; fewer than 8 characters is exit 2).
 */
import { publishRedRecipients } from './helpers/red.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens } from './helpers/api.js';
import { ensureBuilt, exits, json, ok } from './helpers/cli.js';
import { eventually, makePair, tempDir, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let tokens: Record<string, string>;

interface QueueItem { id: string; priority: string; kind: string; from: string; channel: string; case: string; due_at: string; overdue: boolean; summary: string }
interface Listed { id: string; kind: string; priority: string; channel: string; summary: string; ack: { due_at: string; acknowledged_at: string | null; overdue: boolean } | null; answered: boolean; redacted?: string }
interface Page { messages: Listed[]; next: string | null }

const ALERT = [
  '--kind', 'crisis-alert', '--priority', 'flash', '--field', 'incident_category=ddos', '--field', 'affected_sectors=energy',
  '--field', 'observed_window=2026-11-30T08:00:00Z/2026-11-30T09:00:00Z', '--field', 'requested_actions=mitigate', '--field', 'confidence=high',
  '--text', 'Volumetric attack on the grid operator',
];
const ids: Record<string, string> = {};

async function send(name: string, ...args: string[]): Promise<void> {
  ids[name] = (await ok(us.home, 'send', '--to', 'ru', ...args)).trim();
}

const inbox = (...args: string[]): Promise<Page> => json<Page>(ru.home, 'inbox', ...args);

beforeAll(async () => {
  ensureBuilt();
  [us, ru] = await makePair();
  a = await us.start();
  b = await ru.start();
  tokens = await usersWithTokens(api(b.address), ru.token, { alice: ['crisis'], bob: ['crisis'], carla: ['cert'] });
  // ru publishes alice as a TLP:RED recipient on crisis, or us may not send RED to her (unknown_recipient).
  await publishRedRecipients(b, a, 'crisis', ['alice']);
  await send('routine', '--channel', 'crisis', '--kind', 'notification', '--priority', 'routine', '--text', 'Scanning from 198.51.100.7 continues\nsecond line');
  await send('alert', '--channel', 'crisis', ...ALERT);
  await send('inquiry', '--channel', 'cert', '--kind', 'inquiry', '--priority', 'immediate', '--text', 'Who owns AS64500?');
  await send('red', '--channel', 'crisis', '--kind', 'notification', '--priority', 'priority', '--tlp', 'red', '--recipients', 'alice', '--text', 'Mole in the grid operator');
  await ok(us.home, 'ping', '--to', 'ru', '--channel', 'crisis');
  await eventually(async () => ((await inbox('--limit', '100')).messages.length === 5 ? true : undefined));
}, 120_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

describe('hotline queue', () => {
  it('lists what the user must acknowledge, FLASH first then by due time, in the documented JSON shape; a ping pages nobody', async () => {
    const q = (await json<{ queue: QueueItem[] }>(ru.home, 'queue')).queue;
    // The administrator is not a recipient of the TLP:RED notification: not in its queue.
    expect(q.map((i) => i.id)).toEqual([ids.alert, ids.inquiry, ids.routine]);
    expect(Object.keys(q[0]!)).toEqual(['id', 'priority', 'kind', 'from', 'channel', 'case', 'due_at', 'overdue', 'summary']);
    expect(q[0]).toMatchObject({ priority: 'flash', kind: 'crisis-alert', from: 'us', channel: 'crisis', case: ids.alert, overdue: false });
    expect(q[0]!.summary).toMatch(/^Crisis alert: /);
    expect(q.find((i) => i.id === ids.routine)!.summary).toBe('Notification: Scanning from 198.51.100.7 continues');
    const text = await ok(ru.home, 'queue');
    expect(text.split('\n')[1]).toMatch(/^FLASH +in \d+m \d+s +[0-9a-f-]{8,} +crisis-alert +us +crisis +Crisis alert: /);
  });

  it('is per user: only its channels, and a TLP:RED message only for its recipients; REST answers the same', async () => {
    const queueOf = async (user: string): Promise<string[]> => (await json<{ queue: QueueItem[] }>(ru.home, 'queue', '--as', user)).queue.map((i) => i.id);
    expect(await queueOf('alice')).toEqual([ids.alert, ids.red, ids.routine]);
    expect(await queueOf('bob')).toEqual([ids.alert, ids.routine]);
    expect(await queueOf('carla')).toEqual([ids.inquiry]);
    const r = await api(b.address)('/api/v1/queue', tokens.bob!);
    expect(r.status).toBe(200);
    expect((r.json!.queue as QueueItem[]).map((i) => i.id)).toEqual([ids.alert, ids.routine]);
  });

  it('an acknowledged message leaves the queue', async () => {
    await ok(ru.home, 'ack', ids.routine!, '--as', 'bob');
    const q = (await json<{ queue: QueueItem[] }>(ru.home, 'queue', '--as', 'bob')).queue.map((i) => i.id);
    expect(q).toEqual([ids.alert]);
  });
});

describe('hotline peer ack-policy', () => {
  it('shows which kinds wait for a person and records what a pair agreed; bad input changes nothing', async () => {
    interface Kinds { kinds: { kind: string; policy: string; source: string }[] }
    const policyOf = (r: Kinds, kind: string): unknown => r.kinds.find((k) => k.kind === kind);
    const shown = await json<Kinds>(ru.home, 'peer', 'ack-policy', 'us');
    expect(policyOf(shown, 'indicators')).toEqual({ kind: 'indicators', policy: 'none', source: 'default' });
    expect(policyOf(shown, 'crisis-alert')).toEqual({ kind: 'crisis-alert', policy: 'person', source: 'default' });
    expect(await ok(ru.home, 'peer', 'ack-policy', 'us')).toMatch(/ping +nobody \(machine traffic\) +ack-policy\.json/);
    await exits(2, /unknown_kind/, ru.home, 'peer', 'ack-policy', 'us', '--person', 'indicators,telegram');
    await exits(1, /unknown_peer/, ru.home, 'peer', 'ack-policy', 'fr', '--person', 'indicators');
    expect(policyOf(await json<Kinds>(ru.home, 'peer', 'ack-policy', 'us'), 'indicators')).toMatchObject({ source: 'default' });
    const set = await json<Kinds>(ru.home, 'peer', 'ack-policy', 'us', '--person', 'indicators', '--none', 'response');
    expect(policyOf(set, 'indicators')).toEqual({ kind: 'indicators', policy: 'person', source: 'agreed' });
    expect(policyOf(set, 'response')).toEqual({ kind: 'response', policy: 'none', source: 'agreed' });
    // REST, the administrator's: back to the file.
    const call = api(b.address);
    expect((await call('/api/v1/peers/us/ack-policy', tokens.bob!, { method: 'PUT', body: { indicators: 'default' } })).status).toBe(403);
    const r = await call('/api/v1/peers/us/ack-policy', ru.token, { method: 'PUT', body: { indicators: 'default', response: 'default' } });
    expect(r.status).toBe(200);
    expect((r.json as unknown as Kinds).kinds.filter((k) => k.source === 'agreed')).toEqual([]);
  });
});

describe('hotline inbox: filters, search, paging', () => {
  it('filters by priority, kind, channel, from, state and since, each narrowing', async () => {
    const idsOf = async (...args: string[]): Promise<string[]> => (await inbox(...args)).messages.map((m) => m.id).sort();
    expect(await idsOf('--priority', 'flash')).toEqual([ids.alert]);
    expect(await idsOf('--kind', 'notification')).toEqual([ids.routine, ids.red].sort());
    expect(await idsOf('--channel', 'cert')).toEqual([ids.inquiry]);
    expect(await idsOf('--from', 'us', '--kind', 'inquiry,crisis-alert')).toEqual([ids.alert, ids.inquiry].sort());
    expect(await idsOf('--from', 'fr')).toEqual([]);
    expect(await idsOf('--state', 'acked')).toEqual([ids.routine]);
    expect(await idsOf('--state', 'unacked')).toEqual([ids.alert, ids.inquiry, ids.red].sort());
    expect(await idsOf('--state', 'overdue')).toEqual([]);
    expect(await idsOf('--since', '1h')).toHaveLength(5);
    expect(await idsOf('--since', '2000-01-01T00:00:00Z', '--kind', 'ping')).toHaveLength(1);
    expect(await idsOf('--case', ids.inquiry!)).toEqual([ids.inquiry]);
    await exits(2, /unknown_priority/, ru.home, 'inbox', '--priority', 'urgent');
    await exits(2, /invalid_argument.*unacked, acked, overdue, answered/, ru.home, 'inbox', '--state', 'read');
    await exits(2, /invalid_argument.*--since/, ru.home, 'inbox', '--since', 'yesterday');
  });

  it('answered: a reply marks the message it answers', async () => {
    await ok(ru.home, 'reply', ids.inquiry!, '--text', 'AS64500 is documentation space');
    const answered = await inbox('--state', 'answered');
    expect(answered.messages.map((m) => m.id)).toEqual([ids.inquiry]);
    expect(answered.messages[0]!.answered).toBe(true);
    const onUs = await json<Page>(us.home, 'outbox', '--state', 'answered');
    expect(onUs.messages.map((m) => m.id)).toEqual([]);
    await eventually(async () => ((await json<Page>(us.home, 'outbox', '--state', 'answered')).messages.length === 1 ? true : undefined));
  });

  it('shows the columns a person reads: short id, priority, kind, from, due/ack state, summary', async () => {
    const text = await ok(ru.home, 'inbox', '--kind', 'crisis-alert,notification');
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^ID +PRIORITY +KIND +FROM +CHANNEL +STATE +SUMMARY$/);
    expect(text).toMatch(new RegExp(`\\n${ids.alert!.slice(0, 8)}[0-9a-f-]* +FLASH +crisis-alert +us +crisis +received, ack due in \\d+m \\d+s +Crisis alert: `));
    expect(text).toMatch(/ROUTINE +notification +us +crisis +received, acked by \S.* +Notification: Scanning from 198\.51\.100\.7 continues/);
    expect(text).toContain('TLP:RED — visible only to alice');
    expect(text).not.toContain('Mole');
  });

  it('--search finds a Russian label by a Russian word in an alert written in English, English words in the text, any case; never a TLP:RED body the reader may not read', async () => {
    expect((await inbox('--search', 'оповещение')).messages.map((m) => m.id)).toEqual([ids.alert]);
    expect((await inbox('--search', 'ЭНЕРГЕТИКА')).messages.map((m) => m.id)).toEqual([ids.alert]);
    expect((await inbox('--search', 'volumetric grid')).messages.map((m) => m.id)).toEqual([ids.alert]);
    expect((await inbox('--search', 'scann')).messages.map((m) => m.id)).toEqual([ids.routine]);
    expect((await inbox('--search', 'nothing-like-this')).messages).toEqual([]);
    // The red notification matches "grid operator" only for its recipient.
    expect((await json<Page>(ru.home, 'inbox', '--search', 'mole', '--as', 'alice')).messages.map((m) => m.id)).toEqual([ids.red]);
    expect((await json<Page>(ru.home, 'inbox', '--search', 'mole', '--as', 'bob')).messages).toEqual([]);
    expect((await json<Page>(ru.home, 'inbox', '--search', 'mole')).messages).toEqual([]);
    // REST: the same search.
    const r = await api(b.address)(`/api/v1/messages?search=${encodeURIComponent('оповещение')}`, tokens.alice!);
    expect((r.json!.messages as Listed[]).map((m) => m.id)).toEqual([ids.alert]);
    await exits(2, /invalid_argument.*--search needs at least one word/, ru.home, 'inbox', '--search', '"*"');
  });

  it('pages with an opaque cursor: every message once, newest first, then next is null', async () => {
    const all = (await inbox('--limit', '100')).messages.map((m) => m.id);
    expect(all).toHaveLength(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: Page = await inbox('--limit', '2', ...(cursor === null ? [] : ['--cursor', cursor]));
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.next;
      if (cursor === null) break;
    }
    expect(seen).toEqual(all);
    expect(await ok(ru.home, 'inbox', '--limit', '2')).toMatch(/\(more: add --cursor \S+\)/);
    await exits(2, /invalid_argument.*cursor/, ru.home, 'inbox', '--cursor', 'bm9wZQ');
    // REST: next is given, and follows on.
    const p1 = await api(b.address)('/api/v1/messages?limit=3', ru.token);
    const p2 = await api(b.address)(`/api/v1/messages?limit=3&cursor=${String(p1.json!.next)}`, ru.token);
    expect([...(p1.json!.messages as Listed[]), ...(p2.json!.messages as Listed[])].map((m) => m.id)).toEqual(all);
    expect(p2.json!.next).toBeNull();
  });
});

describe('short ids', () => {
  it('a unique prefix works wherever a message or case id is taken; listings show the shortest unique prefix', async () => {
    const text = await ok(ru.home, 'inbox', '--channel', 'cert');
    const short = /\n(\S+) +IMMEDIATE/.exec(text)![1]!;
    expect(short.length).toBeGreaterThanOrEqual(8);
    expect(ids.inquiry!.startsWith(short)).toBe(true);
    expect(await json<{ message: { id: string } }>(ru.home, 'show', short)).toMatchObject({ message: { id: ids.inquiry } });
    const shown = await json<{ case: { id: string }; messages: { id: string; in_reply_to: string | null }[] }>(ru.home, 'case', 'show', short);
    expect(shown.case.id).toBe(ids.inquiry);
    expect(shown.messages.map((m) => m.id)[0]).toBe(ids.inquiry);
    // The transcript takes it too.
    const transcript = await json<{ case: string; messages: number }>(ru.home, 'transcript', '--case', short, '--out', join(tempDir('hotline-transcript-'), 't.json'));
    expect(transcript.case).toBe(ids.inquiry);
    expect(transcript.messages).toBeGreaterThan(0);
    const r = await api(b.address)(`/api/v1/messages/${short}`, ru.token);
    expect(r.status).toBe(200);
    expect((r.json!.message as { id: string }).id).toBe(ids.inquiry);
  });

  it('an ambiguous prefix is exit 2 listing the candidates; fewer than 8 characters is exit 2; no match is exit 1', async () => {
    // UUIDv7 ids made within the same ~65 s share their first 8 characters (the time): of the
    // cases opened here (at most two such windows), at least two share them.
    const sharing = (list: readonly string[]): string[] => {
      const groups = new Map<string, string[]>();
      for (const id of list) groups.set(id.slice(0, 8), [...(groups.get(id.slice(0, 8)) ?? []), id]);
      return [...groups.values()].find((g) => g.length >= 2)!.sort();
    };
    const cases = sharing((await json<{ cases: { id: string }[] }>(ru.home, 'cases')).cases.map((c) => c.id));
    const common = cases[0]!.slice(0, 8);
    const messages = (await json<Page>(ru.home, 'inbox', '--limit', '100')).messages.map((m) => m.id)
      .concat((await json<Page>(ru.home, 'outbox', '--limit', '100')).messages.map((m) => m.id)).filter((id) => id.startsWith(common)).sort();
    await exits(2, new RegExp(`error \\[ambiguous_id\\]: "${common}" is the start of several message ids; type more of it\\. Candidates: ${messages.join(', ')}$`, 'm'), ru.home, 'show', common);
    await exits(2, new RegExp(`error \\[ambiguous_id\\]: "${common}" is the start of several case ids; type more of it\\. Candidates: ${cases.join(', ')}$`, 'm'), ru.home, 'case', 'show', common);
    await exits(2, /error \[invalid_argument\]: "0194" is not a message id: give the id, or at least its first 8 characters/, ru.home, 'show', '0194');
    await exits(1, /error \[not_found\]: No message ffffffff on this node/, ru.home, 'show', 'ffffffff');
    const r = await api(b.address)(`/api/v1/messages/${common}`, ru.token);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'ambiguous_id' });
  });
});
