import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AddResult, StatusDetail } from './taxii.store.js';
import type { TaxiiTables } from './taxii.tables.js';
import { formatMicros } from './taxii.time.js';

/** The TAXII 2.1 status resource (section 4.3.1). Empty lists are omitted, as TAXII requires. */
export interface StatusResource {
  id: string;
  status: 'pending' | 'complete';
  request_timestamp: string;
  total_count: number;
  success_count: number;
  successes?: StatusDetail[];
  failure_count: number;
  failures?: StatusDetail[];
  pending_count: number;
  /** Set when the node restarted before it finished this request (the lists are then left out, the counts stay true). */
  x_hotline_interrupted?: string;
}

type Db = Kysely<TaxiiTables>;

/**
 * Status resources of POSTs and inbound `indicators` messages: created pending with the total,
 * then one part per stored batch (written in the batch's own transaction, so the counts are
 * always what is really stored), then complete.
 */
export const statuses = {
  /** A new pending status for `total` objects. */
  async create(db: Db, s: { collectionId: string; principal: string; total: number; requestedAt: number; messageId?: string | null }): Promise<string> {
    const id = randomUUID();
    await db.insertInto('taxii_status').values({
      id, collection_id: s.collectionId, principal: s.principal, status: 'pending', request_timestamp: s.requestedAt,
      total_count: s.total, success_count: 0, failure_count: 0, pending_count: s.total, message_id: s.messageId ?? null,
    }).execute();
    return id;
  },

  /** Records one stored batch's outcomes (in the batch's transaction). */
  async addPart(trx: Db, id: string, part: number, r: AddResult, last: boolean): Promise<void> {
    await trx.insertInto('taxii_status_parts').values({ status_id: id, part, successes: JSON.stringify(r.successes), failures: JSON.stringify(r.failures) }).execute();
    const n = r.successes.length + r.failures.length;
    const s = await trx.selectFrom('taxii_status').select(['success_count', 'failure_count', 'pending_count']).where('id', '=', id).executeTakeFirstOrThrow();
    await trx.updateTable('taxii_status').set({
      success_count: s.success_count + r.successes.length, failure_count: s.failure_count + r.failures.length,
      pending_count: s.pending_count - n, ...(last ? { status: 'complete' } : {}),
    }).where('id', '=', id).execute();
  },

  /** The resource, or undefined when there is no such status. */
  async get(db: Db, id: string): Promise<{ resource: StatusResource; principal: string; collectionId: string } | undefined> {
    const s = await db.selectFrom('taxii_status').selectAll().where('id', '=', id).executeTakeFirst();
    if (s === undefined) return undefined;
    const resource: StatusResource = {
      id: s.id, status: s.status as 'pending' | 'complete', request_timestamp: formatMicros(Number(s.request_timestamp)),
      total_count: s.total_count, success_count: s.success_count, failure_count: s.failure_count, pending_count: s.pending_count,
    };
    const interrupted = s.status === 'complete' && s.pending_count > 0;
    if (interrupted) {
      resource.x_hotline_interrupted = `The node restarted before it had stored ${s.pending_count} of these objects; POST them again (objects already stored are recognised and not stored twice)`;
      return { resource, principal: s.principal, collectionId: s.collection_id };
    }
    const parts = await db.selectFrom('taxii_status_parts').select(['successes', 'failures']).where('status_id', '=', id).orderBy('part').execute();
    const successes = parts.flatMap((p) => JSON.parse(p.successes) as StatusDetail[]);
    const failures = parts.flatMap((p) => JSON.parse(p.failures) as StatusDetail[]);
    if (successes.length > 0) resource.successes = successes;
    if (failures.length > 0) resource.failures = failures;
    return { resource, principal: s.principal, collectionId: s.collection_id };
  },

  /**
   * At start: requests the node was storing when it stopped are complete now with what was stored;
   * their status says so (taxii2-client checks that lists match counts, so the lists are left out).
   */
  async finishInterrupted(db: Db): Promise<number> {
    const r = await db.updateTable('taxii_status').set({ status: 'complete' }).where('status', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
};
