import { afterEach, describe, expect, it } from 'vitest';
import { publicKeyFromB64 } from '../src/modules/identity/identity.keys.js';
import { verifyReceipt } from '../src/modules/federation/federation.envelope.js';
import { list, send, show } from '../src/modules/messaging/messaging.service.js';
import { verifyStore } from '../src/modules/federation/federation.verify.js';
import type { RunningNode } from '../src/main.js';
import { eventually, makePair } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

describe('two real nodes over loopback HTTP', () => {
  it('exchange messages both ways; every receipt verifies against the receiver\'s pinned key', async () => {
    const [us, ru] = await makePair();
    const a = await us.start();
    const b = await ru.start();
    running.push(a, b);
    const sent: { from: RunningNode; to: typeof ru; id: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const e1 = await send(a.ctx, { to: 'ru', channel: 'crisis', kind: 'notification', priority: 'flash', tlp: 'amber', text: `us→ru ${i}` });
      a.delivery.wake();
      const e2 = await send(b.ctx, { to: 'us', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text: `ru→us ${i}` });
      b.delivery.wake();
      sent.push({ from: a, to: ru, id: e1.id }, { from: b, to: us, id: e2.id });
    }
    for (const s of sent) {
      const m = await eventually(async () => {
        const r = await show(s.from.ctx.db, s.id);
        return r.message.state === 'delivered' ? r.message : undefined;
      });
      expect(m.receipt).not.toBeNull();
      const receiverKey = publicKeyFromB64(s.to.descriptor.public_key);
      expect(verifyReceipt(m.receipt!, [receiverKey])).toBe(true);
      expect(m.receipt!.from).toBe(s.to.party);
      expect(m.receipt!.link_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const inboxRu = await list(b.ctx.db, 'in');
    expect(inboxRu.map((m) => m.text).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `us→ru ${i}`));
    const inboxUs = await list(a.ctx.db, 'in');
    expect(inboxUs).toHaveLength(5);
    // Both ends hold the same link: the receiver's head is the hash the sender has for its last envelope.
    const headOnUs = await a.ctx.db.selectFrom('links').selectAll().where('from_party', '=', 'us').where('to_party', '=', 'ru').executeTakeFirstOrThrow();
    const headOnRu = await b.ctx.db.selectFrom('links').selectAll().where('from_party', '=', 'us').where('to_party', '=', 'ru').executeTakeFirstOrThrow();
    expect(headOnRu.head_hash).toBe(headOnUs.head_hash);
    expect(Number(headOnRu.last_seq)).toBe(5);
    for (const n of [a, b]) expect((await verifyStore(n.ctx)).problems).toEqual([]);
  });
});
