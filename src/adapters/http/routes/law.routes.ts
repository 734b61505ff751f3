import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { extendPreservation, listPreservations, recordMla, showPreservation } from '../../../modules/law/law.service.js';
import { PRESERVATION_STATES } from '../../../modules/law/law.types.js';
import { authenticate, principalOf } from '../auth.js';

const CaseParam = Type.Object({ case: Type.String({ description: 'The case id: the id of the preservation-request that opened it (UUID)' }) });

const ListQuery = Type.Object({
  due: Type.Optional(Type.Boolean({ description: 'Only those reminded of their coming expiry (still preserved)' })),
  state: Type.Optional(Type.String({ enum: [...PRESERVATION_STATES] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const ExtendBody = Type.Object({
  days: Type.Integer({ minimum: 1, maximum: 365, description: 'How many more days of preservation to ask for' }),
  text: Type.Optional(Type.String({ minLength: 1 })),
  lang: Type.Optional(Type.String()),
}, { additionalProperties: false });

const MlaBody = Type.Object({
  reference: Type.String({ minLength: 1, maxLength: 200, description: "The mutual-assistance request's reference" }),
  sent_on: Type.Optional(Type.String({ description: 'When it was sent, RFC 3339 UTC (default: now)' })),
  text: Type.Optional(Type.String({ minLength: 1 })),
  lang: Type.Optional(Type.String()),
}, { additionalProperties: false });

/**
 * Expedited preservations (Budapest Convention Art. 29) on the law channel. Every route needs a
 * token holding `law` (else 403 `forbidden`, whether or not anything exists).
 */
export function lawRoutes(app: Api, ctx: NodeContext, onQueued: () => void): void {
  const auth = { onRequest: authenticate(ctx) };
  const security = [{ bearer: [] }];
  const tags = ['law'];

  app.get('/api/v1/preservations', { ...auth, schema: { tags, summary: 'Preservations, soonest expiry first (law channel)', security, querystring: ListQuery } },
    async (req) => {
      const q = req.query;
      return {
        preservations: await listPreservations(ctx.db, ctx.clock.now(), {
          as: principalOf(req), limit: q.limit ?? 100,
          ...(q.due === true ? { due: true } : {}), ...(q.state === undefined ? {} : { state: q.state }),
        }),
      };
    });

  app.get('/api/v1/preservations/:case', { ...auth, schema: { tags, summary: 'One preservation: state, reference, expiry, extensions, the mutual-assistance request', security, params: CaseParam } },
    async (req) => showPreservation(ctx.db, req.params.case, ctx.clock.now(), principalOf(req)));

  app.post('/api/v1/preservations/:case/extend', { ...auth, schema: { tags, summary: 'Ask the peer to keep the data longer (a preservation-request with extension_of in the case)', security, params: CaseParam, body: ExtendBody } },
    async (req, res) => {
      const env = await extendPreservation(ctx, { case: req.params.case, ...req.body }, principalOf(req));
      onQueued();
      return res.status(202).send({ id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    });

  app.post('/api/v1/preservations/:case/mla', { ...auth, schema: { tags, summary: 'Record the follow-up mutual-assistance request and notify the peer in the case', security, params: CaseParam, body: MlaBody } },
    async (req, res) => {
      const env = await recordMla(ctx, { case: req.params.case, ...req.body }, principalOf(req));
      onQueued();
      return res.status(202).send({ id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    });
}
