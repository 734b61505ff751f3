import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import type { StoredVersion } from '../../../modules/taxii/taxii.query.js';
import { formatMicros } from '../../../modules/taxii/taxii.time.js';
import { authenticate, principalOf } from '../auth.js';
import { versionOf } from '../taxii/taxii.render.js';

const Params = Type.Object({ id: Type.String({ description: 'A collection id or alias' }) });
const ObjectParams = Type.Object({ id: Type.String(), object: Type.String({ description: 'A STIX id (type--uuid)' }) });

const ObjectsQuery = Type.Object({
  type: Type.Optional(Type.String({ description: 'Only objects of this STIX type (TAXII match[type]); a comma-separated list for several' })),
  added_after: Type.Optional(Type.String({ description: 'Only objects added after this RFC 3339 UTC time (TAXII added_after)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  next: Type.Optional(Type.String({ maxLength: 2000, description: '`next` of the previous page' })),
}, { additionalProperties: false });

const VersionsQuery = Type.Object({
  next: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });

/** One stored version as the console reads it: the object's id, type, version, when added, and its STIX JSON. */
function item(r: StoredVersion): { id: string; type: string; version: string; date_added: string; tlp: string; object: unknown } {
  return {
    id: r.object_id, type: r.object_id.split('--')[0] ?? '', version: versionOf(r), date_added: formatMicros(Number(r.date_added)),
    tlp: String(r.tlp), object: JSON.parse(r.object) as unknown,
  };
}

/**
 * A TAXII collection's objects over the REST API (for the console, which signs in with a session
 * and speaks application/json): the same reads as /taxii2/ (TaxiiService.page), with the same
 * grants, TLP and cursors; only the filters are spelled plainly (type, added_after).
 */
export function collectionsRoutes(app: Api, ctx: NodeContext): void {
  const onRequest = authenticate(ctx);
  const security = [{ bearer: [] }];
  const tags = ['stix'];

  app.get('/api/v1/collections/:id/objects', {
    onRequest, schema: { tags, summary: 'The newest version of each object of a collection you may read, oldest added first; `next` pages on', security, params: Params, querystring: ObjectsQuery },
  }, async (req) => {
    const q = req.query;
    const taxiiQuery: Record<string, unknown> = { limit: String(q.limit ?? 50) };
    if (q.type !== undefined && q.type !== '') taxiiQuery['match[type]'] = q.type;
    if (q.added_after !== undefined && q.added_after !== '') taxiiQuery.added_after = q.added_after;
    if (q.next !== undefined) taxiiQuery.next = q.next;
    const page = await ctx.taxii.page(principalOf(req), req.params.id, 'objects', taxiiQuery);
    return { objects: page.rows.map(item), more: page.more, next: page.next };
  });

  app.get('/api/v1/collections/:id/objects/:object/versions', {
    onRequest, schema: { tags, summary: 'Every version of one object of a collection you may read, oldest first, each with its STIX JSON', security, params: ObjectParams, querystring: VersionsQuery },
  }, async (req) => {
    const { id, object } = req.params;
    const q = req.query;
    const page = await ctx.taxii.page(principalOf(req), id, 'object', { 'match[version]': 'all', limit: '100', ...(q.next === undefined ? {} : { next: q.next }) }, object);
    return { versions: page.rows.map(item), more: page.more, next: page.next };
  });
}
