import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { listOverdue, MAX_DEADLINE_MIN, setPeerDeadlines } from '../../../modules/deadlines/deadlines.service.js';
import { dutyQueue } from '../../../modules/deadlines/deadlines.queue.js';
import { requireLanguage } from '../../../modules/templates/templates.service.js';
import { peerAckPolicy, setPeerAckPolicy } from '../../../modules/deadlines/deadlines.policy.js';
import { KINDS } from '../../../modules/federation/federation.types.js';
import { auditRequest, authenticate, principalOf, requireRole } from '../auth.js';

const OverdueQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const QueueQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  lang: Type.Optional(Type.String({ description: "Language of the summaries; default: the node's `language`" })),
});

const Minutes = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DEADLINE_MIN, description: 'Minutes to acknowledge' }));

const DeadlinesBody = Type.Object({
  flash: Minutes, immediate: Minutes, priority: Minutes, routine: Minutes,
}, { additionalProperties: false, minProperties: 1 });

const PolicyBody = Type.Record(Type.String({ enum: [...KINDS] }), Type.String({ enum: ['person', 'none', 'default'] }), {
  description: 'Per kind: person (waits for an acknowledgement), none (machine traffic, never pages) or default (templates/ack-policy.json again)',
});

/**
 * Acknowledgement deadlines: what we sent that is overdue (filtered by the token's channels), and
 * the deadlines agreed with a peer (administrator only).
 */
export function deadlinesRoutes(app: Api, ctx: NodeContext): void {
  const auth = { onRequest: authenticate(ctx) };
  const security = [{ bearer: [] }];

  app.get('/api/v1/overdue', {
    ...auth,
    schema: { tags: ['deadlines'], summary: 'Messages we sent that the peer has not acknowledged by their deadline, most overdue first', security, querystring: OverdueQuery },
  }, async (req) => {
    const q = req.query;
    return { overdue: await listOverdue(ctx.db, ctx.clock.now(), { channels: principalOf(req).channels, limit: q.limit ?? 100 }) };
  });

  app.get('/api/v1/queue', {
    ...auth,
    schema: {
      tags: ['deadlines'], security, querystring: QueueQuery,
      summary: "What the token's user must acknowledge: received messages waiting for a person, unacknowledged, on its channels (TLP:RED only where it is a recipient), FLASH first, then by due time",
    },
  }, async (req) => {
    const q = req.query;
    const lang = requireLanguage(q.lang ?? ctx.config.language);
    return { queue: await dutyQueue(ctx.db, ctx.clock.now(), principalOf(req), { limit: q.limit ?? 100, lang }) };
  });

  app.put('/api/v1/peers/:party/deadlines', {
    ...auth,
    schema: {
      tags: ['peers', 'deadlines'], summary: 'Record the acknowledgement deadlines (minutes per priority) agreed with a peer', security,
      params: Type.Object({ party: Type.String() }), body: DeadlinesBody,
    },
  }, async (req) => {
    requireRole(principalOf(req), 'admin');
    const party = req.params.party;
    const deadlines = await setPeerDeadlines(ctx, party, req.body);
    await auditRequest(ctx, req, { action: 'peer.deadlines', subject: party, details: { ...deadlines } });
    return { party, deadlines };
  });

  app.get('/api/v1/peers/:party/ack-policy', {
    ...auth,
    schema: { tags: ['peers', 'deadlines'], summary: "Which kinds wait for a person's acknowledgement with a peer, and whether it was agreed or is templates/ack-policy.json", security, params: Type.Object({ party: Type.String() }) },
  }, async (req) => {
    const party = (await ctx.peers.require(req.params.party)).party;
    return { party, kinds: await peerAckPolicy(ctx.db, party) };
  });

  app.put('/api/v1/peers/:party/ack-policy', {
    ...auth,
    schema: { tags: ['peers', 'deadlines'], summary: 'Record, per kind, what was agreed with a peer about acknowledgement (admin)', security, params: Type.Object({ party: Type.String() }), body: PolicyBody },
  }, async (req) => {
    requireRole(principalOf(req), 'admin');
    const party = (await ctx.peers.require(req.params.party)).party;
    return { party, kinds: await setPeerAckPolicy(ctx, party, req.body) };
  });
}
