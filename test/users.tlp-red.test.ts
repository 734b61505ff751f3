/**
 * TLP:RED over real HTTP: a red message names its recipients at the receiving node; its body is
 * shown only to them there, and to the user who wrote it on the sending node. Everyone else who
 * holds the channel sees it listed, redacted; those who do not hold the channel do not see it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { appendAll, enqueue } from '../src/modules/federation/federation.outbox.js';
import { HotlineError } from '../src/shared/errors.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { eventually, makePair, type TestHome } from './helpers/nodes.js';
import { snapshot } from './helpers/stores.js';
import { publishRedRecipients } from './helpers/red.js';

let us: TestHome;
let ru: TestHome;
let a: RunningNode;
let b: RunningNode;
let onUs: Api;
let onRu: Api;
let usTokens: Record<string, string>;
let ruTokens: Record<string, string>;
let redId: string;

const TEXT = 'Indicators of the intrusion at the grid operator: see fields';
const red = { to: 'ru', channel: 'cert', kind: 'notification', priority: 'flash', tlp: 'red', text: TEXT, recipients: ['alice'] };

interface Shown {
  message: { id: string; text: string | null; tlp: string; redacted?: string; sender: string | null; recipients: string[] | null };
  envelope: { body: Record<string, unknown>; sig: string };
}

async function listed(call: Api, token: string, direction: 'in' | 'out'): Promise<Shown['message'][]> {
  const r = await call(`/api/v1/messages?direction=${direction}&limit=1000`, token);
  expect(r.status).toBe(200);
  return r.json.messages as Shown['message'][];
}

async function outboxOfUs(): Promise<unknown> {
  return (await onUs('/api/v1/messages?direction=out&limit=1000', us.token)).json;
}

beforeAll(async () => {
  [us, ru] = await makePair();
  a = await us.start();
  b = await ru.start();
  onUs = api(us.url);
  onRu = api(ru.url);
  usTokens = await usersWithTokens(onUs, us.token, { carol: ['cert'], dave: ['cert'], erin: ['law'] });
  ruTokens = await usersWithTokens(onRu, ru.token, { alice: ['cert'], bob: ['cert'], lena: ['law'] });
  await publishRedRecipients(b, a, 'cert', ['alice']);
  const sent = await onUs('/api/v1/messages', usTokens.carol!, { method: 'POST', body: red });
  expect(sent.status, JSON.stringify(sent.json)).toBe(202);
  redId = String(sent.json.id);
  await eventually(async () => ((await listed(onRu, ru.token, 'in')).some((m) => m.id === redId) ? true : undefined));
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('TLP:RED on the receiving node', () => {
  it('the named recipient reads it: text, sender, recipients, the signed body', async () => {
    const [m] = await listed(onRu, ruTokens.alice!, 'in');
    expect(m).toMatchObject({ id: redId, tlp: 'red', text: TEXT, sender: 'carol', recipients: ['alice'] });
    expect(m!.redacted).toBeUndefined();
    const shown = (await onRu(`/api/v1/messages/${redId}`, ruTokens.alice!)).json as unknown as Shown;
    expect(shown.envelope.body).toMatchObject({ text: TEXT, sender: 'carol', recipients: ['alice'] });
  });

  it('others holding the channel, the administrator included, see it listed with its metadata and the body redacted', async () => {
    for (const token of [ruTokens.bob!, ru.token]) {
      const [m] = (await listed(onRu, token, 'in')).filter((x) => x.id === redId);
      expect(m).toMatchObject({ id: redId, tlp: 'red', text: null, redacted: 'TLP:RED — visible only to alice', recipients: ['alice'] });
      const r = await onRu(`/api/v1/messages/${redId}`, token);
      expect(r.status).toBe(200);
      const shown = r.json as unknown as Shown;
      expect(shown.message.redacted).toBe('TLP:RED — visible only to alice');
      expect(shown.envelope.body).toEqual({ redacted: 'TLP:RED — visible only to alice', sender: 'carol', recipients: ['alice'] });
      expect(JSON.stringify(r.json)).not.toContain('grid operator');
    }
  });

  it('a token without the channel does not see it at all', async () => {
    expect(await listed(onRu, ruTokens.lena!, 'in')).toEqual([]);
    const r = await onRu(`/api/v1/messages/${redId}`, ruTokens.lena!);
    expect([r.status, r.json.code]).toEqual([404, 'not_found']);
  });
});

describe('TLP:RED on the sending node', () => {
  it('the sender reads what it wrote; the other cert user and the administrator see it redacted; law does not see it', async () => {
    const mine = (await listed(onUs, usTokens.carol!, 'out')).find((m) => m.id === redId);
    expect(mine).toMatchObject({ text: TEXT, sender: 'carol', recipients: ['alice'] });
    const notice = 'TLP:RED — visible only to its sender carol (and, at ru, to alice)';
    for (const token of [usTokens.dave!, us.token]) {
      const r = await onUs(`/api/v1/messages/${redId}`, token);
      expect((r.json as unknown as Shown).message).toMatchObject({ text: null, redacted: notice });
      expect(JSON.stringify(r.json)).not.toContain('grid operator');
      expect((await listed(onUs, token, 'out')).find((m) => m.id === redId)).toMatchObject({ text: null, redacted: notice });
    }
    expect((await onUs(`/api/v1/messages/${redId}`, usTokens.erin!)).status).toBe(404);
    expect(await listed(onUs, usTokens.erin!, 'out')).toEqual([]);
  });
});

describe('TLP:RED refusals change nothing', () => {
  it.each([
    [{ ...red, recipients: undefined }, 'tlp_red_needs_recipients', /must name its recipients/],
    [{ ...red, recipients: [] }, 'tlp_red_needs_recipients', /none are named/],
    [{ ...red, recipients: ['Alice Smith'] }, 'tlp_red_needs_recipients', /not a user name/],
    [{ ...red, tlp: 'amber' }, 'invalid_argument', /TLP:RED messages only/],
  ])('POST %j → 400 %s', async (body, code, detail) => {
    const before = await outboxOfUs();
    const r = await onUs('/api/v1/messages', usTokens.carol!, { method: 'POST', body: JSON.parse(JSON.stringify(body)) as unknown });
    expect([r.status, r.json.code]).toEqual([400, code]);
    expect(String(r.json.detail)).toMatch(detail);
    expect(await outboxOfUs()).toEqual(before);
  });

  it('a path that bypasses the send form (the outbox itself) is refused by the hook, taking no seq', async () => {
    const before = await snapshot(a.ctx.db);
    const e = await enqueue(a.ctx, { to: 'ru', kind: 'notification', channel: 'cert', priority: 'flash', tlp: 'red', body: { text: 'no recipients' } })
      .then(() => undefined, (err: unknown) => err);
    expect((e as HotlineError).code).toBe('tlp_red_needs_recipients');
    expect(await snapshot(a.ctx.db)).toEqual(before);
  });

  // Last: it leaves the us→ru link blocked at the refused seq, as any permanent refusal does.
  it('a receiver refuses a red envelope without recipients (from a sender that does not check), storing nothing', async () => {
    const ruBefore = await snapshot(b.ctx.db);
    const [env] = await appendAll({ ...a.ctx, hooks: [] }, [{
      to: 'ru', kind: 'notification', channel: 'cert', priority: 'flash', tlp: 'red', body: { text: 'no recipients' },
    }]);
    if (env === undefined || env instanceof Error) throw new Error(`not queued: ${String(env)}`);
    a.delivery.wake();
    const link = await eventually(async () => {
      const l = await a.ctx.db.selectFrom('links').selectAll().where('from_party', '=', 'us').where('to_party', '=', 'ru').executeTakeFirstOrThrow();
      return l.last_error?.includes('tlp_red_needs_recipients') === true ? l : undefined;
    });
    expect(Number(link.acked_seq)).toBe(env.seq - 1);
    expect(await snapshot(b.ctx.db)).toEqual(ruBefore);
  });
});
