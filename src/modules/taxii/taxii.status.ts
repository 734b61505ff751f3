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
 * Status resources of POSTs and inbound `indicators` messages: created with the first stored
 * batch's outcomes, then one part per further batch (each written in
 * its batch's own transaction, so the counts are always what is really stored), then complete.
 */
export const statuses = {
  /** A new status for `total` objects with its first batch's outcomes (part 0; `last` if it was the only batch): two statements. */
  async create(db: Db, s: { collectionId: string; principal: string; total: number; requestedAt: number; messageId?: string | null },
    first: { result: AddResult; last: boolean }): Promise<string> {
    const id = randomUUID();
    const ok = first.result.successes.length;
    const failed = first.result.failures.length;
    await db.insertInto('taxii_status').values({
      id, collection_id: s.collectionId, principal: s.principal, status: first.last ? 'complete' : 'pending', request_timestamp: s.requestedAt,
      total_count: s.total, success_count: ok, failure_count: failed, pending_count: s.total - ok - failed, message_id: s.messageId ?? null,
    }).execute();
    await insertPart(db, id, 0, first.result);
    return id;
  },

  /** Records one stored batch's outcomes (in the batch's transaction), after the first ({@link create}). */
  async addPart(trx: Db, id: string, part: number, r: AddResult, last: boolean): Promise<void> {
    await insertPart(trx, id, part, r);
    await trx.updateTable('taxii_status').set((eb) => ({
      success_count: eb('success_count', '+', r.successes.length), failure_count: eb('failure_count', '+', r.failures.length),
      pending_count: eb('pending_count', '-', r.successes.length + r.failures.length), ...(last ? { status: 'complete' } : {}),
    })).where('id', '=', id).execute();
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

function insertPart(db: Db, id: string, part: number, r: AddResult): Promise<unknown> {
  return db.insertInto('taxii_status_parts').values({ status_id: id, part, successes: JSON.stringify(r.successes), failures: JSON.stringify(r.failures) }).execute();
}
