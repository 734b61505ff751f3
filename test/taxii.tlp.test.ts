/**
 * TLP 2.0 on the way out of the STIX store (docs/taxii.md, "TLP"): every level against this
 * node's own users, a peer's account, the object's own source peer, and the node administrator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLP_MARKINGS } from '../src/modules/stix/stix.tlp.js';
import { prepare } from '../src/modules/taxii/taxii.prepare.js';
import type { TaxiiTables } from '../src/modules/taxii/taxii.tables.js';
import type { Kysely } from 'kysely';
import { TLPS, type Tlp } from '../src/modules/federation/federation.types.js';
import { makeHome, peerAll } from './helpers/nodes.js';
import { indicator, taxiiClient, taxiiFixture, type TaxiiFixture } from './helpers/taxii.js';

let f: TaxiiFixture;
let ruObjects: Record<Tlp, Record<string, unknown>>;
let localObjects: Record<Tlp, Record<string, unknown>>;
let frFeed: string;

const marking = (tlp: Tlp): string => TLP_MARKINGS.find((m) => (m as { name?: string }).name === `TLP:${tlp.toUpperCase()}`)!.id;

beforeAll(async () => {
  f = await taxiiFixture();
  // A third party, fr, with an account here too.
  const fr = await makeHome('fr');
  await peerAll(f.us, fr);
  const { users, taxii } = f.node.ctx;
  await users.add({ name: 'fr-feed', role: 'peer', channels: 'cert', peer: 'fr' });
  frFeed = (await users.createToken('fr-feed')).secret;
  await taxii.collections.add({ alias: 'shared' });
  for (const s of ['user:alice', 'user:reader', 'peer:ru', 'peer:fr']) await taxii.collections.grant('shared', s, { read: true, write: s === 'user:alice' || s === 'peer:ru' });
  const post = async (who: string, objs: unknown[]): Promise<void> => {
    const r = await taxiiClient(f.node.address, who)('/taxii2/api/collections/shared/objects/', { body: { objects: objs } });
    expect(r.status, r.text).toBe(202);
    expect(r.json!.failure_count).toBe(0);
  };
  // alice posts one object per TLP level (source: this node).
  localObjects = Object.fromEntries(TLPS.map((t) => [t, indicator({ object_marking_refs: [marking(t)] })])) as typeof localObjects;
  await post(f.tokens.alice, Object.values(localObjects));
  // Objects that came from ru over the federation (source ru), stored by the inbound path.
  ruObjects = Object.fromEntries(TLPS.map((t) => [t, indicator({ object_marking_refs: [marking(t)] })])) as typeof ruObjects;
  const c = await taxii.collections.require('shared');
  const { valid } = prepare(Object.values(ruObjects), 'amber');
  await f.node.ctx.db.transaction().execute(async (trx) => {
    await taxii.store.add(trx as unknown as Kysely<TaxiiTables>, c.id, valid, { source: 'ru', added_by: 'peer:ru', recipients: ['reader'], message_id: null });
  });
});
afterAll(async () => f?.stop());

async function seen(token: string): Promise<Set<unknown>> {
  const r = await taxiiClient(f.node.address, token)('/taxii2/api/collections/shared/objects/?limit=100');
  expect(r.status, r.text).toBe(200);
  return new Set(((r.json!.objects ?? []) as { id: string }[]).map((o) => o.id));
}

describe('TLP on the way out', () => {
  it('this node\'s users: every level but RED; RED only to whoever added it and its named recipients (not the administrator)', async () => {
    const alice = await seen(f.tokens.alice);
    const reader = await seen(f.tokens.reader);
    const admin = await seen(f.tokens.admin);
    for (const t of TLPS) {
      expect(alice.has(localObjects[t].id), `alice, local ${t}`).toBe(true);
      expect(reader.has(localObjects[t].id), `reader, local ${t}`).toBe(t !== 'red');
      expect(admin.has(localObjects[t].id), `admin, local ${t}`).toBe(t !== 'red');
      expect(alice.has(ruObjects[t].id), `alice, from ru ${t}`).toBe(t !== 'red');
      expect(reader.has(ruObjects[t].id), `reader (a named recipient), from ru ${t}`).toBe(true);
      expect(admin.has(ruObjects[t].id), `admin, from ru ${t}`).toBe(t !== 'red');
    }
  });

  it('a peer\'s account: CLEAR and GREEN from anyone; AMBER and AMBER+STRICT only what this node is the source of or what came from that peer; never RED it is not named for', async () => {
    const ru = await seen(f.tokens.ruFeed);
    const fr = await seen(frFeed);
    for (const t of TLPS) {
      const amberish = t === 'amber' || t === 'amber+strict';
      expect(fr.has(localObjects[t].id), `fr, local ${t}`).toBe(t !== 'red');
      expect(fr.has(ruObjects[t].id), `fr, from ru ${t}`).toBe(t === 'clear' || t === 'green');
      expect(ru.has(ruObjects[t].id), `ru, its own ${t}`).toBe(t !== 'red');
      expect(ru.has(localObjects[t].id), `ru, local ${t}`).toBe(t !== 'red');
      if (amberish) expect(fr.has(ruObjects[t].id)).toBe(false);
    }
  });

  it('an object without a TLP marking takes the collection\'s default TLP', async () => {
    const { taxii } = f.node.ctx;
    await taxii.collections.add({ alias: 'red-default', tlp: 'red' });
    await taxii.collections.grant('red-default', 'user:alice', { read: true, write: true });
    await taxii.collections.grant('red-default', 'user:reader', { read: true, write: false });
    const o = indicator();
    await taxiiClient(f.node.address, f.tokens.alice)('/taxii2/api/collections/red-default/objects/', { body: { objects: [o] } });
    const get = async (t: string): Promise<number> => (await taxiiClient(f.node.address, t)(`/taxii2/api/collections/red-default/objects/${String(o.id)}/`)).status;
    expect(await get(f.tokens.alice)).toBe(200);
    expect(await get(f.tokens.reader)).toBe(404);
  });
});

describe('what a peer\'s account posts', () => {
  it('is that peer\'s data: its AMBER objects are not served to another peer', async () => {
    const o = indicator({ object_marking_refs: [marking('amber')] });
    const r = await taxiiClient(f.node.address, f.tokens.ruFeed)('/taxii2/api/collections/shared/objects/', { body: { objects: [o] } });
    expect(r.json!.success_count).toBe(1);
    expect((await seen(f.tokens.ruFeed)).has(o.id)).toBe(true);
    expect((await seen(f.tokens.alice)).has(o.id)).toBe(true);
    expect((await seen(frFeed)).has(o.id)).toBe(false);
  });
});
