import type { Kysely, OperandExpression } from 'kysely';
import { parseIsoTime } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { ackStates, idsInAckState, type AckState } from '../deadlines/deadlines.queue.js';
import type { DeadlinesTables } from '../deadlines/deadlines.tables.js';
import { resolveCaseId } from '../cases/cases.ids.js';
import type { CasesTables } from '../cases/cases.tables.js';
import { messagePage, repliesTo, type MessageFilter } from '../federation/federation.messages.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { CHANNELS, KINDS, PRIORITIES } from '../federation/federation.types.js';
import type { Principal } from '../users/users.types.js';
import { indexAll, searchMatches } from './messaging.search.js';
import { viewsOf, type MessageView } from './messaging.service.js';
import { summaryOf } from './messaging.summary.js';
import { templateCatalog } from '../templates/templates.service.js';
import type { MessagingTables } from './messaging.tables.js';

/** The states `--state` takes: the acknowledgement's (deadlines module) and whether it was answered. */
export const INBOX_STATES = ['unacked', 'acked', 'overdue', 'answered'] as const;

/** What `hotline inbox`/`outbox` and GET /api/v1/messages filter on; every filter narrows. */
export interface InboxQuery {
  direction: 'in' | 'out';
  /** Comma-separated lists are allowed for channel, priority and kind. */
  channel?: string;
  priority?: string;
  kind?: string;
  /** The party that sent it, or (`to`) that it went to. */
  from?: string;
  to?: string;
  state?: string;
  /** A case id or a unique prefix of one. */
  case?: string;
  /** Stored at or after: an RFC 3339 UTC time, or a duration back from now (`30m`, `12h`, `7d`). */
  since?: string;
  /** Words, each the start of a word in the free text or in a rendered label or value, in any language. */
  search?: string;
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string;
  /** The reader: only its channels; TLP:RED bodies redacted unless it may read them (and never matched by --search). */
  as?: Principal;
  /** The language of the summaries. */
  lang: string;
}

/** A listed message: the message, the line a person reads, its acknowledgement state, whether it was answered. */
export interface InboxItem extends MessageView {
  summary: string;
  /** The deadline: null for a message that waits for no one (machine traffic). */
  ack: AckState | null;
  answered: boolean;
}

export interface InboxPage {
  messages: InboxItem[];
  /** Pass as `cursor` for the next page; null on the last. */
  next: string | null;
}

type Db = Kysely<FederationTables> & Kysely<DeadlinesTables> & Kysely<CasesTables> & Kysely<MessagingTables>;

function list<T extends string>(value: string | undefined, allowed: readonly T[], what: string, code: 'unknown_channel' | 'unknown_priority' | 'unknown_kind'): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const i of items) if (!(allowed as readonly string[]).includes(i)) fail(code, `Unknown ${what} "${i}"; use one of: ${allowed.join(', ')}`);
  return items as T[];
}

const DURATION = /^(\d{1,6})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function sinceMs(since: string, now: number): number {
  const d = DURATION.exec(since.trim());
  if (d !== null) return now - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  const t = parseIsoTime(since.trim());
  if (Number.isNaN(t)) fail('invalid_argument', `--since takes an RFC 3339 UTC time (2026-01-15T09:00:00Z) or a duration back from now (30m, 12h, 7d), not "${since}"`);
  return t;
}

function encodeCursor(storedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([storedAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { storedAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return { storedAt: v[0] as number, id: v[1] };
  } catch {
    // falls through
  }
  return fail('invalid_argument', 'The cursor is not one a listing gave (pass "next" from the previous page as it is)');
}

/**
 * A page of the inbox (`direction: in`) or outbox, newest first, filtered; each message with its
 * summary, acknowledgement state and whether it was answered. With `as`, only its channels, and
 * TLP:RED bodies it may not read are redacted (summary included); a search never matches them.
 * Paged by an opaque cursor (stored time and id of the last message given).
 */
export async function listMessages(db: Db, now: number, query: InboxQuery): Promise<InboxPage> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
  let channels = list(query.channel, CHANNELS, 'channel', 'unknown_channel') ?? [...CHANNELS];
  if (query.as !== undefined) channels = channels.filter((c) => (query.as!.channels as readonly string[]).includes(c));
  const priorities = list(query.priority, PRIORITIES, 'priority', 'unknown_priority');
  const kinds = list(query.kind, KINDS, 'kind', 'unknown_kind');
  if (query.state !== undefined && !(INBOX_STATES as readonly string[]).includes(query.state)) {
    fail('invalid_argument', `Unknown state "${query.state}"; use one of: ${INBOX_STATES.join(', ')}`);
  }
  const since = query.since === undefined ? undefined : sinceMs(query.since, now);
  const match = query.search === undefined ? undefined : searchMatches(db, query.search);
  // The index is filled in batches behind the store (messaging.search.ts): catch up first, so a
  // search sees every message stored before it.
  if (match !== undefined) await indexAll(db);
  const caseId = query.case === undefined ? undefined : await resolveCaseId(db, query.case, channels);
  let after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (channels.length === 0) return { messages: [], next: null };

  // The messages are federation's (federation.messages.ts); the acknowledgement states (deadlines)
  // and the search index (this module) narrow them as subqueries their owners build.
  const idIn: OperandExpression<string>[] = [];
  if (query.state !== undefined && query.state !== 'answered') idIn.push(idsInAckState(db, query.state as 'unacked' | 'acked' | 'overdue', now));
  if (match !== undefined) idIn.push(match);
  const filter: MessageFilter = {
    direction: query.direction, channels,
    ...(priorities === undefined ? {} : { priorities }),
    ...(kinds === undefined ? {} : { kinds }),
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
    ...(caseId === undefined ? {} : { caseId }),
    ...(since === undefined ? {} : { since }),
    ...(query.state === 'answered' ? { answered: true } : {}),
    idIn,
  };

  const out: InboxItem[] = [];
  let more = false;
  // Rounds of `limit + 1` rows: a search drops what the reader may not read, and the next round goes on after it.
  for (;;) {
    const page = await messagePage(db, filter, after, limit + 1);
    const views = await viewsOf(db, page.slice(0, limit), query.as);
    for (const v of views) {
      if (out.length >= limit) break;
      if (match !== undefined && v.redacted !== undefined) continue;
      out.push(v as InboxItem);
    }
    if (out.length >= limit) {
      const lastOut = out.at(-1)!;
      more = page.length > limit || page.findIndex((r) => r.id === lastOut.id) < page.length - 1;
      break;
    }
    if (page.length <= limit) break;
    const last = page[limit - 1]!;
    after = { storedAt: Number(last.stored_at), id: last.id };
  }
  const ids = out.map((m) => m.id);
  const [acks, answered] = await Promise.all([ackStates(db, ids, now), answeredAmong(db, out)]);
  const catalog = templateCatalog();
  for (const m of out) {
    m.summary = m.redacted ?? summaryOf(m.kind, { ...(m.fields == null ? {} : { fields: m.fields }), ...(m.text === null ? {} : { text: m.text }) }, query.lang, catalog);
    m.ack = acks.get(m.id) ?? null;
    m.answered = answered.has(m.id);
  }
  const last = out.at(-1);
  return { messages: out, next: more && last !== undefined ? encodeCursor(Date.parse(last.stored_at), last.id) : null };
}

/** Of these messages, the ones answered: another message, the other way, in reply to it (an ack is not an answer). */
async function answeredAmong(db: Kysely<FederationTables>, messages: readonly { id: string; direction: string }[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const direction = new Map(messages.map((m) => [m.id, m.direction]));
  const rows = await repliesTo(db, [...direction.keys()]);
  return new Set(rows.filter((r) => r.in_reply_to !== null && direction.get(r.in_reply_to) !== r.direction).map((r) => r.in_reply_to!));
}
