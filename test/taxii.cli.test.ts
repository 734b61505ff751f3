/** `hotline collection add|list|show|grant` and `hotline user add --role peer`: the CLI over a real node home. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, hl, json, ok } from './helpers/cli.js';
import { makePair, type TestHome } from './helpers/nodes.js';

let us: TestHome;
beforeAll(async () => {
  ensureBuilt();
  [us] = await makePair();
  await ok(us.home, 'user', 'add', 'alice', '--channels', 'cert');
});

describe('hotline collection', () => {
  it('adds, lists, shows and grants; the output names the TAXII URL and the grants', async () => {
    const c = await json<{ id: string; alias: string; channel: string; default_tlp: string }>(us.home, 'collection', 'add', 'botnet-c2', '--title', 'Botnet C2 servers', '--tlp', 'green', '--json');
    expect(c).toMatchObject({ alias: 'botnet-c2', channel: 'cert', default_tlp: 'green' });
    expect(await ok(us.home, 'collection', 'list')).toMatch(/botnet-c2\s+[0-9a-f-]{36}\s+cert\s+green\s+Botnet C2 servers/);
    const g = await json<{ grants: { subject: string; read: boolean; write: boolean }[] }>(us.home, 'collection', 'grant', 'botnet-c2', '--user', 'alice', '--read', '--write', '--json');
    expect(g.grants).toEqual([expect.objectContaining({ subject: 'user:alice', read: true, write: true })]);
    await ok(us.home, 'collection', 'grant', c.id, '--channel', 'cert', '--read');
    const shown = await ok(us.home, 'collection', 'show', 'botnet-c2');
    expect(shown).toContain(`TAXII      ${us.url}/taxii2/api/collections/${c.id}/`);
    expect(shown).toContain('channel:cert read, user:alice read+write');
    await ok(us.home, 'collection', 'grant', 'botnet-c2', '--channel', 'cert', '--revoke');
    expect(await ok(us.home, 'collection', 'show', 'botnet-c2')).toContain('Grants     user:alice read+write');
  });

  it.each([
    [['collection', 'add', 'Bad Name'], 2, /alias is 1 to 64/],
    [['collection', 'add', 'x', '--channel', 'navy'], 2, /Unknown channel "navy"/],
    [['collection', 'grant', 'nope', '--user', 'alice', '--read'], 1, /not_found/],
    [['collection', 'grant', 'botnet-c2', '--read'], 2, /exactly one grantee/],
    [['collection', 'grant', 'botnet-c2', '--user', 'alice', '--peer', 'ru', '--read'], 2, /exactly one grantee/],
    [['collection', 'grant', 'botnet-c2', '--user', 'alice'], 2, /Say what to grant/],
    [['collection', 'grant', 'botnet-c2', '--user', 'ghost', '--read'], 1, /unknown_user/],
    [['user', 'add', 'feed', '--role', 'peer', '--channels', 'cert'], 2, /--peer PARTY/],
    [['user', 'add', 'feed', '--role', 'peer', '--channels', 'cert', '--peer', 'xx'], 1, /unknown_peer/],
    [['user', 'add', 'feed', '--channels', 'cert', '--peer', 'ru'], 2, /Only a user with role "peer"/],
  ])('refuses %j with exit %i and a message, changing nothing', async (args, code, message) => {
    const before = await ok(us.home, 'collection', 'list', '--json');
    const users = await ok(us.home, 'user', 'list', '--json');
    const r = await hl(us.home, ...args);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(await ok(us.home, 'collection', 'list', '--json')).toBe(before);
    expect(await ok(us.home, 'user', 'list', '--json')).toBe(users);
  });

  it('adds a peer account bound to a pinned peer', async () => {
    const u = await json<{ role: string; peer: string }>(us.home, 'user', 'add', 'ru-feed', '--role', 'peer', '--peer', 'ru', '--channels', 'cert', '--json');
    expect(u).toMatchObject({ role: 'peer', peer: 'ru' });
    expect(await ok(us.home, 'collection', 'grant', 'botnet-c2', '--peer', 'ru', '--read')).toContain('peer:ru read');
  });
});
