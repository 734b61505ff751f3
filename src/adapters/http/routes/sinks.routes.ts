import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { addSink, listSinks, removeSink, SINK_TYPES, WEBHOOK_FORMATS } from '../../../modules/alerts/alerts.sinks.js';
import { auditRequest, authenticate, principalOf, requireRole } from '../auth.js';

const AddSinkBody = Type.Object({
  type: Type.String({ enum: [...SINK_TYPES] }),
  target: Type.String({ description: 'A webhook\'s http(s) URL, or an e-mail address' }),
  name: Type.Optional(Type.String({ description: 'What to call it (default: the URL\'s host, or the address)' })),
  secret: Type.Optional(Type.String({ description: 'Webhook only: whsec_ and the base64 of 24 to 64 random bytes (Standard Webhooks); required unless format is slack. Never shown again.' })),
  format: Type.Optional(Type.String({ enum: [...WEBHOOK_FORMATS], description: 'Webhook only: standard (signed JSON, docs/alerts.schema.json) or slack ({"text"})' })),
}, { additionalProperties: false });

const Name = Type.Object({ name: Type.String() });

/** Alert sinks (administrators only): as `hotline sink add|list|remove|test`; secrets are never returned. */
export function sinksRoutes(app: Api, ctx: NodeContext): void {
  const onRequest = authenticate(ctx);
  const security = [{ bearer: [] }];
  const tags = ['alerts'];

  app.get('/api/v1/sinks', { onRequest, schema: { tags, summary: 'Alert sinks, without their secrets (admin)', security } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return { sinks: await listSinks(ctx.db) };
    });

  app.post('/api/v1/sinks', { onRequest, schema: { tags, summary: 'Add an alert sink: a signed webhook, a Slack-style webhook or an e-mail address (admin)', security, body: AddSinkBody } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      const s = await addSink(ctx.db, ctx.clock, req.body);
      await auditRequest(ctx, req, { action: 'sink.add', subject: s.name, details: { type: s.type, format: s.format } });
      return reply.status(201).send(s);
    });

  app.delete('/api/v1/sinks/:name', { onRequest, schema: { tags, summary: 'Remove an alert sink (admin)', security, params: Name } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const s = await removeSink(ctx.db, req.params.name);
      await auditRequest(ctx, req, { action: 'sink.remove', subject: s.name, details: { type: s.type } });
      return s;
    });

  app.post('/api/v1/sinks/:name/test', { onRequest, schema: { tags, summary: 'Send a test alert to a sink now; the outcome (delivered, or failed with the error code) (admin)', security, params: Name } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const { sendTestAlert } = await import('../../sinks/test.js');
      const name = req.params.name;
      const r = await sendTestAlert(ctx, name);
      await auditRequest(ctx, req, { action: 'sink.test', subject: name, details: { outcome: r.outcome } });
      return r;
    });
}
