import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { storeName } from '../../storage/store.js';
import { nodeStatus } from '../../../modules/health/health.service.js';
import { authenticate, principalOf, requireRole } from '../auth.js';

/** GET /api/v1/status: what `hotline status` shows, for administrators (sink targets and errors may carry secrets). */
export function statusRoutes(app: Api, ctx: NodeContext): void {
  app.get('/api/v1/status', {
    onRequest: authenticate(ctx),
    schema: {
      tags: ['node'], security: [{ bearer: [] }],
      summary: "The node's health (admin): each link (last receipt, backlog, last error code), the acknowledgement queue by priority, overdue, sinks' failures, the last feed run, the store's size",
    },
  }, async (req) => {
    requireRole(principalOf(req), 'admin');
    return { ...(await nodeStatus({ db: ctx.db, self: ctx.self, now: ctx.clock.now(), storePath: storeName(ctx.config.store) })), running: true, pid: process.pid };
  });
}
