import type { Kysely } from 'kysely';
import { pruneByIds, type Prunable } from '../../shared/retention.js';
import type { TaxiiTables } from './taxii.tables.js';

/**
 * TAXII status resources (and their parts) of requests older than the retention: complete ones
 * only (a pending one is a request still being stored). Statuses keep request times in µs.
 */
export function taxiiStatusRetention(db: Kysely<TaxiiTables>): Prunable {
  return pruneByIds(db, {
    kind: 'taxii_statuses',
    old: (d, before) => d.selectFrom('taxii_status').where('request_timestamp', '<', before * 1000).where('status', '=', 'complete'),
    id: 'taxii_status.id',
    remove: async (trx, ids) => {
      await trx.deleteFrom('taxii_status_parts').where('status_id', 'in', [...ids]).execute();
      await trx.deleteFrom('taxii_status').where('id', 'in', [...ids]).execute();
    },
  });
}
