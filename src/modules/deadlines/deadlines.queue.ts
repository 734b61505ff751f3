import type { Kysely } from 'kysely';
import { isoTime } from '../../shared/clock.js';
import type { FederationTables } from '../federation/federation.tables.js';
import { PRIORITIES } from '../federation/federation.types.js';
import { readableSummaries } from '../messaging/messaging.summary.js';
import type { Principal } from '../users/users.types.js';
import type { DeadlinesTables } from './deadlines.tables.js';

/** One line of the duty officer's queue (`hotline queue --json`, GET /api/v1/queue), its members in this order. */
export interface QueueItem {
  id: string;
  priority: string;
  kind: string;
  from: string;
  channel: string;
  case: string;
  due_at: string;
  /** True once the due time has passed. */
  overdue: boolean;
  summary: string;
}

export interface QueueOptions {
  /** Most items (default 100, at most 1000). */
  limit?: number;
  /** The language of the summaries (the node's `language`). */
  lang: string;
}

/** Rows read per round: a round's rows the reader may not read (TLP:RED for others) are skipped and the next read. */
const BATCH = 200;

/**
 * What `as` must acknowledge: messages this node received that wait for a person
 * (deadlines.policy.ts) and are not acknowledged yet, on `as`'s channels, and, for TLP:RED, only
 * those naming `as` as a recipient (messaging `readableSummaries`). FLASH first, then IMMEDIATE,
 * PRIORITY, ROUTINE; within a priority the earliest due first. Machine traffic never has a
 * deadline, so no volume of it pushes a FLASH down. Each priority is read through the
 * `deadlines_queue` index (direction, acked_at, priority, due_at).
 */
export async function dutyQueue(db: Kysely<DeadlinesTables> & Kysely<FederationTables>, now: number, as: Principal, opts: QueueOptions): Promise<QueueItem[]> {
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  const channels = [...as.channels];
  const out: QueueItem[] = [];
  if (channels.length === 0) return out;
  for (const priority of PRIORITIES) {
    let after: { due: number; id: string } | undefined;
    while (out.length < limit) {
      let q = db.selectFrom('deadlines').select(['message_id', 'kind', 'channel', 'case_id', 'priority', 'due_at'])
        .where('direction', '=', 'in').where('acked_at', 'is', null).where('priority', '=', priority).where('channel', 'in', channels);
      if (after !== undefined) {
        const a = after;
        q = q.where((eb) => eb.or([eb('due_at', '>', a.due), eb.and([eb('due_at', '=', a.due), eb('message_id', '>', a.id)])]));
      }
      const rows = await q.orderBy('due_at').orderBy('message_id').limit(BATCH).execute();
      if (rows.length === 0) break;
      const readable = await readableSummaries(db, rows.map((r) => r.message_id), as, opts.lang);
      for (const r of rows) {
        const m = readable.get(r.message_id);
        if (m === undefined || out.length >= limit) continue;
        const due = Number(r.due_at);
        out.push({ id: r.message_id, priority: r.priority, kind: r.kind, from: m.from, channel: r.channel, case: r.case_id, due_at: isoTime(due), overdue: now >= due, summary: m.summary });
      }
      const last = rows.at(-1)!;
      after = { due: Number(last.due_at), id: last.message_id };
      if (rows.length < BATCH) break;
    }
  }
  return out;
}

/** A message's acknowledgement as a listing shows it; only for messages that wait (or waited) for a person. */
export interface AckState {
  due_at: string;
  acknowledged_at: string | null;
  overdue: boolean;
}

/** The acknowledgement state of each of these messages that has a deadline. */
export async function ackStates(db: Kysely<DeadlinesTables>, ids: readonly string[], now: number): Promise<Map<string, AckState>> {
  const out = new Map<string, AckState>();
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('deadlines').select(['message_id', 'due_at', 'acked_at']).where('message_id', 'in', [...ids]).execute();
  for (const r of rows) {
    const due = Number(r.due_at);
    out.set(r.message_id, { due_at: isoTime(due), acknowledged_at: r.acked_at === null ? null : isoTime(Number(r.acked_at)), overdue: r.acked_at === null && now >= due });
  }
  return out;
}

/** The acknowledgement states a listing filters on (`--state`; `answered` is the messaging module's). */
export type AckFilter = 'unacked' | 'acked' | 'overdue';

/**
 * The ids of messages in an acknowledgement state, as a subquery another module's listing puts
 * in its `where id in (...)`: the deadlines table stays this module's to query. `unacked`: waits
 * for a person and not acknowledged; `overdue`: that, past its due time; `acked`: acknowledged.
 */
export function idsInAckState(db: Kysely<DeadlinesTables>, state: AckFilter, now: number) {
  const q = db.selectFrom('deadlines').select('message_id');
  if (state === 'acked') return q.where('acked_at', 'is not', null);
  if (state === 'overdue') return q.where('acked_at', 'is', null).where('due_at', '<=', now);
  return q.where('acked_at', 'is', null);
}
