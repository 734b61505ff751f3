import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/pg.js';
import { describeEachDialect, storeDialect } from '../../../test/helpers/stores.js';
import type { Store } from '../../adapters/storage/schema.js';
import { sha256Hex } from '../../shared/canonical.js';
import { FakeClock } from '../../shared/clock.js';
import { HotlineError, type ErrorCode } from '../../shared/errors.js';
import { CHANNELS, TLPS } from '../federation/federation.types.js';
import { canRead, checkRedRecipients, readableEnvelope, readableView, type Marked } from '../messaging/messaging.visibility.js';
import type { MessageView } from '../messaging/messaging.service.js';
import { UserRepository, whoIs } from './users.service.js';
import { NODE_ADMIN, type Principal } from './users.types.js';

const ADMIN_SECRET = 'the-admin-secret';
let db: Store;
let clock: FakeClock;
let users: UserRepository;

/** A fresh store for each test of a block (in the block's dialect). */
function withStore(): void {
  beforeEach(async () => {
    db = await openTestStore(storeDialect());
    clock = new FakeClock();
    users = new UserRepository({ db, clock, adminTokenSha256: sha256Hex(ADMIN_SECRET) });
  });
  afterEach(async () => {
    await db.destroy();
  });
}

async function tables(): Promise<unknown> {
  return {
    users: await db.selectFrom('users').selectAll().orderBy('name').execute(),
    tokens: await db.selectFrom('tokens').selectAll().orderBy('id').execute(),
  };
}

/** Expects `p` to fail with `code` (and the message to match) and the tables to be unchanged. */
async function refused(p: () => Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  const before = await tables();
  const e = await p().then(() => undefined, (err: unknown) => err);
  expect(e, `expected ${code}`).toBeInstanceOf(HotlineError);
  expect((e as HotlineError).code).toBe(code);
  if (message !== undefined) expect((e as HotlineError).message).toMatch(message);
  expect(await tables()).toEqual(before);
}

describeEachDialect('users', () => {
  withStore();

  it('adds officers and admins; channels are normalised to the vocabulary order', async () => {
    const a = await users.add({ name: 'alice', role: 'officer', channels: 'law, cert' });
    expect(a).toEqual({ name: 'alice', role: 'officer', channels: ['cert', 'law'], created_at: '2026-01-01T00:00:00.000Z', disabled_at: null, display_name: null });
    const root = await users.add({ name: 'root.ops', role: 'admin' });
    expect(root.channels).toEqual([...CHANNELS]);
    expect((await users.list()).map((u) => u.name)).toEqual(['alice', 'root.ops']);
  });

  it('a display name: set at add or by edit, trimmed; whoIs names the user by its record, the administrator as "Node administrator"', async () => {
    const ivan = await users.add({ name: 'ivan', role: 'officer', channels: 'crisis', display_name: '  Ivan Petrov ' });
    expect(ivan.display_name).toBe('Ivan Petrov');
    expect(await whoIs(db, await users.principalFor('ivan'))).toEqual({ user: 'ivan', display_name: 'Ivan Petrov' });
    await users.add({ name: 'olga', role: 'officer', channels: 'crisis' });
    expect(await whoIs(db, await users.principalFor('olga'))).toEqual({ user: 'olga', display_name: 'olga' });
    expect((await users.edit('olga', { display_name: 'Olga Smirnova' })).display_name).toBe('Olga Smirnova');
    expect(await whoIs(db, await users.principalFor('olga'))).toEqual({ user: 'olga', display_name: 'Olga Smirnova' });
    expect(await whoIs(db, NODE_ADMIN)).toEqual({ user: 'admin', display_name: 'Node administrator' });
  });

  it.each<[{ display_name?: string }, RegExp]>([
    [{ display_name: '' }, /1 to 200 characters/],
    [{ display_name: '   ' }, /1 to 200 characters/],
    [{ display_name: 'x'.repeat(201) }, /1 to 200 characters/],
    [{ display_name: 'Ivan\nPetrov' }, /one line/],
    [{}, /Say what to change/],
  ])('edit %j is refused (invalid_argument) and changes nothing', async (change, message) => {
    await users.add({ name: 'ivan', role: 'officer', channels: 'crisis', display_name: 'Ivan Petrov' });
    await refused(() => users.edit('ivan', change), 'invalid_argument', message);
    await refused(() => users.add({ name: 'petr', role: 'officer', channels: 'crisis', display_name: String(change.display_name ?? '') }), 'invalid_argument');
  });

  it('edit of an unknown user is unknown_user', async () => {
    await refused(() => users.edit('nobody', { display_name: 'No One' }), 'unknown_user');
  });

  it.each([
    [{ name: 'alice', role: 'officer', channels: 'cert' }, 'user_exists', /already exists/],
    [{ name: 'admin', role: 'officer', channels: 'cert' }, 'invalid_argument', /reserved/],
    [{ name: 'Bob', role: 'officer', channels: 'cert' }, 'invalid_argument', /a-z/],
    [{ name: 'b', role: 'officer', channels: 'cert' }, 'invalid_argument', /2 to 32/],
    [{ name: 'bob', role: 'root', channels: 'cert' }, 'invalid_argument', /Unknown role "root"/],
    [{ name: 'bob', role: 'officer' }, 'invalid_argument', /needs channels/],
    [{ name: 'bob', role: 'officer', channels: 'cert,navy' }, 'unknown_channel', /"navy"/],
    [{ name: 'bob', role: 'officer', channels: ' , ' }, 'invalid_argument', /at least one channel/],
    [{ name: 'bob', role: 'officer', channels: [] }, 'invalid_argument', /at least one channel/],
  ] as const)('refuses a bad user %#, changing nothing', async (input, code, message) => {
    await users.add({ name: 'alice', role: 'officer', channels: 'cert' });
    await refused(() => users.add(input), code, message);
  });
});

describeEachDialect('tokens', () => {
  withStore();

  it('a token acts as its user with the user\'s channels; the admin token as the all-channel admin', async () => {
    await users.add({ name: 'alice', role: 'officer', channels: 'cert,crisis' });
    const t = await users.createToken('alice');
    expect(t.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await users.authenticate(t.secret)).toEqual({ user: 'alice', role: 'officer', channels: ['crisis', 'cert'], token: t.id });
    expect(await users.authenticate(ADMIN_SECRET)).toBe(NODE_ADMIN);
    // Only the hash is stored.
    const row = await db.selectFrom('tokens').selectAll().executeTakeFirstOrThrow();
    expect(row.secret_sha256).toBe(sha256Hex(t.secret));
    expect(JSON.stringify(await tables())).not.toContain(t.secret);
    // The secret is never listed again.
    expect(JSON.stringify(await users.listTokens())).not.toContain(t.secret);
  });

  it('records last use at most once a minute', async () => {
    await users.add({ name: 'alice', role: 'officer', channels: 'cert' });
    const t = await users.createToken('alice');
    await users.authenticate(t.secret);
    const first = (await users.listTokens('alice'))[0]!.last_used_at;
    expect(first).toBe('2026-01-01T00:00:00.000Z');
    clock.advance(59_999);
    await users.authenticate(t.secret);
    expect((await users.listTokens('alice'))[0]!.last_used_at).toBe(first);
    clock.advance(1);
    await users.authenticate(t.secret);
    expect((await users.listTokens('alice'))[0]!.last_used_at).toBe('2026-01-01T00:01:00.000Z');
  });

  it('refuses unknown and revoked tokens and tokens of disabled users (unauthorized)', async () => {
    await users.add({ name: 'alice', role: 'officer', channels: 'cert' });
    await users.add({ name: 'bob', role: 'officer', channels: 'law' });
    const a = await users.createToken('alice');
    const b = await users.createToken('bob');
    await refused(() => users.authenticate('nope'), 'unauthorized', /with a valid token for this node/);
    clock.advance(1000);
    const revoked = await users.revokeToken(a.id);
    expect(revoked.revoked_at).toBe('2026-01-01T00:00:01.000Z');
    clock.advance(1000);
    expect((await users.revokeToken(a.id)).revoked_at).toBe(revoked.revoked_at); // revoking twice keeps the first time
    await refused(() => users.authenticate(a.secret), 'unauthorized', /with a valid token for this node/);
    expect((await users.authenticate(b.secret)).user).toBe('bob');
    await users.disable('bob');
    await refused(() => users.authenticate(b.secret), 'unauthorized', /with a valid token for this node/);
    await refused(() => users.principalFor('bob'), 'unauthorized', /disabled/);
  });

  it('refuses tokens for unknown or disabled users, and unknown or malformed token ids', async () => {
    await users.add({ name: 'alice', role: 'officer', channels: 'cert' });
    await users.disable('alice');
    await refused(() => users.createToken('ghost'), 'unknown_user', /No user "ghost"/);
    await refused(() => users.createToken('alice'), 'invalid_argument', /disabled/);
    await refused(() => users.revokeToken('01a20000-0000-7000-8000-000000000000'), 'not_found');
    await refused(() => users.revokeToken('nope'), 'invalid_argument');
    await refused(() => users.disable('ghost'), 'unknown_user');
    await refused(() => users.principalFor('ghost'), 'unknown_user');
    await refused(() => users.listTokens('ghost'), 'unknown_user');
  });
});

const channel = fc.constantFrom(...CHANNELS);
const name = fc.constantFrom('alice', 'bob', 'carol', 'admin');
const principal: fc.Arbitrary<Principal> = fc.record({
  user: name, role: fc.constantFrom('admin' as const, 'officer' as const), channels: fc.uniqueArray(channel, { maxLength: 3 }),
});
const marked: fc.Arbitrary<Marked> = fc.record({
  direction: fc.constantFrom('in' as const, 'out' as const), channel, tlp: fc.constantFrom(...TLPS),
  sender: fc.option(name, { nil: null }), recipients: fc.option(fc.uniqueArray(name, { maxLength: 3 }), { nil: null }),
});

describe('canRead: the one visibility rule', () => {
  it('never shows a message on a channel the principal does not hold (law is walled off from cert and crisis)', () => {
    fc.assert(fc.property(principal, marked, (p, m) => {
      if (!p.channels.includes(m.channel as never)) expect(canRead(p, m)).toBe(false);
    }));
  });

  it('shows non-red messages to everyone holding the channel; red only to named recipients (in) or the sender (out)', () => {
    fc.assert(fc.property(principal, marked, (p, m) => {
      const holds = p.channels.includes(m.channel as never);
      let expected = holds;
      if (m.tlp === 'red') expected = holds && (m.direction === 'in' ? (m.recipients ?? []).includes(p.user) : m.sender === p.user);
      expect(canRead(p, m)).toBe(expected);
      // Being the node administrator does not open a red body.
      if (m.tlp === 'red' && p.user !== 'admin') expect(canRead(NODE_ADMIN, m)).toBe(m.direction === 'in' ? (m.recipients ?? []).includes('admin') : m.sender === 'admin');
    }));
  });

  it('a redacted view and envelope carry no body, whatever else a view holds', () => {
    const v = {
      id: 'x', direction: 'in', from: 'us', to: 'ru', seq: 1, kind: 'notification', channel: 'cert', priority: 'flash', tlp: 'red',
      case: 'x', in_reply_to: null, sent_at: 's', stored_at: 's', text: 'secret text', state: 'received', receipt: null,
      receipted_at: null, sender: 'carol', recipients: ['alice'], fields: { secret: 'field' }, acknowledged: null,
    } as MessageView;
    const bob: Principal = { user: 'bob', role: 'officer', channels: ['cert'] };
    const r = readableView(bob, v)!;
    expect(JSON.stringify(r)).not.toContain('secret');
    expect(r.redacted).toBe('TLP:RED — visible only to alice');
    expect(r).toMatchObject({ id: 'x', tlp: 'red', channel: 'cert', text: null, recipients: ['alice'], sender: 'carol' });
    expect(readableView({ ...bob, user: 'alice' }, v)).toBe(v);
    expect(readableView({ ...bob, channels: ['law'] }, v)).toBeUndefined();
    const env = { body: { text: 'secret text', recipients: ['alice'] }, attachments: [{ content: 'secret' }] } as never;
    expect(JSON.stringify(readableEnvelope(bob, v, env))).not.toContain('secret');
    const out = readableView(bob, { ...v, direction: 'out' })!;
    expect(out.redacted).toBe('TLP:RED — visible only to its sender carol (and, at ru, to alice)');
  });
});

describe('TLP:RED names its recipients', () => {
  it.each([
    [{}, /none are named/],
    [{ recipients: [] }, /none are named/],
    [{ recipients: 'alice' }, /not a list/],
    [{ recipients: ['Alice!'] }, /"Alice!" is not a user name/],
    [{ recipients: [7] }, /7 is not a user name/],
    [{ recipients: ['alice', 'alice'] }, /twice/],
    [{ recipients: Array.from({ length: 65 }, (_, i) => `user${i}`) }, /at most 64/],
  ])('refuses a red body %#', (body, message) => {
    expect(() => checkRedRecipients('red', body)).toThrow(message);
    try {
      checkRedRecipients('red', body);
    } catch (e) {
      expect((e as HotlineError).code).toBe('tlp_red_needs_recipients');
    }
  });

  it('passes named recipients, and every other marking without them', () => {
    expect(() => checkRedRecipients('red', { recipients: ['alice', 'bob'] })).not.toThrow();
    for (const tlp of TLPS.filter((t) => t !== 'red')) expect(() => checkRedRecipients(tlp, {})).not.toThrow();
  });
});
