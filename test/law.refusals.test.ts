/**
 * Issue 3, bad input on the law channel, with two real nodes on loopback: a preservation request
 * missing any Art. 29(2) field is refused naming it, on send and on receipt; a response that
 * leaves out what its outcome requires, or keeps the data less than 60 days, is refused naming the
 * field; extensions, answers and MLA records out of turn are refused with their code. Every
 * refusal changes nothing.
 */
import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { isoTime } from '../src/shared/clock.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { reply } from '../src/modules/cases/cases.service.js';
import { extendPreservation, recordMla } from '../src/modules/law/law.service.js';
import type { Envelope } from '../src/modules/federation/federation.types.js';
import { makePair } from './helpers/nodes.js';
import { delivered, forge, keyOf, post } from './helpers/cases.js';
import { ART29_FIELDS, ART29_REQUIRED, lawSnapshot, preservationRequest } from './helpers/law.js';

const DAY = 24 * 60 * 60 * 1000;
let a: RunningNode;
let b: RunningNode;
let usKey: KeyObject;
let ruKey: KeyObject;
/** A request us→ru that ru has not answered yet. */
let open: Envelope;

beforeAll(async () => {
  const [us, ru] = await makePair();
  a = await us.start({ runPings: false, runReminders: false });
  b = await ru.start({ runPings: false, runReminders: false });
  usKey = keyOf(us);
  ruKey = keyOf(ru);
  open = await send(a.ctx, preservationRequest());
  await delivered(a, open.id);
});

afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
});

function without(field: string): Record<string, unknown> {
  const f: Record<string, unknown> = { ...ART29_FIELDS };
  delete f[field];
  return f;
}

/** Runs `fn`, expects it to fail with `code` (and `field` when given), and that neither node changed. */
async function refused(fn: () => Promise<unknown>, code: string, field?: string): Promise<void> {
  const before = [await lawSnapshot(a), await lawSnapshot(b)];
  const err = await fn().then(() => undefined, (e: unknown) => e);
  expect(err, `expected ${code}`).toMatchObject({ code, ...(field === undefined ? {} : { details: { field } }) });
  expect([await lawSnapshot(a), await lawSnapshot(b)]).toEqual(before);
}

describe('a preservation request must carry every Art. 29(2) field', () => {
  it.each(ART29_REQUIRED)('without %s: refused on send with template_mismatch naming it, nothing queued', async (field) => {
    await refused(() => send(a.ctx, preservationRequest(without(field))), 'template_mismatch', field);
  });

  it.each(ART29_REQUIRED)('without %s: refused on receipt from a peer that skipped its checks, naming it, nothing stored', async (field) => {
    const before = await lawSnapshot(b);
    const env = await forge(b, 'us', usKey, { kind: 'preservation-request', channel: 'law', body: { template: 'preservation-request@1', fields: without(field) } });
    const r = await post(b, env);
    expect(r).toMatchObject({ ok: false, error: { code: 'template_mismatch' } });
    expect(r.ok === false && r.error.message).toContain(`"${field}"`);
    expect(await lawSnapshot(b)).toEqual(before);
  });

  it('(f) is an undertaking: mla_to_follow false is refused naming it', async () => {
    await refused(() => send(a.ctx, preservationRequest({ ...ART29_FIELDS, mla_to_follow: false })), 'template_mismatch', 'mla_to_follow');
  });

  it('travels on the law channel only', async () => {
    await refused(() => send(a.ctx, { ...preservationRequest(), channel: 'cert' }), 'channel_mismatch');
  });

  it('an extension is not a new case', async () => {
    await refused(() => send(a.ctx, preservationRequest({ ...ART29_FIELDS, extension_of: open.id, extension_days: 10 })), 'preservation_invalid');
  });
});

describe('a preservation response must carry what its outcome requires', () => {
  const now = (): string => isoTime(Date.now());
  const answer = (fields: Record<string, unknown>) => () => reply(b.ctx, { id: open.id, kind: 'preservation-response', fields });

  it('preserved without a reference, or without preserved_at: refused naming it', async () => {
    await refused(answer({ outcome: 'preserved', preserved_at: now() }), 'template_mismatch', 'reference');
    await refused(answer({ outcome: 'preserved', reference: 'R-1' }), 'template_mismatch', 'preserved_at');
    await refused(answer({ outcome: 'partially_preserved', reference: 'R-1', preserved_at: now() }), 'template_mismatch', 'reason');
  });

  it('cannot preserve without the reason (Art. 29(6)): refused naming it', async () => {
    await refused(answer({ outcome: 'cannot_preserve' }), 'template_mismatch', 'reason');
    await refused(answer({ outcome: 'lost' }), 'template_mismatch', 'outcome');
  });

  it('kept less than 60 days (Art. 29(7)): refused naming expires_at', async () => {
    const t = Date.now();
    await refused(answer({ outcome: 'preserved', reference: 'R-1', preserved_at: isoTime(t), expires_at: isoTime(t + 59 * DAY) }), 'template_mismatch', 'expires_at');
  });

  it('only the party asked answers', async () => {
    await refused(() => reply(a.ctx, { id: open.id, kind: 'preservation-response', fields: { outcome: 'cannot_preserve', reason: 'x' } }), 'preservation_invalid');
  });
});

describe('extensions and the MLA record, out of turn', () => {
  it('extend before it is preserved, extend or record MLA as the responder, a bad --days: refused', async () => {
    await refused(() => extendPreservation(a.ctx, { case: open.id, days: 30 }), 'preservation_state');
    await refused(() => extendPreservation(b.ctx, { case: open.id, days: 30 }), 'preservation_state');
    await refused(() => recordMla(b.ctx, { case: open.id, reference: 'X' }), 'preservation_state');
    await refused(() => extendPreservation(a.ctx, { case: open.id, days: 0 }), 'invalid_argument');
    await refused(() => recordMla(a.ctx, { case: open.id, reference: 'X', sent_on: 'yesterday' }), 'invalid_argument');
    await refused(() => extendPreservation(a.ctx, { case: '0190a0a0-0000-7000-8000-000000000000', days: 30 }), 'not_found');
  });

  it('a second answer, a second MLA record: refused; an extension from the responder on receipt: refused', async () => {
    const req = await send(a.ctx, preservationRequest());
    await delivered(a, req.id);
    const ok = await reply(b.ctx, { id: req.id, kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'R-2', preserved_at: isoTime(Date.now()) } });
    await delivered(b, ok.id);
    await refused(() => reply(b.ctx, { id: req.id, kind: 'preservation-response', fields: { outcome: 'cannot_preserve', reason: 'changed our mind' } }), 'preservation_state');
    const mla = await recordMla(a.ctx, { case: req.id, reference: 'MLA-1' });
    await delivered(a, mla.id);
    await refused(() => recordMla(a.ctx, { case: req.id, reference: 'MLA-2' }), 'preservation_state');

    // ru (the responder) forging an extension of us's request: us refuses it and stores nothing.
    const before = await lawSnapshot(b);
    const forged = await forge(a, 'ru', ruKey, {
      kind: 'preservation-request', channel: 'law', case: req.id, in_reply_to: req.id,
      body: { template: 'preservation-request@1', fields: { ...ART29_FIELDS, extension_of: req.id, extension_days: 30 } },
    });
    const snap = await lawSnapshot(a);
    expect(await post(a, forged)).toMatchObject({ ok: false, error: { code: 'preservation_invalid' } });
    expect(await lawSnapshot(a)).toEqual(snap);
    expect(await lawSnapshot(b)).toEqual(before);
  });
});
