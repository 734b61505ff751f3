import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NodeContext } from '../../context.js';
import { errorHandler } from './errors.js';
import type { Metrics } from './metrics.js';
import { apiRoutes } from './routes/api.routes.js';
import { casesRoutes } from './routes/cases.routes.js';
import { deadlinesRoutes } from './routes/deadlines.routes.js';
import { directoryRoutes } from './routes/directory.routes.js';
import { federationRoutes } from './routes/federation.routes.js';
import { lawRoutes } from './routes/law.routes.js';
import { usersRoutes } from './routes/users.routes.js';
import { transcriptsRoutes } from './routes/transcripts.routes.js';
import { decorateAuth } from './auth.js';
import { taxiiRoutes } from './taxii/taxii.routes.js';
import { stixRoutes } from './routes/stix.routes.js';
import { feedsRoutes } from './routes/feeds.routes.js';

/**
 * The node's HTTP surface: federation endpoint, REST API (OpenAPI 3.1 at /openapi.json,
 * reference at /docs), /healthz and /metrics.
 */
export async function buildApp(ctx: NodeContext, metrics: Metrics, onQueued: () => void): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log.child({ module: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.limits.maxBatchBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
  });
  app.setErrorHandler(errorHandler(ctx.log));
  // JSON only: fastify would otherwise hand text/plain bodies to routes as strings.
  app.removeContentTypeParser('text/plain');
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
    await ctx.db.selectFrom('links').select('from_party').limit(1).execute();
    return { status: 'ok', party: ctx.self.party };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  decorateAuth(app);
  federationRoutes(app, ctx, metrics);
  apiRoutes(app, ctx, onQueued);
  casesRoutes(app, ctx, onQueued);
  directoryRoutes(app, ctx, onQueued);
  lawRoutes(app, ctx, onQueued);
  usersRoutes(app, ctx);
  transcriptsRoutes(app, ctx);
  deadlinesRoutes(app, ctx);
  stixRoutes(app, ctx, onQueued);
  await feedsRoutes(app, ctx, onQueued);
  await taxiiRoutes(app, ctx);
  return app;
}
