import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../src/modules/messaging/messaging.service.js';
import { getLink } from '../src/modules/federation/federation.links.js';
import { verifyStore } from '../src/modules/federation/federation.verify.js';
import type { RunningNode } from '../src/main.js';
import { makePair } from './helpers/nodes.js';

const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

const msg = (text: string) => ({ to: 'ru', channel: 'cert', kind: 'notification', priority: 'routine', tlp: 'green', text });

describe('gap detection and resend', () => {
  it('resends from the seq a receiver reports missing (a receiver restored from an older backup)', async () => {
    const [us, ru] = await makePair();
    const a = await us.start({ runDelivery: false });
    const b = await ru.start({ runDelivery: false });
    running.push(a, b);
    for (let i = 1; i <= 10; i++) await send(a.ctx, msg(`m${i}`));
    expect(await a.delivery.runOnce()).toBe(10);

    // ru loses seq 6..10, as if restored from a backup taken after seq 5.
    const five = await b.ctx.db.selectFrom('messages').select('hash').where('from_party', '=', 'us').where('seq', '=', 5).executeTakeFirstOrThrow();
    await b.ctx.db.deleteFrom('messages').where('from_party', '=', 'us').where('seq', '>', 5).execute();
    await b.ctx.db.updateTable('links').set({ last_seq: 5, head_hash: five.hash }).where('from_party', '=', 'us').where('to_party', '=', 'ru').execute();

    await send(a.ctx, msg('m11'));
    // First pass: ru refuses seq 11 with seq_gap, expected 6; us moves its cursor back without counting a failure.
    await a.delivery.runOnce();
    const ids = await a.ctx.db.selectFrom('messages').select(['id', 'hash']).where('direction', '=', 'out').orderBy('seq').execute();
    const got = await b.ctx.db.selectFrom('messages').select(['id', 'hash']).where('direction', '=', 'in').orderBy('seq').execute();
    expect(got).toEqual(ids);
    const onUs = (await getLink(a.ctx.db, 'us', 'ru'))!;
    const onRu = (await getLink(b.ctx.db, 'us', 'ru'))!;
    expect([onRu.last_seq, onRu.head_hash]).toEqual([11, onUs.head_hash]);
    expect(onUs).toMatchObject({ attempts: 0, last_error: null, acked_seq: 11, send_from_seq: 12 });
    expect((await verifyStore(b.ctx)).problems).toEqual([]);
  });
});
