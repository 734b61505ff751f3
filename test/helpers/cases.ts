import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { isoTime } from '../../src/shared/clock.js';
import { uuidv7 } from '../../src/shared/ids.js';
import { loadKeys } from '../../src/modules/identity/identity.keys.js';
import { signEnvelope } from '../../src/modules/federation/federation.envelope.js';
import { getLink } from '../../src/modules/federation/federation.links.js';
import { GENESIS_HASH, type Envelope, type EnvelopeResult, type UnsignedEnvelope } from '../../src/modules/federation/federation.types.js';
import { show } from '../../src/modules/messaging/messaging.service.js';
import type { CaseState } from '../../src/modules/cases/cases.machine.js';
import type { RunningNode } from '../../src/main.js';
import { eventually, type TestHome } from './nodes.js';

/** Everything a node holds about links, messages, cases and acknowledgements: compare two to prove nothing changed. */
export async function snapshot(n: RunningNode): Promise<unknown> {
  const db = n.ctx.db;
  return {
    messages: await db.selectFrom('messages').selectAll().orderBy('id').execute(),
    // The chains, not the delivery loop's retry bookkeeping (attempts to an unreachable peer go on meanwhile).
    links: await db.selectFrom('links').select(['from_party', 'to_party', 'last_seq', 'head_hash', 'acked_seq', 'send_from_seq'])
      .orderBy('from_party').orderBy('to_party').execute(),
    cases: await db.selectFrom('cases').selectAll().orderBy('id').execute(),
    acks: await db.selectFrom('acks').selectAll().orderBy('message_id').execute(),
  };
}

/** The state of a case on a node (undefined when it does not hold it). */
export async function caseState(n: RunningNode, id: string): Promise<string | undefined> {
  const row = await n.ctx.db.selectFrom('cases').select('state').where('id', '=', id).executeTakeFirst();
  return row?.state;
}

/** Waits until the node holds the case in `state`. */
export async function until(n: RunningNode, id: string, state: CaseState): Promise<void> {
  await eventually(async () => ((await caseState(n, id)) === state ? true : undefined));
}

/** Waits until an outbound message has its receipt. */
export async function delivered(n: RunningNode, id: string): Promise<void> {
  n.delivery.wake();
  await eventually(async () => ((await show(n.ctx.db, id)).message.state === 'delivered' ? true : undefined));
}

/** The private key of a test home, to forge what that node would sign. */
export function keyOf(home: TestHome): KeyObject {
  return loadKeys(readFileSync(join(home.home, 'node.key'), 'utf8')).privateKey;
}

/**
 * An envelope from `from` to the running node `to`, chained on what `to` holds of the link and
 * signed with `key`: what `from` would send if it skipped its own checks. Nothing is stored on `from`.
 */
export async function forge(to: RunningNode, from: string, key: KeyObject, fields: Partial<UnsignedEnvelope>): Promise<Envelope> {
  const link = await getLink(to.ctx.db, from, to.ctx.self.party);
  const id = uuidv7();
  return signEnvelope({
    v: 1, id, from, to: to.ctx.self.party, seq: (link?.last_seq ?? 0) + 1, prev: link?.head_hash ?? GENESIS_HASH,
    sent_at: isoTime(Date.now()), kind: 'notification', channel: 'crisis', case: id, in_reply_to: null, priority: 'routine',
    tlp: 'amber', body: { text: 'forged' }, ...fields,
  } as UnsignedEnvelope, key);
}

/** POSTs one envelope to a node's federation endpoint; its result. */
export async function post(to: RunningNode, env: Envelope): Promise<EnvelopeResult> {
  const res = await fetch(`${to.address}/federation/v1/envelopes`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ envelopes: [env] }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: EnvelopeResult[] }).results[0]!;
}
