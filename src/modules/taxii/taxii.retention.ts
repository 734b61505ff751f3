import type { Kysely } from 'kysely';
import type { Prunable } from '../../shared/retention.js';
import type { TaxiiTables } from './taxii.tables.js';

/**
 * TAXII status resources (and their parts) of requests older than the retention: complete ones
 * only (a pending one is a request still being stored). Statuses keep request times in µs.
 */
export function taxiiStatusRetention(db: Kysely<TaxiiTables>): Prunable {
  const old = (d: Kysely<TaxiiTables>, before: number) => d.selectFrom('taxii_status').where('request_timestamp', '<', before * 1000).where('status', '=', 'complete');
  return {
    kind: 'taxii_statuses',
    async count(before) {
      const r = await old(db, before).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    prune(before, limit) {
      return db.transaction().execute(async (trx) => {
        const ids = (await old(trx, before).select('id').limit(limit).execute()).map((r) => r.id);
        if (ids.length === 0) return 0;
        await trx.deleteFrom('taxii_status_parts').where('status_id', 'in', ids).execute();
        await trx.deleteFrom('taxii_status').where('id', 'in', ids).execute();
        return ids.length;
      });
    },
  };
}
