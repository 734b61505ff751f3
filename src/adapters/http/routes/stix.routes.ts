import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { sendIndicatorsReport } from '../../../modules/taxii/taxii.indicators.js';
import { auditRequest, authenticate, principalOf, requireRole } from '../auth.js';

const SendIndicatorsBody = Type.Object({
  to: Type.String({ description: 'The peer' }),
  bundle: Type.Object({}, { additionalProperties: true, description: 'A STIX 2.1 bundle' }),
  tlp: Type.Optional(Type.String({ description: 'The messages\' TLP (default amber); no object may be marked more restrictively' })),
  priority: Type.Optional(Type.String()),
  text: Type.Optional(Type.String()),
  case: Type.Optional(Type.String()),
  recipients: Type.Optional(Type.Array(Type.String(), { description: 'TLP:RED only: user names at the peer who may read it' })),
  skip_invalid: Type.Optional(Type.Boolean({ description: 'Send the valid objects and list the refused ones in `refused` (default: one invalid object refuses the bundle)' })),
}, { additionalProperties: false });

const AddCollectionBody = Type.Object({
  alias: Type.String(),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String({ description: 'crisis | cert | law (default cert)' })),
  tlp: Type.Optional(Type.String({ description: 'TLP of objects without a TLP marking (default amber)' })),
}, { additionalProperties: false });

const GrantBody = Type.Object({
  subject: Type.String({ description: 'user:NAME, token:ID, peer:PARTY or channel:CHANNEL' }),
  read: Type.Boolean(),
  write: Type.Boolean(),
}, { additionalProperties: false });

/**
 * STIX over the federation and the administration of TAXII collections. The collections' content
 * is served by TAXII 2.1 at /taxii2/ (adapters/http/taxii/).
 */
export function stixRoutes(app: Api, ctx: NodeContext, onQueued: () => void): void {
  const onRequest = authenticate(ctx);
  const security = [{ bearer: [] }];
  const deps = { db: ctx.db, keys: ctx.keys, self: ctx.self, clock: ctx.clock, limits: ctx.limits, peers: ctx.peers, hooks: ctx.hooks };

  app.post('/api/v1/indicators', {
    onRequest, schema: { tags: ['stix'], summary: 'Send a STIX 2.1 bundle to a peer as indicators messages (cert channel)', security, body: SendIndicatorsBody },
  }, async (req, reply) => {
    const { skip_invalid: skipInvalid, ...b } = req.body;
    const { sent, refused } = await sendIndicatorsReport(deps, { ...b, skipInvalid: skipInvalid === true }, principalOf(req));
    onQueued();
    return reply.status(202).send({
      case: sent[0]!.case, state: 'queued',
      messages: sent.map((e) => ({ id: e.id, seq: e.seq, objects: (e.body.stix as { objects: number }).objects })),
      refused,
    });
  });

  app.get('/api/v1/collections', { onRequest, schema: { tags: ['stix'], summary: 'TAXII collections you can see, with your access', security } },
    async (req) => ({ collections: (await ctx.taxii.collections.visibleTo(principalOf(req))).map((x) => ({ ...x.collection, ...x.access })) }));

  app.post('/api/v1/collections', { onRequest, schema: { tags: ['stix'], summary: 'Add a TAXII collection (admin)', security, body: AddCollectionBody } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      const c = await ctx.taxii.collections.add(req.body);
      await auditRequest(ctx, req, { action: 'collection.add', subject: c.id, details: { alias: c.alias, channel: c.channel } });
      return reply.status(201).send(c);
    });

  app.get('/api/v1/collections/:id/grants', { onRequest, schema: { tags: ['stix'], summary: 'Who may read and write a collection (admin)', security, params: Type.Object({ id: Type.String() }) } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return { grants: await ctx.taxii.collections.grants(req.params.id) };
    });

  app.put('/api/v1/collections/:id/grants', { onRequest, schema: { tags: ['stix'], summary: 'Grant read/write on a collection; both false removes the grant (admin)', security, params: Type.Object({ id: Type.String() }), body: GrantBody } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const b = req.body;
      const grants = await ctx.taxii.collections.grant(req.params.id, b.subject, { read: b.read, write: b.write });
      await auditRequest(ctx, req, { action: 'grant', subject: req.params.id, details: { grantee: b.subject, read: b.read, write: b.write } });
      return { grants };
    });
}
