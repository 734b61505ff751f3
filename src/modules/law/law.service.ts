import { isoTime, parseIsoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { prefixBounds, resolveUuid } from '../../shared/shortid.js';
import type { Envelope } from '../federation/federation.types.js';
import { send } from '../messaging/messaging.service.js';
import { canRead, markedOf, recipientsOf, redactionNotice } from '../messaging/messaging.visibility.js';
import { requireChannel } from '../users/users.access.js';
import type { Principal } from '../users/users.types.js';
import { extensionsOf } from './law.hook.js';
import type { PreservationsTable } from './law.tables.js';
import { DAY_MS, PRESERVATION_STATES, type LawDb, type LawDeps, type Outcome, type PreservationState, type PreservationView } from './law.types.js';
import { messageFields, messagesFields } from '../federation/federation.messages.js';

/** The channel preservations travel on; only principals holding it see or act on them. */
export const LAW_CHANNEL = 'law';

function ms(v: number | null): string | null {
  return v === null ? null : isoTime(Number(v));
}

/** A stored preservation as the CLI and the API show it; `now` decides `days_left`. */
export function preservationView(r: PreservationsTable, now: number): PreservationView {
  const expires = r.expires_at === null ? null : Number(r.expires_at);
  const current = r.reminded_for !== null && expires !== null && Number(r.reminded_for) === expires;
  return {
    case: r.case_id, request_id: r.request_id, requesting_party: r.requesting_party, responding_party: r.responding_party,
    direction: r.direction, state: r.state as PreservationState, outcome: r.outcome as Outcome | null, reference: r.reference,
    reason: r.reason, response_id: r.response_id, preserved_at: ms(r.preserved_at), expires_at: ms(expires),
    days_left: expires === null || r.state !== 'preserved' ? null : Math.floor((expires - now) / DAY_MS),
    extensions: extensionsOf(r),
    mla_request: r.mla_reference === null ? null : { reference: r.mla_reference, sent_at: ms(r.mla_sent_at) ?? '', message_id: r.mla_message_id },
    reminded_at: current ? ms(r.reminded_at) : null,
    created_at: isoTime(Number(r.created_at)), updated_at: isoTime(Number(r.updated_at)),
  };
}

/** Which preservations `hotline preservation list` and GET /api/v1/preservations list. */
export interface PreservationListOptions {
  /** Only those the reminder processor has reminded of their current expiry, still preserved. */
  due?: boolean;
  state?: string;
  limit?: number;
  /** The reader: refused (`forbidden`) unless it holds the law channel. */
  as?: Principal;
}

/** Preservations, soonest expiry first (unanswered ones last, newest first). */
export async function listPreservations(db: LawDb, now: number, opts: PreservationListOptions = {}): Promise<PreservationView[]> {
  if (opts.as !== undefined) requireChannel(opts.as, LAW_CHANNEL);
  if (opts.state !== undefined && !(PRESERVATION_STATES as readonly string[]).includes(opts.state)) {
    fail('invalid_argument', `Unknown preservation state "${opts.state}"; use one of: ${PRESERVATION_STATES.join(', ')}`);
  }
  let q = db.selectFrom('preservations').selectAll();
  if (opts.state !== undefined) q = q.where('state', '=', opts.state);
  if (opts.due === true) q = q.where('state', '=', 'preserved').where('reminded_for', 'is not', null).whereRef('reminded_for', '=', 'expires_at');
  const rows = await q.orderBy('created_at', 'desc').orderBy('case_id', 'desc').limit(Math.min(Math.max(opts.limit ?? 100, 1), 1000)).execute();
  const views = await readablePreservations(db, rows.map((r) => preservationView(r, now)), opts.as);
  const key = (v: PreservationView): number => (v.expires_at === null ? Number.POSITIVE_INFINITY : Date.parse(v.expires_at));
  return views.sort((a, b) => key(a) - key(b));
}

async function rowFor(db: LawDb, caseId: string, as: Principal | undefined): Promise<PreservationsTable> {
  if (as !== undefined) requireChannel(as, LAW_CHANNEL);
  caseId = await resolveUuid(caseId, 'preservation case', async (p, n) => {
    const { lo, hi } = prefixBounds(p);
    return (await db.selectFrom('preservations').select('case_id').where('case_id', '>=', lo).where('case_id', '<', hi).orderBy('case_id').limit(n).execute()).map((r) => r.case_id);
  });
  const row = await db.selectFrom('preservations').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  if (row === undefined) fail('not_found', `No preservation in case ${caseId} on this node; see hotline preservation list`);
  return row;
}

/** One preservation, by its case. */
export async function showPreservation(db: LawDb, caseId: string, now: number, as?: Principal): Promise<PreservationView> {
  const [view] = await readablePreservations(db, [preservationView(await rowFor(db, caseId, as), now)], as);
  return view!;
}

/**
 * What `as` may see of each preservation: the fields taken from a TLP:RED message's body (the
 * response's `reference` and `reason`, the mutual-assistance reference) are null, with a
 * `redacted` notice, unless `as` may read that message (messaging.visibility `canRead`, the one
 * rule for every view). The state, outcome and dates stay: they are the case's bookkeeping.
 */
async function readablePreservations(db: LawDb, views: PreservationView[], as: Principal | undefined): Promise<PreservationView[]> {
  if (as === undefined) return views;
  const ids = views.flatMap((v) => [v.response_id, v.mla_request?.message_id ?? null]).filter((id): id is string => id !== null);
  if (ids.length === 0) return views;
  const red = await messagesFields(db, ids, ['id', 'direction', 'channel', 'tlp', 'envelope', 'from_party', 'to_party'], 'red');
  const hidden = new Map<string, string>();
  for (const r of red) {
    const marked = markedOf(r, (JSON.parse(r.envelope) as Envelope).body);
    if (!canRead(as, marked)) hidden.set(r.id, redactionNotice(marked, r.direction === 'out' ? r.to_party : r.from_party));
  }
  if (hidden.size === 0) return views;
  return views.map((v) => {
    const response = v.response_id === null ? undefined : hidden.get(v.response_id);
    const mla = v.mla_request?.message_id == null ? undefined : hidden.get(v.mla_request.message_id);
    if (response === undefined && mla === undefined) return v;
    return {
      ...v,
      ...(response === undefined ? {} : { reference: null, reason: null }),
      ...(mla === undefined || v.mla_request === null ? {} : { mla_request: { ...v.mla_request, reference: null } }),
      redacted: (response ?? mla)!,
    };
  });
}

async function requestEnvelope(db: LawDb, row: PreservationsTable): Promise<Envelope> {
  const m = await messageFields(db, row.request_id, ['envelope']);
  if (m === undefined) fail('internal', `The preservation request ${row.request_id} of case ${row.case_id} is not in the store`);
  return JSON.parse(m.envelope) as Envelope;
}

function ownRequest(row: PreservationsTable, what: string): void {
  if (row.direction !== 'out') fail('preservation_state', `Case ${row.case_id} is ${row.requesting_party}'s request to this node; only the requesting party ${what}`);
}

/** What `hotline preservation extend` and POST /api/v1/preservations/:case/extend take. */
export interface ExtendInput {
  case: string;
  days: number;
  text?: string;
  lang?: string;
}

/**
 * Asks the responding party to keep the data `days` longer: a preservation-request in the same
 * case repeating the original's Art. 29(2) fields, with `extension_of` (the case) and
 * `extension_days`. The responder's preservation-response to it moves the expiry.
 */
export async function extendPreservation(deps: LawDeps, input: ExtendInput, as?: Principal): Promise<Envelope> {
  if (!Number.isInteger(input.days) || input.days < 1 || input.days > 365) fail('invalid_argument', `--days must be a whole number of days from 1 to 365, not ${String(input.days)}`);
  const row = await rowFor(deps.db, input.case, as);
  ownRequest(row, 'asks to extend it');
  const original = await requestEnvelope(deps.db, row);
  const fields = { ...(original.body.fields as Record<string, unknown>), extension_of: row.case_id, extension_days: input.days };
  const recipients = original.tlp === 'red' ? recipientsOf(original.body) : null;
  return send(deps, {
    to: row.responding_party, channel: LAW_CHANNEL, kind: 'preservation-request', priority: original.priority, tlp: original.tlp,
    case: row.case_id, in_reply_to: row.request_id, fields,
    ...(input.text === undefined ? {} : { text: input.text }),
    ...(input.lang === undefined ? {} : { lang: input.lang }),
    ...(recipients === null ? {} : { recipients }),
  }, as);
}

/** What `hotline preservation mla` and POST /api/v1/preservations/:case/mla take. */
export interface MlaInput {
  case: string;
  /** The mutual-assistance request's reference. */
  reference: string;
  /** When it was sent (RFC 3339 UTC); now when absent. */
  sent_on?: string;
  text?: string;
  lang?: string;
}

/**
 * Records the follow-up mutual-assistance request (Art. 29(2)(f)): sends the responding party a
 * `notification` in the case with `mla_reference` and `mla_sent_on`; the law hook records it on
 * both nodes as the notification is stored (here, in the same transaction).
 */
export async function recordMla(deps: LawDeps, input: MlaInput, as?: Principal): Promise<Envelope> {
  const reference = typeof input.reference === 'string' ? input.reference.trim() : '';
  if (reference === '' || reference.length > 200) fail('invalid_argument', '--reference must be the mutual-assistance request\'s reference (1 to 200 characters)');
  const sentOn = input.sent_on ?? isoTime(deps.clock.now());
  if (Number.isNaN(parseIsoTime(sentOn))) fail('invalid_argument', `--date must be an RFC 3339 UTC time such as 2026-03-01T00:00:00Z, not "${sentOn}"`);
  const row = await rowFor(deps.db, input.case, as);
  ownRequest(row, 'sends the mutual-assistance request');
  const original = await requestEnvelope(deps.db, row);
  const recipients = original.tlp === 'red' ? recipientsOf(original.body) : null;
  return send(deps, {
    to: row.responding_party, channel: LAW_CHANNEL, kind: 'notification', priority: original.priority, tlp: original.tlp,
    case: row.case_id, in_reply_to: row.request_id, fields: { mla_reference: reference, mla_sent_on: sentOn },
    text: input.text ?? `The request for mutual assistance ${reference} that preservation request ${row.request_id} announced was sent on ${sentOn}.`,
    ...(input.lang === undefined ? {} : { lang: input.lang }),
    ...(recipients === null ? {} : { recipients }),
  }, as);
}
