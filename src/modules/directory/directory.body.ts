import { fail } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { CHANNELS, PARTY_ID, type Channel } from '../federation/federation.types.js';
import { USER_NAME } from '../users/users.types.js';
import { POSITIONS, type Contact, type DirectoryUpdateBody, type RotaIds } from './directory.types.js';

/** Most contacts one party may publish. */
export const MAX_CONTACTS = 200;
const MAX_TEXT = 200;
const LANGUAGE = /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i;
const PHONE = /^\+?[0-9][0-9 ().-]{2,31}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

type Bad = (message: string) => never;

/** Whether `v` looks like an e-mail address (one @, a dot in the domain, no spaces). */
export function isEmail(v: string): boolean {
  return v.length <= 254 && EMAIL.test(v);
}

function text(v: unknown, field: string, bad: Bad, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v.trim() === '') return bad(`${field} must be a non-empty string`);
  if (v.length > max) return bad(`${field} is longer than ${max} characters`);
  return v.trim();
}

function optional<T>(v: unknown, parse: (v: unknown) => T): T | null {
  return v === undefined || v === null ? null : parse(v);
}

/** Checks a contact's fields (everything but id and party); `bad` decides the error code. */
export function contactFields(c: Record<string, unknown>, bad: Bad, at = ''): Omit<Contact, 'id' | 'party' | 'user'> {
  if (!(CHANNELS as readonly unknown[]).includes(c.channel)) bad(`${at}channel must be one of ${CHANNELS.join(', ')} (got ${JSON.stringify(c.channel)})`);
  const languages = c.languages ?? [];
  if (!Array.isArray(languages) || languages.length > 16 || languages.some((l) => typeof l !== 'string' || !LANGUAGE.test(l))) {
    bad(`${at}languages must be a list of up to 16 language tags such as en, ru, zh-Hans`);
  }
  return {
    channel: c.channel as Channel,
    function: text(c.function, `${at}function`, bad),
    name: text(c.name, `${at}name`, bad),
    languages: [...new Set((languages as string[]).map((l) => l.toLowerCase()))],
    hours: optional(c.hours, (v) => text(v, `${at}hours`, bad, 100)),
    phone: optional(c.phone, (v) => (typeof v === 'string' && PHONE.test(v.trim()) ? v.trim() : bad(`${at}phone must be a telephone number such as +1 202 555 0100`))),
    email: optional(c.email, (v) => (typeof v === 'string' && isEmail(v.trim()) ? v.trim() : bad(`${at}email must be an e-mail address`))),
  };
}

const BODY_FIELDS = 'contacts,party,rota,version';
const OPTIONAL_FIELDS = new Set(['red_recipients']);
const CONTACT_FIELDS = new Set(['id', 'channel', 'function', 'name', 'languages', 'hours', 'phone', 'email']);

/**
 * Parses a `directory-update` body sent (or being sent) by `from`. A body about another party is
 * refused with `directory_party_mismatch`; any other defect with `directory_invalid`, naming the field.
 */
export function parseDirectoryUpdate(body: Record<string, unknown>, from: string): DirectoryUpdateBody {
  const bad: Bad = (m) => fail('directory_invalid', `Not a valid directory-update body: ${m}`);
  if (typeof body.party === 'string' && body.party !== from) {
    fail('directory_party_mismatch', `A directory update from "${from}" about another party ("${body.party}"): a party publishes only its own points of contact`);
  }
  if (Object.keys(body).filter((k) => !OPTIONAL_FIELDS.has(k)).sort().join(',') !== BODY_FIELDS) bad(`expected the fields ${BODY_FIELDS} (and optionally red_recipients)`);
  if (typeof body.party !== 'string' || !PARTY_ID.test(body.party)) bad('party must be a party id');
  const version = body.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) bad('version must be an integer of 1 or more');
  if (!Array.isArray(body.contacts) || body.contacts.length > MAX_CONTACTS) bad(`contacts must be a list of at most ${MAX_CONTACTS}`);
  const contacts = (body.contacts as unknown[]).map((raw, i) => {
    const at = `contacts[${i}].`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad(`contacts[${i}] must be an object`);
    const c = raw as Record<string, unknown>;
    const extra = Object.keys(c).find((k) => !CONTACT_FIELDS.has(k));
    if (extra !== undefined) bad(`${at}${extra} is not a contact field`);
    if (!isUuid(c.id)) bad(`${at}id must be a UUID`);
    return { id: c.id as string, ...contactFields(c, bad, at) };
  });
  const byId = new Map(contacts.map((c) => [c.id, c]));
  if (byId.size !== contacts.length) bad('two contacts have the same id');
  const red = body.red_recipients === undefined ? undefined : parseRedRecipients(body.red_recipients, bad);
  return { party: from, version: version as number, contacts, rota: parseRota(body.rota, byId, bad), ...(red === undefined ? {} : { red_recipients: red }) };
}

/** `red_recipients`: per channel, a list of distinct user names (who may receive TLP:RED there). */
function parseRedRecipients(raw: unknown, bad: Bad): Partial<Record<Channel, string[]>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('red_recipients must be an object keyed by channel');
  const out: Partial<Record<Channel, string[]>> = {};
  for (const [channel, users] of Object.entries(raw)) {
    if (!(CHANNELS as readonly string[]).includes(channel)) bad(`red_recipients.${channel} is not a channel`);
    if (!Array.isArray(users) || users.length > MAX_CONTACTS || users.some((u) => typeof u !== 'string' || !USER_NAME.test(u)) || new Set(users).size !== users.length) {
      bad(`red_recipients.${channel} must be a list of distinct user names`);
    }
    out[channel as Channel] = users as string[];
  }
  return out;
}

function parseRota(raw: unknown, byId: ReadonlyMap<string, { channel: Channel }>, bad: Bad): DirectoryUpdateBody['rota'] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('rota must be an object keyed by channel');
  const rota: DirectoryUpdateBody['rota'] = {};
  for (const [channel, value] of Object.entries(raw)) {
    if (!(CHANNELS as readonly string[]).includes(channel)) bad(`rota.${channel} is not a channel`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad(`rota.${channel} must be an object`);
    const v = value as Record<string, unknown>;
    const extra = Object.keys(v).find((k) => !(POSITIONS as readonly string[]).includes(k));
    if (extra !== undefined) bad(`rota.${channel}.${extra} is not a position (${POSITIONS.join(', ')})`);
    const ids = {} as RotaIds;
    for (const p of POSITIONS) {
      const id = v[p] ?? null;
      if (id !== null && (typeof id !== 'string' || byId.get(id)?.channel !== channel)) {
        bad(`rota.${channel}.${p} must be the id of one of the contacts on ${channel}`);
      }
      ids[p] = id as string | null;
    }
    rota[channel as Channel] = ids;
  }
  return rota;
}

/**
 * Parses a `pong` body (template `pong@1`: `{ template, fields: { officer }, text?, lang? }`);
 * the officer is who answered, by name.
 */
export function parsePong(body: Record<string, unknown>): { officer: string } {
  const fields = body.fields;
  const officer = typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? (fields as Record<string, unknown>).officer : undefined;
  if (typeof officer !== 'string' || officer.trim() === '' || officer.length > MAX_TEXT) {
    fail('directory_invalid', 'A pong must name the officer who answered it: body.fields.officer, a non-empty string');
  }
  return { officer: officer.trim() };
}
