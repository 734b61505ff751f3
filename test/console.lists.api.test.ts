/**
 * Issue 11, what the console's lists need from the REST API (bearer tokens): the outbox's delivery
 * state per message (retrying with the next attempt and the last error while the peer is down,
 * then receipted) with each message's short id; handing the duty over to a chosen person
 * (POST /api/v1/rota/:channel/hand-over): the one on duty or an administrator, nobody else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode | undefined;
let onUs: Api;
let tokens: Record<string, string>;

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false });
  onUs = api(us.url);
  tokens = await usersWithTokens(onUs, us.token, { anna: ['crisis'], boris: ['crisis'], carl: ['cert'] });
  for (const [name, user] of [['Anna Adams', 'anna'], ['Boris Brown', 'boris']] as const) {
    const c = await onUs('/api/v1/contacts', us.token, { method: 'POST', body: { channel: 'crisis', function: 'Crisis desk duty officer', name, user } });
    expect(c.status, JSON.stringify(c.json)).toBe(201);
  }
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

type Listed = { id: string; short_id: string; state: string; attempts?: number; next_attempt_at?: string | null; last_error?: string | null; receipted_at: string | null };

describe('the outbox over REST', () => {
  it('shows a message to a stopped peer as retrying with its next attempt and last error, then receipted once the peer runs', async () => {
    const sent = await onUs('/api/v1/messages', tokens.anna!, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'routine', tlp: 'amber', text: 'Outbox delivery test' } });
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    const id = String(sent.json.id);
    const retrying = await eventually(async () => {
      const m = ((await onUs('/api/v1/messages?direction=out', tokens.anna!)).json.messages as Listed[]).find((x) => x.id === id);
      return m?.state === 'retrying' && m.last_error != null ? m : undefined;
    });
    expect(retrying.attempts).toBeGreaterThan(0);
    expect(Date.parse(String(retrying.next_attempt_at))).not.toBeNaN();
    expect(retrying.short_id.length).toBeGreaterThanOrEqual(8);
    expect(id.startsWith(retrying.short_id)).toBe(true);
    expect(retrying.receipted_at).toBeNull();
    // A cert officer sees nothing of the crisis channel's outbox.
    expect((await onUs('/api/v1/messages?direction=out', tokens.carl!)).json.messages).toEqual([]);

    b = await ru.start({ runPings: false });
    const delivered = await eventually(async () => {
      const m = ((await onUs('/api/v1/messages?direction=out', tokens.anna!)).json.messages as Listed[]).find((x) => x.id === id);
      return m?.state === 'delivered' ? m : undefined;
    });
    expect(Date.parse(String(delivered.receipted_at))).not.toBeNaN();
  });
});

describe('handing the duty over', () => {
  const until = () => new Date(Date.now() + 4 * 3_600_000).toISOString();
  const primary = async (): Promise<string | undefined> => {
    const duty = (await onUs('/api/v1/rota', tokens.anna!)).json.duty as { channel: string; now: { position: string; contact: { name: string }; source: string }[] }[];
    return duty.find((d) => d.channel === 'crisis')?.now.find((s) => s.position === 'primary')?.contact.name;
  };

  it('is documented under the directory tag', async () => {
    const doc = (await onUs('/openapi.json', null)).json as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(doc.paths['/api/v1/rota/{channel}/hand-over']?.post?.tags).toEqual(['directory']);
  });

  it('the one on duty hands it to a chosen person; someone not on duty cannot; refusals change nothing', async () => {
    const took = await onUs('/api/v1/rota/crisis/take', tokens.anna!, { method: 'POST', body: { until: until() } });
    expect(took.status, JSON.stringify(took.json)).toBe(201);
    expect(await primary()).toBe('Anna Adams');

    const notOnDuty = await onUs('/api/v1/rota/crisis/hand-over', tokens.boris!, { method: 'POST', body: { to: 'Boris Brown', until: until() } });
    expect([notOnDuty.status, notOnDuty.json.code]).toEqual([403, 'forbidden']);
    expect(String(notOnDuty.json.detail)).toContain('Anna Adams');
    const otherChannel = await onUs('/api/v1/rota/crisis/hand-over', tokens.carl!, { method: 'POST', body: { to: 'Boris Brown', until: until() } });
    expect([otherChannel.status, otherChannel.json.code]).toEqual([403, 'forbidden']);
    const nobody = await onUs('/api/v1/rota/crisis/hand-over', tokens.anna!, { method: 'POST', body: { to: 'Nobody Here', until: until() } });
    expect([nobody.status, nobody.json.code]).toEqual([404, 'not_found']);
    const past = await onUs('/api/v1/rota/crisis/hand-over', tokens.anna!, { method: 'POST', body: { to: 'Boris Brown', until: '2020-01-01T00:00:00Z' } });
    expect([past.status, past.json.code]).toEqual([400, 'invalid_argument']);
    const self = await onUs('/api/v1/rota/crisis/hand-over', tokens.anna!, { method: 'POST', body: { to: 'anna', until: until() } });
    expect([self.status, self.json.code]).toEqual([400, 'invalid_argument']);
    expect(await primary()).toBe('Anna Adams');

    const handed = await onUs('/api/v1/rota/crisis/hand-over', tokens.anna!, { method: 'POST', body: { to: 'Boris Brown', until: until() } });
    expect(handed.status, JSON.stringify(handed.json)).toBe(201);
    expect(handed.json).toMatchObject({ channel: 'crisis', position: 'primary', contact: { name: 'Boris Brown', user: 'boris' }, taken_by: 'anna' });
    expect(await primary()).toBe('Boris Brown');
    // Anna is no longer on duty: she cannot hand it over again; the administrator can.
    const again = await onUs('/api/v1/rota/crisis/hand-over', tokens.anna!, { method: 'POST', body: { to: 'Anna Adams', until: until() } });
    expect(again.status).toBe(403);
    const byAdmin = await onUs('/api/v1/rota/crisis/hand-over', us.token, { method: 'POST', body: { to: 'Anna Adams', until: until() } });
    expect(byAdmin.status, JSON.stringify(byAdmin.json)).toBe(201);
    expect(await primary()).toBe('Anna Adams');

    const audit = await onUs('/api/v1/audit?action=rota.override', us.token);
    expect(JSON.stringify(audit.json)).toContain('handed_over_to');
  });
});
