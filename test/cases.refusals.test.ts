/**
 * Issue 3, bad input for cases and acknowledgements: every refusal, outbound (what a person on
 * this node tries) and inbound (envelopes forged exactly as the peer would sign them, POSTed to a
 * real node), comes with its stable code and leaves the node's messages, links, cases and
 * acknowledgements as they were.
 */
import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/shared/ids.js';
import type { Envelope, UnsignedEnvelope } from '../src/modules/federation/federation.types.js';
import { compose, send, type SendInput } from '../src/modules/messaging/messaging.service.js';
import { ackMessage, closeCase, reply } from '../src/modules/cases/cases.service.js';
import type { RunningNode } from '../src/main.js';
import { makeHome, peerAll, tempDir, type TestHome } from './helpers/nodes.js';
import { caseState, delivered, forge, keyOf, post, snapshot, until } from './helpers/cases.js';

let a: RunningNode;
let b: RunningNode;
let ruKey: KeyObject;
let frKey: KeyObject;
/** us→ru: an inquiry (A), a notification (N), a closed inquiry (C), a ping (P); ru→us: a notification (R); us→fr: an inquiry (F, never delivered). */
const m = {} as Record<'A' | 'N' | 'C' | 'P' | 'R' | 'F', Envelope>;

const base = { to: 'ru', channel: 'crisis', priority: 'routine', tlp: 'amber' };
const text = (t: string): SendInput => ({ ...base, kind: 'response', text: t });

beforeAll(async () => {
  const dir = tempDir();
  const homes: TestHome[] = [];
  for (const party of ['us', 'ru', 'fr']) homes.push(await makeHome(party, {}, dir));
  await peerAll(...homes);
  ruKey = keyOf(homes[1]!);
  frKey = keyOf(homes[2]!);
  a = await homes[0]!.start({ runPings: false });
  b = await homes[1]!.start({ runPings: false });
  m.A = await send(a.ctx, { ...base, kind: 'inquiry', text: 'A' });
  m.N = await send(a.ctx, { ...base, kind: 'notification', text: 'N' });
  m.C = await send(a.ctx, { ...base, kind: 'inquiry', text: 'C' });
  m.P = await compose(a.ctx, { ...base, kind: 'ping' });
  m.F = await send(a.ctx, { ...base, to: 'fr', kind: 'inquiry', text: 'F' });
  m.R = await send(b.ctx, { ...base, to: 'us', kind: 'notification', text: 'R' });
  const close = await closeCase(a.ctx, { case: m.C.id });
  for (const id of [m.A.id, m.N.id, m.P.id, close.id]) await delivered(a, id);
  await delivered(b, m.R.id);
  await until(b, m.C.id, 'closed');
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

/** Expects `attempt` to fail with `code` and `node` to hold exactly what it held before. */
async function refused(node: RunningNode, code: string, attempt: () => Promise<unknown>): Promise<void> {
  const before = await snapshot(node);
  await expect(attempt()).rejects.toMatchObject({ code });
  expect(await snapshot(node)).toEqual(before);
}

describe('what a person on this node tries, refused before anything is queued', () => {
  it('channel_mismatch: a reply on another channel than its case', async () => {
    await refused(a, 'channel_mismatch', () => send(a.ctx, { ...text('wrong channel'), channel: 'cert', case: m.A.id, in_reply_to: m.A.id }));
  });

  it('not_in_case: in reply to a message of another case; a case this node does not hold; a case with another peer', async () => {
    await refused(a, 'not_in_case', () => send(a.ctx, { ...text('x'), case: m.A.id, in_reply_to: m.N.id }));
    await refused(a, 'not_in_case', () => send(a.ctx, { ...base, kind: 'notification', text: 'x', case: uuidv7() }));
    await refused(a, 'not_in_case', () => send(a.ctx, { ...base, kind: 'notification', text: 'x', case: m.F.id }));
  });

  it('invalid_transition: an answer to a notification; an answer that opens a case; an ack of a ping', async () => {
    await refused(a, 'invalid_transition', () => reply(a.ctx, { id: m.N.id, text: 'notifications are acknowledged, not answered' }));
    await refused(a, 'invalid_transition', () => send(a.ctx, text('an answer to nothing')));
    await refused(b, 'invalid_transition', () => ackMessage(b.ctx, { id: m.P.id }));
  });

  it('case_closed: anything more in a closed case, on either side', async () => {
    await refused(a, 'case_closed', () => reply(a.ctx, { id: m.C.id, kind: 'inquiry', text: 'one more question' }));
    await refused(a, 'case_closed', () => closeCase(a.ctx, { case: m.C.id }));
    await refused(b, 'case_closed', () => reply(b.ctx, { id: m.C.id, text: 'late answer' }));
  });

  it('ack_invalid: a message that does not exist, one this node sent, one acknowledged to a party it did not come from', async () => {
    await refused(a, 'ack_invalid', () => ackMessage(a.ctx, { id: uuidv7() }));
    await refused(a, 'ack_invalid', () => ackMessage(a.ctx, { id: m.A.id }));
    await refused(a, 'ack_invalid', () => compose(a.ctx, {
      ...base, to: 'fr', kind: 'ack', tlp: 'green', case: m.R.id, in_reply_to: m.R.id, fields: { acknowledges: m.R.id, officer: 'Officer Smith' },
    }));
  });
});

describe('what the peer sends, refused per envelope', () => {
  async function refusedInbound(code: string, fields: Partial<UnsignedEnvelope>): Promise<void> {
    const before = await snapshot(a);
    const r = await post(a, await forge(a, 'ru', ruKey, fields));
    expect(r.ok, JSON.stringify(r)).toBe(false);
    expect(r).toMatchObject({ ok: false, error: { code } });
    expect(await snapshot(a)).toEqual(before);
  }
  const answer = { kind: 'response', body: { text: 'forged answer' } } as const;

  it('channel_mismatch: an answer on another channel than its case', async () => {
    await refusedInbound('channel_mismatch', { ...answer, channel: 'cert', case: m.A.id, in_reply_to: m.A.id });
  });

  it('not_in_case: in reply to a message of another case; an unknown case; a case this node holds with another party', async () => {
    await refusedInbound('not_in_case', { ...answer, case: m.A.id, in_reply_to: m.N.id });
    await refusedInbound('not_in_case', { ...answer, case: uuidv7(), in_reply_to: null });
    await refusedInbound('not_in_case', { ...answer, case: m.F.id, in_reply_to: m.F.id });
  });

  it('invalid_transition: an answer to a notification; an answer that opens a case', async () => {
    await refusedInbound('invalid_transition', { ...answer, case: m.N.id, in_reply_to: m.N.id });
    await refusedInbound('invalid_transition', { ...answer });
  });

  it('a key-change or ping that names another case: invalid_transition, or not_in_case / case_closed when that case is unknown or closed (section 5.9)', async () => {
    await refusedInbound('invalid_transition', { kind: 'key-change', case: m.N.id, in_reply_to: null, body: { key: 'new' } });
    await refusedInbound('invalid_transition', { kind: 'key-change', case: m.A.id, in_reply_to: m.A.id, body: {} });
    await refusedInbound('invalid_transition', { kind: 'ping', case: m.A.id, in_reply_to: null, body: {} });
    await refusedInbound('not_in_case', { kind: 'key-change', case: uuidv7(), in_reply_to: null, body: {} });
    await refusedInbound('not_in_case', { kind: 'key-change', in_reply_to: m.N.id, body: {} });
    await refusedInbound('case_closed', { kind: 'key-change', case: m.C.id, in_reply_to: null, body: {} });
  });

  it('case_closed: an answer written after the peer had our close', async () => {
    await refusedInbound('case_closed', { ...answer, case: m.C.id, in_reply_to: m.C.id });
  });

  it('ack_invalid: an ack of a message we did not send to that peer, or whose in_reply_to is another message', async () => {
    const ack = (id: string, inReplyTo: string, caseId: string): Partial<UnsignedEnvelope> => ({
      kind: 'ack', tlp: 'green', case: caseId, in_reply_to: inReplyTo, body: { fields: { acknowledges: id, officer: 'Officer Ivanov' } },
    });
    await refusedInbound('ack_invalid', ack(m.F.id, m.F.id, m.F.id));
    await refusedInbound('ack_invalid', ack(m.R.id, m.R.id, m.R.id));
    await refusedInbound('ack_invalid', ack(uuidv7(), m.A.id, m.A.id));
    await refusedInbound('ack_invalid', ack(m.A.id, m.N.id, m.A.id));
  });

  it('a key-change that opens a case is stored like any message and changes no pinned key (section 18)', async () => {
    const keysBefore = (await a.ctx.peers.require('fr')).keys;
    const kc = await forge(a, 'fr', frKey, { kind: 'key-change', body: { public_key: 'A'.repeat(43), note: 'v1 gives this no meaning' } });
    expect(await post(a, kc)).toMatchObject({ ok: true });
    expect(await caseState(a, kc.id)).toBe('open');
    expect((await a.ctx.peers.require('fr')).keys).toEqual(keysBefore);
  });

  it('the refusals left the link usable: ru\'s next real message is delivered', async () => {
    const next = await send(b.ctx, { ...base, to: 'us', kind: 'notification', text: 'after the forgeries' });
    await delivered(b, next.id);
  });
});
