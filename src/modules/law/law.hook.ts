import type { Transaction } from 'kysely';
import { isoTime, parseIsoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import type { MessageHook, StoredMessage } from '../federation/federation.hooks.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { Envelope } from '../federation/federation.types.js';
import type { LawTables, PreservationsTable } from './law.tables.js';
import { DAY_MS, DEFAULT_EXTENSION_DAYS, MIN_PRESERVATION_DAYS, type ExtensionRecord, type Outcome } from './law.types.js';

type Trx = Transaction<FederationTables>;
type Fields = Record<string, unknown>;

function fieldsOf(env: Envelope): Fields {
  const f = env.body.fields;
  return typeof f === 'object' && f !== null && !Array.isArray(f) ? (f as Fields) : {};
}

async function rowOf(trx: Trx, caseId: string): Promise<PreservationsTable | undefined> {
  return trx.withTables<LawTables>().selectFrom('preservations').selectAll().where('case_id', '=', caseId).executeTakeFirst();
}

/** The extensions recorded on a preservation. */
export function extensionsOf(row: PreservationsTable): ExtensionRecord[] {
  return JSON.parse(row.extensions) as ExtensionRecord[];
}

/** True when the message's sender is the party that asked for the preservation. */
function fromRequester(row: PreservationsTable, env: Envelope): boolean {
  return env.from === row.requesting_party;
}

function mismatch(env: Envelope, field: string, what: string): never {
  return fail('template_mismatch', `The ${env.kind} message does not fit its template ${String(env.body.template ?? env.kind)}: field "${field}": ${what}`, { field, template: env.body.template ?? env.kind });
}

function isPreserved(outcome: unknown): boolean {
  return outcome === 'preserved' || outcome === 'partially_preserved';
}

/** The expiry a preserving answer sets, or refuses one shorter than Art. 29(7) or the extension allows. */
function expiryOf(env: Envelope, row: PreservationsTable, ext: ExtensionRecord | undefined): number {
  const f = fieldsOf(env);
  const given = typeof f.expires_at === 'string' ? parseIsoTime(f.expires_at) : undefined;
  if (ext === undefined) {
    const preservedAt = parseIsoTime(f.preserved_at as string);
    const min = preservedAt + MIN_PRESERVATION_DAYS * DAY_MS;
    if (given !== undefined && given < min) {
      mismatch(env, 'expires_at', `a preservation lasts at least ${MIN_PRESERVATION_DAYS} days (Budapest Convention Art. 29(7)): from preserved_at ${String(f.preserved_at)}, not before ${isoTime(min)}`);
    }
    return given ?? min;
  }
  const current = Number(row.expires_at ?? 0);
  if (given !== undefined && given < current) {
    mismatch(env, 'expires_at', `an extension cannot shorten the preservation: it runs until ${isoTime(current)}`);
  }
  return given ?? current + ext.days * DAY_MS;
}

async function checkRequest(trx: Trx, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  const f = fieldsOf(env);
  if (env.case === env.id) {
    if (f.extension_of !== undefined || f.extension_days !== undefined) {
      fail('preservation_invalid', 'An extension is sent in the case of the preservation it extends (with "hotline preservation extend CASE --days N"), not as a new case');
    }
    return;
  }
  if (f.extension_of !== env.case) {
    fail('preservation_invalid', `A preservation-request in case ${env.case} extends the request that opened it: fields.extension_of must be ${env.case}`);
  }
  const row = await rowOf(trx, env.case);
  if (row === undefined) fail('preservation_invalid', `Case ${env.case} is not a preservation case`);
  if (!fromRequester(row, env)) fail('preservation_invalid', `Only the requesting party (${row.requesting_party}) asks to extend the preservation of case ${row.case_id}`);
  // States move with the clock on each side; only the sender judges them, so that a crossing never blocks a link.
  if (direction === 'out') {
    if (row.state !== 'preserved') fail('preservation_state', `The preservation of case ${row.case_id} is ${row.state}; only a preserved one can be extended`);
    const open = extensionsOf(row).find((e) => e.response_id === undefined);
    if (open !== undefined) fail('preservation_state', `Extension ${open.message_id} of case ${row.case_id} is still awaiting its answer`);
  }
}

async function checkResponse(trx: Trx, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  const row = await rowOf(trx, env.case);
  if (row === undefined) fail('preservation_invalid', `Case ${env.case} is not a preservation case; a preservation-response answers a preservation-request in its case`);
  if (fromRequester(row, env)) fail('preservation_invalid', `Only ${row.responding_party}, the party asked to preserve, answers the preservation request of case ${row.case_id}`);
  const ext = extensionsOf(row).find((e) => e.message_id === env.in_reply_to);
  if (env.in_reply_to !== row.request_id && ext === undefined) {
    fail('preservation_invalid', `A preservation-response answers a preservation-request of case ${row.case_id}: in_reply_to must be ${row.request_id} or one of its extensions`);
  }
  if (direction === 'out' && (ext === undefined ? row.response_id !== null : ext.response_id !== undefined)) {
    fail('preservation_state', `Preservation request ${env.in_reply_to ?? '?'} has already been answered`);
  }
  if (isPreserved(fieldsOf(env).outcome)) expiryOf(env, row, ext);
}

async function checkMla(trx: Trx, env: Envelope, direction: 'in' | 'out'): Promise<void> {
  const row = await rowOf(trx, env.case);
  if (row === undefined) mismatch(env, 'mla_reference', `a mutual-assistance reference belongs in a preservation case; case ${env.case} is not one`);
  if (!fromRequester(row, env)) mismatch(env, 'mla_reference', `only the requesting party (${row.requesting_party}) sends the mutual-assistance request`);
  if (direction === 'out' && row.mla_reference !== null) {
    fail('preservation_state', `The mutual-assistance request of case ${row.case_id} is already recorded: ${row.mla_reference}`);
  }
}

async function applyRequest(trx: Trx, m: StoredMessage): Promise<void> {
  const { env, direction, storedAt } = m;
  const t = trx.withTables<LawTables>();
  if (env.case === env.id) {
    await t.insertInto('preservations').values({
      case_id: env.case, request_id: env.id, requesting_party: env.from, responding_party: env.to, direction, state: 'requested',
      reference: null, outcome: null, reason: null, response_id: null, preserved_at: null, expires_at: null, extensions: '[]',
      mla_reference: null, mla_sent_at: null, mla_message_id: null, reminded_at: null, reminded_for: null, created_at: storedAt, updated_at: storedAt,
    }).onConflict((oc) => oc.column('case_id').doNothing()).execute();
    return;
  }
  const row = await rowOf(trx, env.case);
  if (row === undefined) return;
  const extensions = extensionsOf(row);
  if (extensions.some((e) => e.message_id === env.id)) return;
  const days = fieldsOf(env).extension_days;
  extensions.push({ message_id: env.id, requested_at: env.sent_at, days: typeof days === 'number' ? days : DEFAULT_EXTENSION_DAYS });
  await t.updateTable('preservations').set({ extensions: JSON.stringify(extensions), updated_at: storedAt }).where('case_id', '=', row.case_id).execute();
}

async function applyResponse(trx: Trx, m: StoredMessage): Promise<void> {
  const { env, storedAt } = m;
  const row = await rowOf(trx, env.case);
  if (row === undefined) return;
  const f = fieldsOf(env);
  const outcome = f.outcome as Outcome;
  const t = trx.withTables<LawTables>();
  const extensions = extensionsOf(row);
  const ext = extensions.find((e) => e.message_id === env.in_reply_to);
  if (ext === undefined) {
    // The first answer to the request counts (a correct sender never sends a second).
    if (row.response_id !== null) return;
    const preserved = isPreserved(outcome);
    await t.updateTable('preservations').set({
      // A response that crossed our case-close in transit leaves the preservation released.
      state: row.state === 'requested' ? (preserved ? 'preserved' : 'refused') : row.state, outcome, response_id: env.id, updated_at: storedAt,
      reference: typeof f.reference === 'string' ? f.reference : null,
      reason: typeof f.reason === 'string' ? f.reason : null,
      ...(preserved ? { preserved_at: parseIsoTime(f.preserved_at as string), expires_at: expiryOf(env, row, undefined) } : {}),
    }).where('case_id', '=', row.case_id).execute();
    return;
  }
  if (ext.response_id !== undefined) return;
  ext.response_id = env.id;
  ext.outcome = outcome;
  let expires = row.expires_at === null ? null : Number(row.expires_at);
  if (isPreserved(outcome)) {
    expires = expiryOf(env, row, ext);
    ext.expires_at = isoTime(expires);
  }
  const revived = expires !== null && expires > storedAt && row.state === 'expired';
  await t.updateTable('preservations').set({
    extensions: JSON.stringify(extensions), expires_at: expires, updated_at: storedAt, ...(revived ? { state: 'preserved' } : {}),
  }).where('case_id', '=', row.case_id).execute();
}

async function applyMla(trx: Trx, m: StoredMessage): Promise<void> {
  const { env, storedAt } = m;
  const row = await rowOf(trx, env.case);
  if (row === undefined || !fromRequester(row, env) || row.mla_reference !== null) return;
  const f = fieldsOf(env);
  await trx.withTables<LawTables>().updateTable('preservations').set({
    mla_reference: f.mla_reference as string, mla_message_id: env.id, updated_at: storedAt,
    mla_sent_at: typeof f.mla_sent_on === 'string' ? parseIsoTime(f.mla_sent_on) : parseIsoTime(env.sent_at),
  }).where('case_id', '=', row.case_id).execute();
}

/** A case-close lets go of a preservation that is still asked for or kept. */
async function applyClose(trx: Trx, m: StoredMessage): Promise<void> {
  await trx.withTables<LawTables>().updateTable('preservations').set({ state: 'released', updated_at: m.storedAt })
    .where('case_id', '=', m.env.case).where('state', 'in', ['requested', 'preserved']).execute();
}

function isMla(env: Envelope): boolean {
  return env.kind === 'notification' && fieldsOf(env).mla_reference !== undefined;
}

/**
 * The law channel's part in storing messages (federation.hooks.ts), inbound and outbound, after
 * the templates (which refuse a request missing an Art. 29(2) field) and the cases. Preservation
 * kinds travel on `law` (`channel_mismatch`). A request opens a case, or extends the one it is in
 * (`fields.extension_of` = the case, sent by the requesting party); a response answers the
 * request or an extension, sent by the party asked, and a preserving one keeps the data at least
 * 60 days from `preserved_at` (`template_mismatch` on `expires_at`); a notification carrying
 * `mla_reference` records the follow-up mutual-assistance request (`preservation_invalid`
 * otherwise). State rules (extend only what is preserved, answer once, record the MLA once) are
 * the sender's (`preservation_state`): a receiver never refuses what crossed in transit.
 */
export const lawHook: MessageHook = {
  name: 'law',

  async check(trx, env, direction) {
    if (env.kind === 'preservation-request' || env.kind === 'preservation-response') {
      if (env.channel !== 'law') fail('channel_mismatch', `A ${env.kind} travels on channel "law", not "${env.channel}"`);
      if (env.kind === 'preservation-request') await checkRequest(trx, env, direction);
      else await checkResponse(trx, env, direction);
    } else if (isMla(env)) {
      await checkMla(trx, env, direction);
    }
  },

  async apply(trx, m) {
    const kind = m.env.kind;
    if (kind === 'preservation-request') await applyRequest(trx, m);
    else if (kind === 'preservation-response') await applyResponse(trx, m);
    else if (kind === 'case-close') await applyClose(trx, m);
    else if (isMla(m.env)) await applyMla(trx, m);
  },
};
