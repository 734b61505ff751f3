import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/pg.js';
import { describeEachDialect } from '../../../test/helpers/stores.js';
import { parseConfig } from '../../config.js';
import { FakeClock } from '../../shared/clock.js';
import { HotlineError } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import type { Self } from '../federation/federation.types.js';
import { parseDirectoryUpdate, parsePong } from './directory.body.js';
import { median } from './directory.pings.js';
import { applyDirectoryUpdate } from './directory.publish.js';
import { parsePingSchedule } from './directory.scheduler.js';
import { addContact, listContacts, removeContact, rotaFor, setRota, type OwnDirectoryDeps } from './directory.service.js';
import type { DirectoryTables } from './directory.tables.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof HotlineError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'ok';
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HotlineError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'ok';
}

const A = uuidv7();
const B = uuidv7();
const contact = (id: string, channel = 'crisis'): Record<string, unknown> => ({
  id, channel, function: 'Duty officer', name: `Officer ${id.slice(-4)}`, languages: ['en', 'ru'], hours: '24/7', phone: '+7 495 000 00 00', email: 'duty@ru.example',
});
const body = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  party: 'ru', version: 3, contacts: [contact(A), contact(B, 'cert')], rota: { crisis: { primary: A, backup: null, supervisor: null }, cert: { primary: B } }, ...over,
});

describe('directory-update bodies', () => {
  it('parse: contacts and rota, missing rota positions as null', () => {
    const b = parseDirectoryUpdate(body(), 'ru');
    expect(b.version).toBe(3);
    expect(b.contacts.map((c) => c.id)).toEqual([A, B]);
    expect(b.rota).toEqual({ crisis: { primary: A, backup: null, supervisor: null }, cert: { primary: B, backup: null, supervisor: null } });
  });

  it('a body about another party than its sender is directory_party_mismatch', () => {
    expect(codeOf(() => parseDirectoryUpdate(body(), 'us'))).toMatch(/^directory_party_mismatch: A directory update from "us" about another party \("ru"\)/);
  });

  it.each([
    ['an extra member', { extra: 1 }, /expected the fields contacts,party,rota,version/],
    ['a version of 0', { version: 0 }, /version must be an integer/],
    ['a fractional version', { version: 1.5 }, /version must be an integer/],
    ['contacts not a list', { contacts: {} }, /contacts must be a list/],
    ['a contact without a UUID', { contacts: [{ ...contact(A), id: 'x' }], rota: {} }, /contacts\[0\]\.id must be a UUID/],
    ['a contact with an unknown field', { contacts: [{ ...contact(A), notify: 'x' }], rota: {} }, /contacts\[0\]\.notify is not a contact field/],
    ['a contact on an unknown channel', { contacts: [contact(A, 'spam')], rota: {} }, /contacts\[0\]\.channel must be one of/],
    ['a blank name', { contacts: [{ ...contact(A), name: ' ' }], rota: {} }, /contacts\[0\]\.name must be a non-empty string/],
    ['a bad e-mail', { contacts: [{ ...contact(A), email: 'nobody' }], rota: {} }, /contacts\[0\]\.email must be an e-mail/],
    ['a bad phone', { contacts: [{ ...contact(A), phone: 'call me' }], rota: {} }, /contacts\[0\]\.phone must be a telephone/],
    ['a bad language', { contacts: [{ ...contact(A), languages: ['english!'] }], rota: {} }, /languages must be a list/],
    ['two contacts with one id', { contacts: [contact(A), contact(A)], rota: {} }, /same id/],
    ['a rota naming an unknown contact', { rota: { crisis: { primary: uuidv7() } } }, /rota\.crisis\.primary must be the id of one of the contacts on crisis/],
    ['a rota naming a contact of another channel', { rota: { crisis: { primary: B } } }, /rota\.crisis\.primary must be the id/],
    ['a rota on an unknown channel', { rota: { spam: { primary: A } } }, /rota\.spam is not a channel/],
    ['an unknown rota position', { rota: { crisis: { primary: A, deputy: B } } }, /rota\.crisis\.deputy is not a position/],
  ])('refuses %s with directory_invalid, naming the field', (_what, over, message) => {
    const r = codeOf(() => parseDirectoryUpdate(body(over), 'ru'));
    expect(r).toMatch(/^directory_invalid: /);
    expect(r).toMatch(message);
  });

  it('a pong names its officer in fields.officer', () => {
    expect(parsePong({ template: 'pong@1', fields: { officer: ' Ivan Petrov ' } })).toEqual({ officer: 'Ivan Petrov' });
    expect(codeOf(() => parsePong({ text: 'pong' }))).toMatch(/^directory_invalid: A pong must name the officer/);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones; null for none', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('ping_schedule in hotline.json', () => {
  const good = {
    party: 'us', name: 'US CERT', url: 'http://127.0.0.1:7001', listen: { host: '127.0.0.1', port: 7001 },
    channels: ['crisis', 'cert'], key_file: 'node.key', store: { driver: 'sqlite', path: 'hotline.db' }, admin_token_sha256: 'a'.repeat(64),
  };

  it('is optional (empty), and parsed and frozen when given', () => {
    expect(parseConfig(good, '/tmp/h').pingSchedule).toEqual([]);
    const c = parseConfig({ ...good, ping_schedule: [{ to: 'ru', channel: 'crisis', every_minutes: 1440 }] }, '/tmp/h');
    expect(c.pingSchedule).toEqual([{ to: 'ru', channel: 'crisis', every_minutes: 1440 }]);
    expect(Object.isFrozen(c.pingSchedule)).toBe(true);
  });

  it.each([
    ['not a list', { to: 'ru' }, /must be a list/],
    ['an unknown key', [{ to: 'ru', channel: 'crisis', every_minutes: 60, at: '09:00' }], /\[0\]\.at is not a setting/],
    ['a bad party', [{ to: 'RU!', channel: 'crisis', every_minutes: 60 }], /\[0\]\.to must be a peer's party id/],
    ['its own party', [{ to: 'us', channel: 'crisis', every_minutes: 60 }], /\[0\]\.to is this node's own party/],
    ['a channel this node does not serve', [{ to: 'ru', channel: 'law', every_minutes: 60 }], /\[0\]\.channel must be one of this node's channels: crisis, cert/],
    ['zero minutes', [{ to: 'ru', channel: 'crisis', every_minutes: 0 }], /every_minutes must be a whole number/],
    ['fractional minutes', [{ to: 'ru', channel: 'crisis', every_minutes: 1.5 }], /every_minutes must be a whole number/],
    ['a repeated peer and channel', [{ to: 'ru', channel: 'crisis', every_minutes: 60 }, { to: 'ru', channel: 'crisis', every_minutes: 30 }], /\[1\] repeats ru on crisis/],
  ])('refuses %s with config_invalid naming the entry', (_what, schedule, message) => {
    const r = codeOf(() => parseConfig({ ...good, ping_schedule: schedule }, '/tmp/h'));
    expect(r).toMatch(/^config_invalid: "ping_schedule"/);
    expect(r).toMatch(message);
    expect(codeOf(() => parsePingSchedule(schedule, { party: 'us', channels: ['crisis', 'cert'] }))).toBe(r);
  });
});

describeEachDialect('own directory: contacts and rota', (dialect) => {
  let db: Kysely<DirectoryTables>;
  let deps: OwnDirectoryDeps;
  const self: Self = { party: 'us', name: 'US', url: 'http://127.0.0.1:1', channels: ['crisis', 'cert'] };

  beforeEach(async () => {
    db = await openTestStore(dialect);
    deps = { db, self, clock: new FakeClock() };
  });
  afterEach(async () => {
    await db.destroy();
  });

  const add = (channel: string, name: string): ReturnType<typeof addContact> => addContact(deps, { channel, function: 'Duty officer', name, languages: ['EN', 'ru', 'en'], hours: '24/7', email: `${name.toLowerCase()}@us.example` });

  it('adds contacts with normalised languages, lists them by channel', async () => {
    const a = await add('crisis', 'Alice');
    const b = await add('cert', 'Bob');
    expect(a).toMatchObject({ party: 'us', channel: 'crisis', name: 'Alice', languages: ['en', 'ru'], hours: '24/7', phone: null });
    expect((await listContacts(db, 'us')).map((c) => c.name)).toEqual(['Bob', 'Alice']);
    expect((await listContacts(db, 'us', 'crisis')).map((c) => c.id)).toEqual([a.id]);
    expect(b.id).not.toBe(a.id);
  });

  it('refuses a contact on a channel this node does not serve, or with bad fields, and stores nothing', async () => {
    expect(await asyncCodeOf(add('law', 'Carol'))).toMatch(/^invalid_argument: This node does not serve the channel "law"/);
    expect(await asyncCodeOf(add('spam', 'Carol'))).toMatch(/^unknown_channel: /);
    expect(await asyncCodeOf(addContact(deps, { channel: 'crisis', function: 'x', name: 'y', email: 'not-an-address' }))).toMatch(/^invalid_argument: email must be an e-mail/);
    expect(await listContacts(db, 'us')).toEqual([]);
  });

  it('sets a rota; rotaFor returns the chain in order with where to notify; a contact in a rota cannot be removed', async () => {
    const a = await add('crisis', 'Alice');
    const b = await add('crisis', 'Bob');
    const c = await add('crisis', 'Carol');
    await setRota(deps, { channel: 'crisis', primary: a.id, supervisor: c.id, backup: b.id, notify: { primary: { webhook: 'https://hooks.us.example/duty' } } });
    const chain = await rotaFor(db, 'us', 'crisis');
    expect(chain.map((s) => [s.position, s.contact.name])).toEqual([['primary', 'Alice'], ['backup', 'Bob'], ['supervisor', 'Carol']]);
    expect(chain[0]!.notify).toEqual({ webhook: 'https://hooks.us.example/duty', email: null });
    expect(chain[1]!.notify).toBeNull();
    expect(await asyncCodeOf(removeContact(deps, b.id))).toMatch(/^contact_in_rota: .* is the backup on the crisis rota/);
    // Setting one position leaves the others as they were; "none" (null) empties one: Bob leaves it and can go.
    await setRota(deps, { channel: 'crisis', backup: null });
    expect((await rotaFor(db, 'us', 'crisis')).map((s) => s.contact.name)).toEqual(['Alice', 'Carol']);
    await setRota(deps, { channel: 'crisis', primary: c.id, supervisor: null });
    expect((await rotaFor(db, 'us', 'crisis')).map((s) => s.contact.name)).toEqual(['Carol']);
    expect((await removeContact(deps, b.id)).name).toBe('Bob');
    expect(await rotaFor(db, 'us', 'cert')).toEqual([]);
  });

  it('refuses a rota naming an unknown contact, one of another channel, or one contact twice, and keeps the old rota', async () => {
    const a = await add('crisis', 'Alice');
    const b = await add('cert', 'Bob');
    await setRota(deps, { channel: 'crisis', primary: a.id });
    expect(await asyncCodeOf(setRota(deps, { channel: 'crisis', primary: uuidv7() }))).toMatch(/^invalid_argument: --primary .* is not one of this node's contacts/);
    expect(await asyncCodeOf(setRota(deps, { channel: 'crisis', primary: a.id, backup: b.id }))).toMatch(/^invalid_argument: --backup .* is a contact on cert, not on crisis/);
    expect(await asyncCodeOf(setRota(deps, { channel: 'crisis', primary: a.id, backup: a.id }))).toMatch(/^invalid_argument: One contact can hold only one position/);
    expect(await asyncCodeOf(setRota(deps, { channel: 'crisis', primary: a.id, notify: { primary: { webhook: 'ftp://x' } } }))).toMatch(/webhook must be an http\(s\) URL/);
    expect((await rotaFor(db, 'us', 'crisis')).map((s) => s.contact.name)).toEqual(['Alice']);
  });

  it('applies a peer\'s update only when its version is newer', async () => {
    const v3 = parseDirectoryUpdate(body(), 'ru');
    const apply = (b: typeof v3, at: number): Promise<boolean> => db.transaction().execute((trx) => applyDirectoryUpdate(trx, b, uuidv7(), at));
    expect(await apply(v3, 1000)).toBe(true);
    expect((await rotaFor(db, 'ru', 'crisis')).map((s) => s.contact.id)).toEqual([A]);
    const older = parseDirectoryUpdate(body({ version: 2, contacts: [], rota: {} }), 'ru');
    expect(await apply(older, 2000)).toBe(false);
    expect(await apply({ ...older, version: 3 }, 2000)).toBe(false);
    // Unchanged: still version 3's contacts (cert before crisis).
    expect((await listContacts(db, 'ru')).map((c) => c.id)).toEqual([B, A]);
    expect(await apply({ ...older, version: 4 }, 3000)).toBe(true);
    expect(await listContacts(db, 'ru')).toEqual([]);
    expect(await rotaFor(db, 'ru', 'crisis')).toEqual([]);
    const held = await db.selectFrom('directory_parties').selectAll().where('party', '=', 'ru').executeTakeFirstOrThrow();
    expect([Number(held.version), Number(held.updated_at)]).toEqual([4, 3000]);
  });
});
