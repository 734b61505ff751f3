import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { searchAudit } from '../../../modules/audit/audit.service.js';
import { authenticate, principalOf, requireRole } from '../auth.js';

const AuditQuery = Type.Object({
  user: Type.Optional(Type.String({ description: 'who acted: a user name, cli:<os user>, node or anonymous' })),
  action: Type.Optional(Type.String({ description: 'a stable action name, e.g. message.send, user.add, auth.failed' })),
  since: Type.Optional(Type.String({ description: 'an ISO 8601 time, or a duration back from now (30m, 24h, 7d)' })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only records older than this seq: the `next` of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
});

/** The audit trail, newest first: administrators only (others: 403 forbidden). */
export function auditRoutes(app: Api, ctx: NodeContext): void {
  app.get('/api/v1/audit', {
    onRequest: authenticate(ctx),
    schema: { tags: ['audit'], summary: 'Search the audit trail: who did what, when and from where, newest first (admin)', security: [{ bearer: [] }], querystring: AuditQuery },
  }, async (req) => {
    requireRole(principalOf(req), 'admin');
    const q = req.query;
    const limit = q.limit ?? 100;
    const records = await searchAudit(ctx.db, {
      ...(q.user === undefined ? {} : { user: q.user }), ...(q.action === undefined ? {} : { action: q.action }),
      ...(q.since === undefined ? {} : { since: q.since }), ...(q.before === undefined ? {} : { before: q.before }), limit,
    }, ctx.clock.now());
    // A full page may have more behind it: `next` is what `before` takes for the next page (null at the start of the trail).
    const last = records.at(-1);
    return { records, next: records.length === limit && last !== undefined && last.seq > 1 ? last.seq : null };
  });
}
