import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { dialectOf } from '../../shared/dialect.js';
import { fail } from '../../shared/errors.js';
import type { Principal } from '../users/users.types.js';
import { CollectionRepository, type Access, type Collection } from './taxii.collections.js';
import { CursorCodec } from './taxii.cursor.js';
import { isStixId, parsePageRequest, type Endpoint, type ObjectFilter } from './taxii.filters.js';
import { queryPage, type StoredVersion } from './taxii.query.js';
import { statuses, type StatusResource } from './taxii.status.js';
import { idHash } from './taxii.lookups.js';
import { INGEST_BATCH, type AddResult, type Incoming, type Provenance, type StatusDetail, type StixStore } from './taxii.store.js';
import type { TaxiiTables } from './taxii.tables.js';
import { canSee } from './taxii.visibility.js';

export interface TaxiiLimits {
  /** Largest page a client can ask for (a larger `limit` is lowered to it). */
  maxPage: number;
  /** Page size when the client gives no `limit`. */
  defaultPage: number;
}

export interface TaxiiDeps {
  db: Kysely<TaxiiTables>;
  store: StixStore;
  collections: CollectionRepository;
  cursors: CursorCodec;
  clock: Clock;
  limits: TaxiiLimits;
}

/** A page as the HTTP adapter renders it. */
export interface PageResult {
  rows: StoredVersion[];
  more: boolean;
  next: string | null;
}

/** What a collection operation needs: the collection must be visible, and readable or writable. */
type Need = 'see' | 'read' | 'write' | 'delete';

/** The TAXII 2.1 operations on collections, as the domain sees them (no HTTP here). */
export class TaxiiService {
  constructor(private readonly deps: TaxiiDeps) {}

  get collections(): CollectionRepository {
    return this.deps.collections;
  }

  /** The object store itself (feed runs and tests write to it inside their own transactions). */
  get store(): StixStore {
    return this.deps.store;
  }

  /** The collection, if `p` may do `need` with it: 404 when it may not see it, 403 when it sees it but may not. */
  async collectionFor(p: Principal, idOrAlias: string, need: Need): Promise<{ collection: Collection; access: Access }> {
    const c = await this.deps.collections.find(idOrAlias);
    const access = c === undefined ? undefined : await this.deps.collections.access(p, c);
    if (c === undefined || access === undefined || !access.visible) fail('not_found', `No collection "${idOrAlias}" here (or you may not see it)`);
    const ok = need === 'see' || (need === 'read' && access.read) || (need === 'write' && access.write) || (need === 'delete' && access.read && access.write);
    if (!ok) {
      const what = need === 'delete' ? 'delete from (that needs read and write)' : need === 'read' ? 'read' : 'write to';
      fail('forbidden', `You may not ${what} collection "${c.alias}"; ask the node administrator for a grant (hotline collection grant)`);
    }
    return { collection: c, access };
  }

  /**
   * One page of objects, manifest records, one object's versions, or one object (the filters
   * each endpoint takes are in taxii.filters.ts).
   */
  async page(p: Principal, idOrAlias: string, endpoint: Exclude<Endpoint, 'delete'>, query: Record<string, unknown>, objectId?: string): Promise<PageResult> {
    const { collection } = await this.collectionFor(p, idOrAlias, 'read');
    const req = parsePageRequest(query, endpoint, { maxLimit: this.deps.limits.maxPage, defaultLimit: this.deps.limits.defaultPage });
    let filter: ObjectFilter = req.filter;
    if (objectId !== undefined) {
      if (!isStixId(objectId)) fail('not_found', `"${objectId}" is not a STIX id, so no such object is here`);
      filter = { ...filter, ids: [objectId], types: null };
    }
    const key = objectId === undefined ? endpoint : `${endpoint}:${objectId}`;
    let after = filter.addedAfter ?? 0;
    if (req.next !== null) {
      const c = this.deps.cursors.decode(req.next, { collection: collection.id, endpoint: key, filter, filtersGiven: req.filtersGiven });
      filter = c.f;
      after = Math.max(c.p, filter.addedAfter ?? 0);
    }
    const page = await queryPage(this.deps.db, await this.deps.store.keyOf(this.deps.db, collection.id), filter, after, req.limit, (r) => canSee(p, r));
    const next = page.more ? this.deps.cursors.encode({ c: collection.id, e: key, f: filter, p: page.position }) : null;
    if (objectId !== undefined && page.rows.length === 0 && !page.more && req.next === null) {
      fail('not_found', `No object ${objectId} in collection "${collection.alias}" matches (or you may not see it)`);
    }
    return { rows: page.rows, more: page.more, next };
  }

  /**
   * Adds a TAXII envelope's objects: validated one by one (an invalid object is a failure with its
   * reason; the valid ones are stored), in transactions of {@link INGEST_BATCH}, the first of which
   * also creates the status. Returns the status.
   */
  async add(p: Principal, idOrAlias: string, envelope: unknown): Promise<StatusResource> {
    const { collection } = await this.collectionFor(p, idOrAlias, 'write');
    const objects = envelopeObjects(envelope);
    const db = this.deps.db;
    const requestedAt = this.deps.clock.now() * 1000;
    // What a peer's account posts is that peer's data (TLP:AMBER of it is never served to another peer).
    const prov: Provenance = { source: p.peer ?? 'local', added_by: p.user, recipients: null, message_id: null };
    const { prepare } = await import('./taxii.prepare.js');
    let id = '';
    const batch = INGEST_BATCH[dialectOf(db)];
    for (let i = 0, part = 0; i < objects.length; i += batch, part++) {
      const valid: Incoming[] = [];
      const failures: StatusDetail[] = [];
      // Validated in slices, the event loop let in between: a batch of 5,000 took 15-40 ms in one
      // go, and every statement of the writer whose turn it was waited behind it.
      for (let j = i; j < Math.min(i + batch, objects.length); j += PREPARE_SLICE) {
        if (j > i) await new Promise((resolve) => setImmediate(resolve));
        const part = prepare(objects.slice(j, Math.min(j + PREPARE_SLICE, i + batch)), collection.default_tlp, 'clear', j);
        valid.push(...part.valid);
        failures.push(...part.failures);
      }
      // A large batch's lookups of stored versions, before its turn among the store's writers.
      const prefetched = valid.length >= PREFETCH_MIN ? await this.deps.store.prefetch(db, collection.id, valid) : undefined;
      // One durable commit per batch, the status included: it is created in the first batch's
      // transaction, so a POST of up to one batch of objects costs one fsync, not two; and POSTs
      // that arrive while another is stored share the next commit (StixStore.transaction).
      // The transaction may run again (PostgreSQL, serialization failure): it assigns `id` afresh each time.
      await this.deps.store.transaction(db, async (trx) => {
        const r: AddResult = await this.deps.store.add(trx, collection.id, valid, prov, prefetched);
        const result = { successes: r.successes, failures: [...failures, ...r.failures] };
        const last = i + batch >= objects.length;
        if (part === 0) id = await statuses.create(trx, { collectionId: collection.id, principal: p.user, total: objects.length, requestedAt }, { result, last });
        else await statuses.addPart(trx, id, part, result, last);
      }, valid.length);
      if (i + batch < objects.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return (await statuses.get(db, id))!.resource;
  }

  /** Deletes the versions of an object `p` can see that match `match[version]` (default: all of them). */
  async remove(p: Principal, idOrAlias: string, objectId: string, query: Record<string, unknown>): Promise<number> {
    const { collection } = await this.collectionFor(p, idOrAlias, 'delete');
    const req = parsePageRequest(query, 'delete', { maxLimit: 1, defaultLimit: 1 });
    if (!isStixId(objectId)) fail('not_found', `"${objectId}" is not a STIX id, so no such object is here`);
    const filter: ObjectFilter = { ...req.filter, ids: [objectId], types: null };
    return this.deps.store.transaction(this.deps.db, async (trx) => {
      const rows = await trx.selectFrom('stix_objects').select(['date_added', 'version', 'is_first', 'is_last', 'tlp', 'source', 'added_by', 'recipients', 'spec_version'])
        .where('collection_key', '=', await this.deps.store.keyOf(trx, collection.id)).where('id_hash', '=', idHash(objectId)).where('object_id', '=', objectId).execute();
      const v = filter.versions;
      const specOk = (s: string): boolean => filter.specVersions === null || filter.specVersions.includes(s);
      const targets = rows.filter((r) => canSee(p, r) && specOk(r.spec_version)
        && (v.all || (v.first && r.is_first === 1) || (v.last && r.is_last === 1) || v.at.includes(Number(r.version))));
      if (targets.length === 0) fail('not_found', `No object ${objectId} in collection "${collection.alias}" matches (or you may not see it)`);
      await this.deps.store.remove(trx, collection.id, objectId, targets.map((r) => Number(r.date_added)));
      return targets.length;
    });
  }

  /** A status resource; only its requester (or the node administrator) may read it, others get 404. */
  async status(p: Principal, id: string): Promise<StatusResource> {
    const s = /^[0-9a-f-]{36}$/.test(id) ? await statuses.get(this.deps.db, id) : undefined;
    if (s === undefined || (s.principal !== p.user && p.role !== 'admin')) fail('not_found', `No status ${id} here (or it is not yours)`);
    return s.resource;
  }
}

/**
 * Objects in a batch from which its lookups are made before its turn (StixStore.prefetch): that
 * costs a read-only transaction of its own, which envelopes of 100 paid for (7,245 · 8,623 against
 * 9,471 · 8,105 objects/s without, on PostgreSQL) while envelopes of 5,000 gained (15,985 · 15,706
 * against 14,619 · 14,784); docs/benchmarks.md.
 */
const PREFETCH_MIN = 1000;

/** Objects validated between two turns of the event loop (TaxiiService.add). */
const PREPARE_SLICE = 250;

/** The `objects` of a TAXII envelope; refuses anything else (422 `bundle_invalid`). */
export function envelopeObjects(envelope: unknown): unknown[] {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    fail('bundle_invalid', 'The body must be a TAXII envelope: a JSON object {"objects": [...]}');
  }
  const objects = (envelope as { objects?: unknown }).objects;
  if (objects === undefined) fail('bundle_invalid', 'The envelope has no "objects": send {"objects": [ ...STIX objects... ]}');
  if (!Array.isArray(objects)) fail('bundle_invalid', '"objects" must be a list of STIX objects');
  if (objects.length === 0) fail('bundle_invalid', '"objects" is empty; TAXII lists must have at least one value');
  return objects;
}
