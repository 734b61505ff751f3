/**
 * An acknowledgement names the authenticated user who made it (user name and display name from
 * the user record), never a name the caller types; the sender's node shows who it was.
 * docs/protocol.md section 5.9.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import type { Envelope } from '../src/modules/federation/federation.types.js';
import { api, type Api } from './helpers/api.js';
import { delivered, snapshot, until } from './helpers/cases.js';
import { makePair, type TestHome } from './helpers/nodes.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let ivan: string;

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start({ runPings: false });
  b = await ru.start({ runPings: false });
  onUs = api(us.url);
  onRu = api(ru.url);
  const added = await onRu('/api/v1/users', ru.token, { method: 'POST', body: { name: 'ivan', role: 'officer', channels: ['crisis'], display_name: 'Ivan P.' } });
  expect([added.status, added.json.display_name]).toEqual([201, 'Ivan P.']);
  const edited = await onRu('/api/v1/users/ivan', ru.token, { method: 'PATCH', body: { display_name: 'Ivan Petrov' } });
  expect([edited.status, edited.json.display_name]).toEqual([200, 'Ivan Petrov']);
  ivan = String((await onRu('/api/v1/tokens', ru.token, { method: 'POST', body: { user: 'ivan' } })).json.secret);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('an ack names who made it', () => {
  it('a name in the request is refused (400 invalid_argument) and nothing is sent; only an administrator edits display names', async () => {
    const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'status?' } });
    const id = String(sent.json.id);
    await delivered(a, id);
    const before = await snapshot(b);
    const typed = await onRu(`/api/v1/messages/${id}/ack`, ivan, { method: 'POST', body: { officer: 'anyone' } });
    expect([typed.status, typed.json.code]).toEqual([400, 'invalid_argument']);
    const self = await onRu('/api/v1/users/ivan', ivan, { method: 'PATCH', body: { display_name: 'Someone Else' } });
    expect([self.status, self.json.code]).toEqual([403, 'forbidden']);
    expect(await snapshot(b)).toEqual(before);
  });

  it('through an officer\'s token: the ack carries its user name and display name; the sender shows "Ivan Petrov (ivan)"', async () => {
    const sent = await onUs('/api/v1/messages', us.token, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'amber', text: 'status?' } });
    const id = String(sent.json.id);
    await delivered(a, id);
    const ack = await onRu(`/api/v1/messages/${id}/ack`, ivan, { method: 'POST', body: { text: 'read, on it' } });
    expect(ack.status, JSON.stringify(ack.json)).toBe(202);
    expect(ack.json).toMatchObject({ acknowledges: id, officer: 'Ivan Petrov', user: 'ivan', already: false });
    b.delivery.wake();
    await until(a, id, 'acknowledged');
    const shown = await onUs(`/api/v1/messages/${id}`, us.token);
    expect((shown.json.message as { acknowledged: unknown }).acknowledged).toEqual({ officer: 'Ivan Petrov', user: 'ivan', at: ack.json.at, ack_id: ack.json.ack_id });
    const env = (await onUs(`/api/v1/messages/${String(ack.json.ack_id)}`, us.token)).json.envelope as Envelope;
    expect(env.body).toMatchObject({ sender: 'ivan', fields: { acknowledges: id, officer: 'Ivan Petrov' } });
  });
});
