import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NodeContext } from '../../../context.js';
import { HotlineError } from '../../../shared/errors.js';
import { checkUtf8Charset, parseJsonBytes } from '../../../shared/json.js';
import type { Logger } from '../../../shared/logger.js';
import { fromFastify, statusOf } from '../errors.js';
import { principalOf } from '../auth.js';
import { challenge, taxiiPrincipal } from './taxii.auth.js';
import { checkAccept, checkContentType, TAXII_MEDIA_TYPE } from './taxii.negotiation.js';
import { collectionResource, sendPage, sendTaxii } from './taxii.render.js';

/** The node's one API root, under the discovery endpoint. */
export const API_ROOT = '/taxii2/api/';

interface CollectionParams { collection: string }
interface ObjectParams extends CollectionParams { object: string }

type Query = Record<string, unknown>;

/**
 * TAXII 2.1 (OASIS, 2021) at /taxii2/: discovery, one API root, status, collections, objects
 * (GET/POST), one object (GET/DELETE), versions, manifest. Every request authenticates (401 with
 * a WWW-Authenticate challenge), then negotiates (406); every response, errors included, is
 * `application/taxii+json;version=2.1`; every error is the TAXII error resource. docs/taxii.md
 * maps each endpoint and filter to the spec.
 */
export async function taxiiRoutes(app: FastifyInstance, ctx: NodeContext): Promise<void> {
  await app.register(async (taxii) => {
    taxii.setErrorHandler(taxiiErrorHandler(ctx.log));
    taxii.setNotFoundHandler((req, reply) => {
      void sendError(reply, new HotlineError('not_found', `No TAXII endpoint ${req.method} ${req.url}; the API root is ${API_ROOT} (paths end in "/")`));
    });
    taxii.addHook('onRequest', async (req) => {
      req.principal = await taxiiPrincipal(ctx.users, req);
      checkAccept(req.headers.accept);
    });
    taxii.removeAllContentTypeParsers();
    taxii.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
      try {
        checkContentType(req.headers['content-type']);
        checkUtf8Charset(req.headers['content-type']);
        // UTF-8 only: bytes that are not, or a lone surrogate, are 400 invalid_unicode.
        done(null, parseJsonBytes(body as Buffer, { what: 'The body' }));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    const base = ctx.config.url.replace(/\/+$/, '');
    const tags = ['taxii'];

    taxii.get('/', { schema: { tags, summary: 'TAXII server discovery' } }, async (_req, reply) => sendTaxii(reply, {
      title: `Hotline ${ctx.self.party} TAXII server`,
      description: `STIX 2.1 collections of node "${ctx.self.party}" (${ctx.self.name})`,
      default: `${base}${API_ROOT}`,
      api_roots: [`${base}${API_ROOT}`],
    }));

    const root = API_ROOT.slice('/taxii2'.length);
    taxii.get(root, { schema: { tags, summary: 'The API root' } }, async (_req, reply) => sendTaxii(reply, {
      title: `Hotline ${ctx.self.party}`,
      description: 'Indicators and observables exchanged between the parties\' CERTs',
      versions: [TAXII_MEDIA_TYPE],
      max_content_length: ctx.config.taxii.maxContentLength,
    }));

    taxii.get<{ Params: { id: string } }>(`${root}status/:id/`, { schema: { tags, summary: 'The status of a POST' } },
      async (req, reply) => sendTaxii(reply, await ctx.taxii.status(principalOf(req), req.params.id)));

    taxii.get(`${root}collections/`, { schema: { tags, summary: 'The collections you can see' } }, async (req, reply) => {
      const list = await ctx.taxii.collections.visibleTo(principalOf(req));
      return sendTaxii(reply, list.length === 0 ? {} : { collections: list.map((x) => collectionResource(x.collection, x.access)) });
    });

    taxii.get<{ Params: CollectionParams }>(`${root}collections/:collection/`, { schema: { tags, summary: 'One collection' } }, async (req, reply) => {
      const { collection, access } = await ctx.taxii.collectionFor(principalOf(req), req.params.collection, 'see');
      return sendTaxii(reply, collectionResource(collection, access));
    });

    taxii.get<{ Params: CollectionParams; Querystring: Query }>(`${root}collections/:collection/manifest/`, { schema: { tags, summary: 'Manifest of a collection' } },
      async (req, reply) => sendPage(reply, await ctx.taxii.page(principalOf(req), req.params.collection, 'manifest', req.query), 'manifest'));

    taxii.get<{ Params: CollectionParams; Querystring: Query }>(`${root}collections/:collection/objects/`, { schema: { tags, summary: 'Objects of a collection' } },
      async (req, reply) => sendPage(reply, await ctx.taxii.page(principalOf(req), req.params.collection, 'objects', req.query), 'objects'));

    taxii.post<{ Params: CollectionParams }>(`${root}collections/:collection/objects/`, {
      bodyLimit: ctx.config.taxii.maxContentLength,
      schema: { tags, summary: 'Add objects (a TAXII envelope); answers with the status' },
    }, async (req, reply) => sendTaxii(reply, await ctx.taxii.add(principalOf(req), req.params.collection, req.body), 202));

    taxii.get<{ Params: ObjectParams; Querystring: Query }>(`${root}collections/:collection/objects/:object/`, { schema: { tags, summary: 'One object' } },
      async (req, reply) => sendPage(reply, await ctx.taxii.page(principalOf(req), req.params.collection, 'object', req.query, req.params.object), 'objects'));

    taxii.delete<{ Params: ObjectParams; Querystring: Query }>(`${root}collections/:collection/objects/:object/`, { schema: { tags, summary: 'Delete an object (every version unless match[version] says which)' } },
      async (req, reply) => {
        await ctx.taxii.remove(principalOf(req), req.params.collection, req.params.object, req.query);
        return sendTaxii(reply, undefined);
      });

    taxii.get<{ Params: ObjectParams; Querystring: Query }>(`${root}collections/:collection/objects/:object/versions/`, { schema: { tags, summary: 'The versions of one object' } },
      async (req, reply) => sendPage(reply, await ctx.taxii.page(principalOf(req), req.params.collection, 'versions', req.query, req.params.object), 'versions'));
  }, { prefix: '/taxii2' });
}

function sendError(reply: FastifyReply, e: HotlineError): FastifyReply {
  const status = statusOf(e.code);
  challenge(reply, e);
  return sendTaxii(reply, {
    title: e.code.replace(/_/g, ' '),
    description: e.message,
    error_id: randomUUID(),
    error_code: e.code,
    http_status: String(status),
    ...(e.details === undefined ? {} : { details: e.details }),
  }, status);
}

/** The TAXII error resource (section 3.6.1) for every error under /taxii2/. */
function taxiiErrorHandler(log: Logger) {
  return (err: FastifyError | HotlineError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    let known = err instanceof HotlineError ? err : fromFastify(err as FastifyError);
    if (known?.code === 'batch_too_large') known = new HotlineError('body_too_large', 'The request body is larger than the API root\'s max_content_length; send fewer objects per request');
    if (known === undefined) log.error({ err, url: req.url }, 'unhandled TAXII error');
    void sendError(reply, known ?? new HotlineError('internal', 'The node failed to handle this request; see its log'));
  };
}
