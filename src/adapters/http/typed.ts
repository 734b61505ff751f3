import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

/**
 * The app as the routes see it: a route's `req.params`, `req.query` and `req.body` are typed from
 * the TypeBox schemas it declares (types only: validation stays fastify's own Ajv, with the
 * options in app.ts), so a handler never casts them.
 */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export function typed(app: FastifyInstance): Api {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}
