/**
 * How the STIX object store finds the stored versions of a batch's objects (taxii.store.ts
 * `versionsOf`): the statements per dialect, and the 48 bits of an id the lookup index is keyed by
 * (migration 0023, docs/decisions/0007).
 */

/**
 * The statements of `StixStore.versionsOf`, per dialect: a batch's ids with their hashes (or id,
 * hash and version) as one value, arrays on PostgreSQL, JSON on SQLite (json_each); each id's
 * latest or earliest stored version by one probe of the index (collection_key, id_hash, version),
 * walked in version order until a row's `object_id` is the id (the first row, unless another id
 * shares its 48 bits).
 */
export const LOOKUPS = {
  postgres: {
    latest: 'select i.id as object_id, (select s.version from stix_objects s where s.collection_key = $1 and s.id_hash = i.h and s.object_id = i.id order by s.version desc limit 1) as version from unnest($2::text[], $3::int8[]) as i(id, h)',
    earliest: 'select i.id as object_id, (select s.version from stix_objects s where s.collection_key = $1 and s.id_hash = i.h and s.object_id = i.id order by s.version limit 1) as version from unnest($2::text[], $3::int8[]) as i(id, h)',
    exact: 'select s.object_id, s.version from unnest($2::text[], $3::int8[], $4::int8[]) as p(id, h, v) join stix_objects s on s.collection_key = $1 and s.id_hash = p.h and s.version = p.v and s.object_id = p.id',
    idsParams: (collection: number, ids: readonly string[]): unknown[] => [collection, ids, ids.map(idHash)],
    pairsParams: (collection: number, pairs: readonly [string, number][]): unknown[] => [collection, pairs.map((p) => p[0]), pairs.map((p) => idHash(p[0])), pairs.map((p) => p[1])],
  },
  sqlite: {
    latest: 'select json_extract(j.value, \'$[0]\') as object_id, (select s.version from stix_objects s where s.collection_key = ? and s.id_hash = json_extract(j.value, \'$[1]\') and s.object_id = json_extract(j.value, \'$[0]\') order by s.version desc limit 1) as version from json_each(?) as j',
    earliest: 'select json_extract(j.value, \'$[0]\') as object_id, (select s.version from stix_objects s where s.collection_key = ? and s.id_hash = json_extract(j.value, \'$[1]\') and s.object_id = json_extract(j.value, \'$[0]\') order by s.version limit 1) as version from json_each(?) as j',
    exact: 'select s.object_id, s.version from json_each(?) as p cross join stix_objects s on s.collection_key = ? and s.id_hash = json_extract(p.value, \'$[1]\') and s.version = json_extract(p.value, \'$[2]\') and s.object_id = json_extract(p.value, \'$[0]\')',
    idsParams: (collection: number, ids: readonly string[]): unknown[] => [collection, JSON.stringify(ids.map((id) => [id, idHash(id)]))],
    pairsParams: (collection: number, pairs: readonly [string, number][]): unknown[] => [JSON.stringify(pairs.map((p) => [p[0], idHash(p[0]), p[1]])), collection],
  },
} as const;

/** PostgreSQL: bitmap scans off to the end of the transaction, saying what the setting was (StixStore.versionsOf). */
export const BITMAP_OFF = `select current_setting('enable_bitmapscan') as was, set_config('enable_bitmapscan', 'off', true)`;
export const BITMAP_RESTORE = `select set_config('enable_bitmapscan', $1, true)`;

/**
 * 48 bits of a STIX id, what `stix_objects` indexes its lookup by object with: the id's last 12
 * characters read as hex digits (a STIX id ends in a UUID, whose last 12 digits are random or a
 * hash). Exactly what migration 0023 computes in SQL for the rows it copies. Two ids may share
 * them: every lookup also compares `object_id`.
 */
export function idHash(id: string): number {
  let h = 0;
  for (let i = id.length - 12; i < id.length; i++) h = h * 16 + HEX.indexOf(id.charAt(i).toLowerCase());
  return h;
}
const HEX = '0123456789abcdef';
