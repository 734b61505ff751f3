import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, envelope, expectTaxiiError, indicator, TAXII, taxiiClient, taxiiFixture, type TaxiiFixture } from './helpers/taxii.js';

/**
 * TAXII 2.1 conformance, part 1: discovery, the API root, collections, content negotiation,
 * authentication and who sees what (401 / 403 / 404 as sections 1.6.9, 3.1 and 5 say), over real HTTP.
 */
let f: TaxiiFixture;
beforeAll(async () => {
  f = await taxiiFixture();
});
afterAll(async () => f?.stop());

const root = '/taxii2/api/';

describe('discovery and the API root', () => {
  it('serves discovery at /taxii2/ with the API root as an absolute URL, and the API root resource', async () => {
    const d = await f.as('alice')('/taxii2/');
    expect(d.status).toBe(200);
    expect(d.headers.get('content-type')).toBe(TAXII);
    expect(d.json).toEqual({
      title: 'Hotline us TAXII server', description: expect.any(String) as string,
      default: `${f.us.url}/taxii2/api/`, api_roots: [`${f.us.url}/taxii2/api/`],
    });
    const r = await f.as('alice')(root);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ title: 'Hotline us', description: expect.any(String) as string, versions: [TAXII], max_content_length: 16 * 1024 * 1024 });
  });

  it('answers an unknown path under /taxii2/ with a TAXII 404, and paths without the trailing slash are not endpoints', async () => {
    expectTaxiiError(await f.as('alice')('/taxii2/other/'), 404, 'not_found');
    expectTaxiiError(await f.as('alice')('/taxii2/api/collections'), 404, 'not_found');
  });
});

describe('content negotiation (section 3.1)', () => {
  it.each([
    ['application/taxii+json;version=2.1'],
    ['application/taxii+json; version=2.1'],
    ['application/taxii+json'],
    ['application/json, application/taxii+json;version=2.1;q=0.9'],
    ['*/*'],
    ['application/*'],
    [null],
  ])('serves Accept %s', async (accept) => {
    const r = await f.as('alice')(root, { accept });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(TAXII);
  });

  it.each([
    ['application/taxii+json;version=2.0'],
    ['application/json'],
    ['text/html'],
    ['application/taxii+json;version=2.1;q=0'],
    ['application/stix+json;version=2.1'],
  ])('refuses Accept %s with 406 and the TAXII error resource', async (accept) => {
    expectTaxiiError(await f.as('alice')(root, { accept }), 406, 'not_acceptable');
  });

  it.each([
    ['application/json'],
    ['text/plain'],
    ['application/taxii+json;version=2.0'],
    [null],
  ])('refuses a POST with Content-Type %s (415), storing nothing', async (contentType) => {
    const before = await f.counts();
    expectTaxiiError(await f.as('alice')(`${root}collections/${f.c.intel.id}/objects/`, { body: envelope([indicator()]), contentType }), 415, 'unsupported_media_type');
    expect(await f.counts()).toEqual(before);
  });
});

describe('authentication (sections 1.6.9, 8.2.2)', () => {
  it('401 with a WWW-Authenticate challenge without credentials, with a bad token, a revoked one, and Basic with the wrong user', async () => {
    const anon = taxiiClient(f.node.address, null);
    for (const path of ['/taxii2/', root, `${root}collections/`, `${root}collections/${f.c.intel.id}/objects/`]) {
      const r = await anon(path);
      expectTaxiiError(r, 401, 'unauthorized');
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="hotline", Bearer realm="hotline"');
    }
    expectTaxiiError(await taxiiClient(f.node.address, 'not-a-token')(root), 401, 'unauthorized');
    expectTaxiiError(await f.as('alice')(root, { authorization: basic('bob', f.tokens.alice) }), 401, 'unauthorized');
    expectTaxiiError(await f.as('alice')(root, { authorization: 'Digest abc' }), 401, 'unauthorized');
    const t = await f.node.ctx.users.createToken('carol');
    await f.node.ctx.users.revokeToken(t.id);
    expectTaxiiError(await taxiiClient(f.node.address, t.secret)(root), 401, 'unauthorized');
  });

  it('takes HTTP Basic (user name and token) and bearer tokens alike; 401 comes before 406', async () => {
    expect((await f.as('alice')(root, { authorization: basic('alice', f.tokens.alice) })).status).toBe(200);
    expect((await f.as('alice')(root, { authorization: basic('admin', f.tokens.admin) })).status).toBe(200);
    expectTaxiiError(await taxiiClient(f.node.address, null)(root, { accept: 'text/html' }), 401, 'unauthorized');
  });

  it('lets a peer account use TAXII but not the REST API', async () => {
    expect((await f.as('ruFeed')(root)).status).toBe(200);
    const rest = await fetch(`${f.node.address}/api/v1/messages`, { headers: { authorization: `Bearer ${f.tokens.ruFeed}` } });
    expect(rest.status).toBe(403);
    expect(((await rest.json()) as { code: string }).code).toBe('forbidden');
  });
});

describe('collections and access (sections 5.1, 5.2; 403 vs 404)', () => {
  const ids = (j: Record<string, unknown> | null): string[] => ((j?.collections ?? []) as { alias: string }[]).map((c) => c.alias);

  it('lists only the collections a user has a grant on and whose channel it holds, in a stable order, with its own can_read/can_write', async () => {
    const a = await f.as('alice')(`${root}collections/`);
    expect(a.status).toBe(200);
    expect(a.json).toEqual({
      collections: [
        { id: f.c.empty.id, title: 'empty', alias: 'empty', can_read: true, can_write: false, media_types: ['application/stix+json;version=2.1'] },
        { id: f.c.intel.id, title: 'Botnet intelligence', description: 'C2 servers and infected hosts', alias: 'intel', can_read: true, can_write: true, media_types: ['application/stix+json;version=2.1'] },
      ],
    });
    expect(ids((await f.as('reader')(`${root}collections/`)).json)).toEqual(['intel']);
    expect(ids((await f.as('bob')(`${root}collections/`)).json)).toEqual(['law-intel']);
    expect(ids((await f.as('admin')(`${root}collections/`)).json)).toEqual(['empty', 'intel', 'law-intel']);
    // Nothing visible: an empty object, never an empty list.
    const c = await f.as('carol')(`${root}collections/`);
    expect(c.status).toBe(200);
    expect(c.json).toEqual({});
  });

  it('a collection a user may not see is 404 on every endpoint, by id and by alias, exactly like one that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const [who, c] of [['carol', f.c.intel.id], ['carol', 'intel'], ['alice', f.c.lawIntel.id], ['bob', f.c.intel.id], ['ruFeed', f.c.intel.id], ['alice', missing]] as const) {
      for (const path of ['', 'objects/', 'manifest/', `objects/${String(indicator().id)}/`, `objects/${String(indicator().id)}/versions/`]) {
        const r = await f.as(who)(`${root}collections/${c}/${path}`);
        expectTaxiiError(r, 404, 'not_found');
        expect(r.json?.description).not.toMatch(/law|grant/);
      }
      expectTaxiiError(await f.as(who)(`${root}collections/${c}/objects/`, { body: envelope([indicator()]) }), 404, 'not_found');
    }
  });

  it('a collection a user sees but may not read is 403 for reading; one it may not write is 403 for POST; DELETE needs both', async () => {
    const o = indicator();
    expect((await f.as('alice')(`${root}collections/${f.c.intel.id}/objects/`, { body: envelope([o]) })).status).toBe(202);
    const before = await f.counts();
    expectTaxiiError(await f.as('reader')(`${root}collections/intel/objects/`, { body: envelope([indicator()]) }), 403, 'forbidden');
    expectTaxiiError(await f.as('reader')(`${root}collections/intel/objects/${String(o.id)}/`, { method: 'DELETE' }), 403, 'forbidden');
    expectTaxiiError(await f.as('alice')(`${root}collections/empty/objects/`, { body: envelope([indicator()]) }), 403, 'forbidden');
    expect(await f.counts()).toEqual(before);
    // The reader reads what alice wrote.
    const r = await f.as('reader')(`${root}collections/intel/objects/${String(o.id)}/`);
    expect(r.status).toBe(200);
    expect((r.json?.objects as unknown[])).toEqual([o]);
  });

  it('grants follow the token and the channel too, and a revoked grant takes effect at once', async () => {
    const { taxii, users } = f.node.ctx;
    await users.add({ name: 'dave', role: 'officer', channels: 'cert' });
    const t1 = await users.createToken('dave');
    const t2 = await users.createToken('dave');
    await taxii.collections.add({ alias: 'per-token' });
    await taxii.collections.grant('per-token', `token:${t1.id}`, { read: true, write: false });
    expect((await taxiiClient(f.node.address, t1.secret)(`${root}collections/per-token/`)).status).toBe(200);
    expectTaxiiError(await taxiiClient(f.node.address, t2.secret)(`${root}collections/per-token/`), 404, 'not_found');
    await taxii.collections.grant('per-token', 'channel:cert', { read: true, write: false });
    expect((await taxiiClient(f.node.address, t2.secret)(`${root}collections/per-token/`)).status).toBe(200);
    // channel:cert grants are for this node's users, not for a peer's account holding cert.
    expectTaxiiError(await f.as('ruFeed')(`${root}collections/per-token/`), 404, 'not_found');
    await taxii.collections.grant('per-token', 'peer:ru', { read: true, write: false });
    expect((await f.as('ruFeed')(`${root}collections/per-token/`)).json?.can_read).toBe(true);
    await taxii.collections.grant('per-token', 'channel:cert', { read: false, write: false });
    expectTaxiiError(await taxiiClient(f.node.address, t2.secret)(`${root}collections/per-token/`), 404, 'not_found');
  });

  it('refuses grants that name nothing, and bad collections, changing nothing', async () => {
    const { taxii } = f.node.ctx;
    const before = await f.counts();
    for (const [p, code] of [
      [() => taxii.collections.grant('intel', 'user:ghost', { read: true, write: false }), 'unknown_user'],
      [() => taxii.collections.grant('intel', 'peer:xx', { read: true, write: false }), 'unknown_peer'],
      [() => taxii.collections.grant('intel', 'token:00000000-0000-4000-8000-000000000000', { read: true, write: false }), 'not_found'],
      [() => taxii.collections.grant('intel', 'channel:navy', { read: true, write: false }), 'unknown_channel'],
      [() => taxii.collections.grant('intel', 'alice', { read: true, write: false }), 'invalid_argument'],
      [() => taxii.collections.grant('nope', 'user:alice', { read: true, write: false }), 'not_found'],
      [() => taxii.collections.add({ alias: 'intel' }), 'collection_exists'],
      [() => taxii.collections.add({ alias: 'Bad Alias' }), 'invalid_argument'],
      [() => taxii.collections.add({ alias: 'inbound-ru' }), 'invalid_argument'],
      [() => taxii.collections.add({ alias: 'x1', channel: 'navy' }), 'unknown_channel'],
      [() => taxii.collections.add({ alias: 'x2', tlp: 'white' }), 'unknown_tlp'],
    ] as const) {
      await expect(p()).rejects.toMatchObject({ code });
    }
    expect(await f.counts()).toEqual(before);
  });
});
