import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';
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

/**
 * `Type.String({ enum: values, ...options })`, the same JSON schema (so the same validation,
 * error messages and OpenAPI), typed as the union of `values` rather than `string`.
 */
export function oneOf<const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>(Type.String({ enum: [...values], ...options }));
}
