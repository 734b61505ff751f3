/**
 * Issue 11, the REST reads the console's reachability, TAXII and administration pages added, with
 * bearer tokens: a collection's objects and an object's versions (same grants, channel wall and
 * filters as /taxii2/), the ping history (peer, channel, since), the audit trail's pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from './helpers/api.js';
import { TEST_PASSWORD } from './helpers/console.js';
import { envelope, indicator, malware, taxiiFixture, type TaxiiFixture } from './helpers/taxii.js';

let f: TaxiiFixture;
let call: Api;
const first = indicator();
const second = { ...first, modified: '2026-12-01T10:00:00.000Z', name: 'C2 (confirmed)' };
const family = malware('Qakbot');
let addedBetween = '';

beforeAll(async () => {
  f = await taxiiFixture();
  call = api(f.node.address);
  const alice = f.as('alice');
  expect((await alice('/taxii2/api/collections/intel/objects/', { body: envelope([first, family]) })).status).toBe(202);
  addedBetween = new Date().toISOString();
  // date_added has microseconds: make sure the second POST is later than the instant in between.
  await new Promise((r) => setTimeout(r, 5));
  expect((await alice('/taxii2/api/collections/intel/objects/', { body: envelope([second]) })).status).toBe(202);
});
afterAll(async () => f?.stop());

type Item = { id: string; type: string; version: string; date_added: string; object: Record<string, unknown> };
type ItemPage = { objects: Item[]; more: boolean; next: string | null };

describe('collection objects over REST', () => {
  it('are in OpenAPI under the stix tag', async () => {
    const doc = (await call('/openapi.json', null)).json as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(doc.paths['/api/v1/collections/{id}/objects']?.get?.tags).toEqual(['stix']);
    expect(doc.paths['/api/v1/collections/{id}/objects/{object}/versions']?.get?.tags).toEqual(['stix']);
  });

  it('lists the newest version of each object, filtered by type and added-after, paged by next', async () => {
    const all = await call('/api/v1/collections/intel/objects', f.tokens.reader);
    expect(all.status, JSON.stringify(all.json)).toBe(200);
    const page = all.json as unknown as ItemPage;
    expect(page.objects.map((o) => o.id).sort()).toEqual([first.id, family.id].sort());
    const ind = page.objects.find((o) => o.id === first.id)!;
    expect(ind).toMatchObject({ type: 'indicator', version: '2026-12-01T10:00:00.000Z', object: { name: 'C2 (confirmed)' } });

    const typed = (await call('/api/v1/collections/intel/objects?type=malware', f.tokens.reader)).json as unknown as ItemPage;
    expect(typed.objects.map((o) => o.id)).toEqual([family.id]);

    const after = (await call(`/api/v1/collections/intel/objects?added_after=${encodeURIComponent(addedBetween)}`, f.tokens.reader)).json as unknown as ItemPage;
    expect(after.objects.map((o) => o.id)).toEqual([first.id]);

    const p1 = (await call('/api/v1/collections/intel/objects?limit=1', f.tokens.reader)).json as unknown as ItemPage;
    expect(p1.objects).toHaveLength(1);
    expect(p1.more).toBe(true);
    const p2 = (await call(`/api/v1/collections/intel/objects?limit=1&next=${encodeURIComponent(p1.next!)}`, f.tokens.reader)).json as unknown as ItemPage;
    expect([...p1.objects, ...p2.objects].map((o) => o.id).sort()).toEqual([first.id, family.id].sort());
  });

  it('gives every version of one object with its STIX JSON', async () => {
    const r = await call(`/api/v1/collections/intel/objects/${first.id}/versions`, f.tokens.reader);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const versions = (r.json as { versions: Item[] }).versions;
    expect(versions.map((v) => v.version)).toEqual(['2026-11-30T10:00:00.000Z', '2026-12-01T10:00:00.000Z']);
    expect(versions[0]!.object).toEqual(first);
  });

  it('holds the grants and the channel wall as TAXII does (without a grant or across the wall: 404, as if absent); a bad filter is named', async () => {
    const carol = await call('/api/v1/collections/intel/objects', f.tokens.carol);
    expect([carol.status, carol.json.code]).toEqual([404, 'not_found']);
    const carolVersions = await call(`/api/v1/collections/intel/objects/${first.id as string}/versions`, f.tokens.carol);
    expect([carolVersions.status, carolVersions.json.code]).toEqual([404, 'not_found']);
    const bob = await call('/api/v1/collections/intel/objects', f.tokens.bob);
    expect([bob.status, bob.json.code]).toEqual([404, 'not_found']);
    const law = await call('/api/v1/collections/law-intel/objects', f.tokens.alice);
    expect([law.status, law.json.code]).toEqual([404, 'not_found']);
    const bad = await call('/api/v1/collections/intel/objects?added_after=yesterday', f.tokens.alice);
    expect([bad.status, bad.json.code]).toEqual([400, 'filter_invalid']);
    const noObject = await call(`/api/v1/collections/intel/objects/${indicator().id as string}/versions`, f.tokens.alice);
    expect([noObject.status, noObject.json.code]).toEqual([404, 'not_found']);
    expect((await call('/api/v1/collections/intel/objects', null)).status).toBe(401);
  });
});

describe('ping history over REST', () => {
  it('filters by peer, channel and since; a bad since is refused with its code', async () => {
    for (const channel of ['cert', 'crisis', 'cert']) {
      const r = await call('/api/v1/pings', f.tokens.admin, { method: 'POST', body: { to: 'ru', channel } });
      expect(r.status, JSON.stringify(r.json)).toBe(202);
    }
    type Ping = { peer: string; channel: string; direction: string; sent_at: string };
    const cert = (await call('/api/v1/pings?direction=out&channel=cert&peer=ru', f.tokens.admin)).json.pings as Ping[];
    expect(cert).toHaveLength(2);
    expect(cert.every((p) => p.channel === 'cert' && p.peer === 'ru' && p.direction === 'out')).toBe(true);
    expect((await call('/api/v1/pings?peer=fr', f.tokens.admin)).json.pings).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await call(`/api/v1/pings?since=${future}`, f.tokens.admin)).json.pings).toEqual([]);
    const past = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(((await call(`/api/v1/pings?since=${past}`, f.tokens.admin)).json.pings as Ping[]).length).toBe(3);
    // A cert officer sees the cert pings only, whatever the filter asks.
    expect(((await call('/api/v1/pings?channel=crisis', f.tokens.alice)).json.pings as Ping[])).toEqual([]);
    const bad = await call('/api/v1/pings?since=yesterday', f.tokens.admin);
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid_argument']);
  });
});

describe('an administrator sets a user\'s console password', () => {
  it('lets the user sign in; officers are refused; a short password and a peer account are refused with their codes', async () => {
    const set = await fetch(`${f.node.address}/api/v1/users/alice/password`, { method: 'POST', headers: { authorization: `Bearer ${f.tokens.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: TEST_PASSWORD }) });
    expect(set.status, await set.text()).toBe(204);
    const signIn = await fetch(`${f.node.address}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: TEST_PASSWORD }) });
    expect(signIn.status).toBe(200);
    const officer = await call('/api/v1/users/reader/password', f.tokens.alice, { method: 'POST', body: { password: TEST_PASSWORD } });
    expect([officer.status, officer.json.code]).toEqual([403, 'forbidden']);
    const short = await call('/api/v1/users/reader/password', f.tokens.admin, { method: 'POST', body: { password: 'short' } });
    expect([short.status, short.json.code]).toEqual([400, 'password_too_short']);
    const peer = await call('/api/v1/users/ru-feed/password', f.tokens.admin, { method: 'POST', body: { password: TEST_PASSWORD } });
    expect([peer.status, peer.json.code]).toEqual([400, 'invalid_argument']);
    const audit = (await call('/api/v1/audit?action=user.password', f.tokens.admin)).json.records as { subject: string; actor: string; details: Record<string, unknown> }[];
    expect(audit.map((r) => [r.actor, r.subject])).toEqual([['admin', 'alice']]);
    expect(JSON.stringify(audit)).not.toContain(TEST_PASSWORD);
  });
});

describe('audit trail pages', () => {
  it('pages back with before = next, newest first, without overlap, to the start of the trail', async () => {
    type Rec = { seq: number };
    const whole = (await call('/api/v1/audit?limit=10000', f.tokens.admin)).json.records as Rec[];
    expect(whole.length).toBeGreaterThan(4);
    const seen: number[] = [];
    let before: number | null = null;
    for (let i = 0; i < 100; i++) {
      const r: { status: number; json: Record<string, unknown> } = await call(`/api/v1/audit?limit=3${before === null ? '' : `&before=${before}`}`, f.tokens.admin);
      expect(r.status).toBe(200);
      seen.push(...(r.json.records as Rec[]).map((x) => x.seq));
      before = r.json.next as number | null;
      if (before === null) break;
    }
    // The walk began before this test's own reads were recorded (none are: reads are not audited).
    expect(seen).toEqual(whole.map((x) => x.seq));
    const officer = await call('/api/v1/audit', f.tokens.alice);
    expect([officer.status, officer.json.code]).toEqual([403, 'forbidden']);
  });
});
