import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { NodeContext } from '../../../context.js';
import { searchAudit } from '../../../modules/audit/audit.service.js';
import { authenticate, principalOf, requireRole } from '../auth.js';

const AuditQuery = Type.Object({
  user: Type.Optional(Type.String({ description: 'who acted: a user name, cli:<os user>, node or anonymous' })),
  action: Type.Optional(Type.String({ description: 'a stable action name, e.g. message.send, user.add, auth.failed' })),
  since: Type.Optional(Type.String({ description: 'an ISO 8601 time, or a duration back from now (30m, 24h, 7d)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
});

/** The audit trail, newest first: administrators only (others: 403 forbidden). */
export function auditRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.get('/api/v1/audit', {
    onRequest: authenticate(ctx),
    schema: { tags: ['audit'], summary: 'Search the audit trail: who did what, when and from where, newest first (admin)', security: [{ bearer: [] }], querystring: AuditQuery },
  }, async (req) => {
    requireRole(principalOf(req), 'admin');
    const q = req.query as Static<typeof AuditQuery>;
    return {
      records: await searchAudit(ctx.db, {
        ...(q.user === undefined ? {} : { user: q.user }), ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.since === undefined ? {} : { since: q.since }), limit: q.limit ?? 100,
      }, ctx.clock.now()),
    };
  });
}
