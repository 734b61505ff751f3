import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NodeContext } from '../../context.js';
import { checkUtf8Charset, parseJsonBytes } from '../../shared/json.js';
import { errorHandler } from './errors.js';
import { guardServer, serverTimeouts } from './limits.js';
import type { Metrics } from './metrics.js';
import { apiRoutes } from './routes/api.routes.js';
import { casesRoutes } from './routes/cases.routes.js';
import { deadlinesRoutes } from './routes/deadlines.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { directoryRoutes } from './routes/directory.routes.js';
import { federationRoutes } from './routes/federation.routes.js';
import { lawRoutes } from './routes/law.routes.js';
import { usersRoutes } from './routes/users.routes.js';
import { sinksRoutes } from './routes/sinks.routes.js';
import { transcriptsRoutes } from './routes/transcripts.routes.js';
import { templatesRoutes } from './routes/templates.routes.js';
import { authenticate, decorateAuth, principalOf, requireRole } from './auth.js';
import { taxiiRoutes } from './taxii/taxii.routes.js';
import { stixRoutes } from './routes/stix.routes.js';
import { collectionsRoutes } from './routes/collections.routes.js';
import { feedsRoutes } from './routes/feeds.routes.js';
import { statusRoutes } from './routes/status.routes.js';
import { FEDERATION_PATH } from './transport.js';
import { webRoutes } from './web.js';
import { storeAnswers } from '../../modules/federation/federation.health.js';
import { typed } from './typed.js';
import { sessionRoutes } from './routes/session.routes.js';
import { eventsRoutes } from './routes/events.routes.js';

/**
 * The node's HTTP surface: federation endpoint, REST API (OpenAPI 3.1 at /openapi.json,
 * reference at /docs), /healthz, and /metrics (an administrator's bearer token).
 */
export async function buildApp(ctx: NodeContext, metrics: Metrics, onQueued: (to?: string) => void, o: { holder?: string } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log.child({ module: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.limits.maxBatchBytes,
    ...serverTimeouts(ctx.config.http),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
  });
  app.setErrorHandler(errorHandler(ctx.log));
  // JSON only: fastify would otherwise hand text/plain bodies to routes as strings.
  app.removeContentTypeParser('text/plain');
  jsonBodies(app);
  await guardServer(app, ctx.config.http, ctx.log.child({ module: 'http' }));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Hotline node API', version: '1', description: `Node "${ctx.self.party}" (${ctx.self.name}). Federation protocol: docs/protocol.md.` },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { tags: ['node'], summary: 'Liveness and store check' } }, async () => {
    await storeAnswers(ctx.db);
    return { status: 'ok', party: ctx.self.party };
  });
  decorateAuth(app);
  // Closed by default: the metrics name peers and show traffic; Prometheus sends the admin token
  // (or an admin user's token) as a bearer credential (authorization.credentials_file).
  app.get('/metrics', { onRequest: authenticate(ctx), schema: { hide: true } }, async (req, reply) => {
    requireRole(principalOf(req), 'admin');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Routes get their request types from their TypeBox schemas (typed.ts).
  const api = typed(app);
  federationRoutes(api, ctx, metrics);
  apiRoutes(api, ctx, onQueued);
  casesRoutes(api, ctx, onQueued);
  directoryRoutes(api, ctx, onQueued);
  lawRoutes(api, ctx, onQueued);
  usersRoutes(api, ctx);
  sessionRoutes(api, ctx);
  eventsRoutes(api, ctx);
  transcriptsRoutes(api, ctx);
  templatesRoutes(api, ctx);
  deadlinesRoutes(api, ctx);
  sinksRoutes(api, ctx);
  statusRoutes(api, ctx);
  auditRoutes(api, ctx);
  stixRoutes(api, ctx, onQueued);
  collectionsRoutes(api, ctx);
  await feedsRoutes(api, ctx, onQueued, o.holder);
  await taxiiRoutes(app, ctx);
  await webRoutes(app);
  return app;
}

/**
 * application/json for every route (TAXII has its own media type and parser): UTF-8 only (a
 * `charset` other than utf-8 is 415), bytes that are not UTF-8 or strings with a lone surrogate
 * are 400 `invalid_unicode`. At the federation endpoint strings are left to the per-envelope
 * checks, so that one bad envelope is refused on its own; elsewhere the whole request is refused,
 * and so are member names `__proto__` (and `constructor` with a `prototype`), as fastify's parser did.
 */
function jsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      checkUtf8Charset(req.headers['content-type']);
      const federation = req.routeOptions.url === FEDERATION_PATH;
      done(null, parseJsonBytes(body as Buffer, { what: 'The request body', wellFormed: !federation, protoNames: !federation }));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
