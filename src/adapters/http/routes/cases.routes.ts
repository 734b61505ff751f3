import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { ackCase, ackMessage, closeCase, listCases, replyTo, showCase } from '../../../modules/cases/cases.service.js';
import { CASE_STATES } from '../../../modules/cases/cases.machine.js';
import { CHANNELS, KINDS, PRIORITIES, TLPS, type Channel } from '../../../modules/federation/federation.types.js';
import { caseSteps } from '../../../modules/messaging/messaging.offer.js';
import { readableSummaries } from '../../../modules/messaging/messaging.summary.js';
import { requireLanguage } from '../../../modules/templates/templates.service.js';
import { authenticate, principalOf } from '../auth.js';

const Id = Type.Object({ id: Type.String({ description: 'A case or message id (UUID), or a unique prefix of at least 8 characters' }) });

const CasesQuery = Type.Object({
  state: Type.Optional(Type.String({ enum: [...CASE_STATES] })),
  channel: Type.Optional(Type.String({ enum: [...CHANNELS] })),
  peer: Type.Optional(Type.String({ description: 'Only cases with this peer (party id)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
});

const CaseQuery = Type.Object({
  lang: Type.Optional(Type.String({ description: "Language of the messages' summaries; default: the node's `language`" })),
});

const AckBody = Type.Object({
  text: Type.Optional(Type.String({ minLength: 1, description: 'A note; the ack names the token\'s user (user name and display name), never a name given here' })),
  lang: Type.Optional(Type.String()),
}, { additionalProperties: false });

const ReplyBody = Type.Object({
  text: Type.Optional(Type.String({ minLength: 1 })),
  fields: Type.Optional(Type.Object({}, { additionalProperties: true, description: "The kind's template fields" })),
  lang: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String({ enum: [...KINDS], default: 'response' })),
  priority: Type.Optional(Type.String({ enum: [...PRIORITIES], description: "Default: the answered message's" })),
  tlp: Type.Optional(Type.String({ enum: [...TLPS], description: "Default: the answered message's" })),
  recipients: Type.Optional(Type.Array(Type.String(), { description: 'TLP:RED: user names at the peer who may read it (default: who wrote the answered message)' })),
  ack: Type.Optional(Type.Boolean({ default: true, description: 'Also acknowledge the message answered (in the same transaction) when it awaits an acknowledgement; false to opt out' })),
}, { additionalProperties: false });

const CloseBody = Type.Object({
  text: Type.Optional(Type.String({ minLength: 1 })),
  reason: Type.Optional(Type.String({ description: 'A close_reason code, e.g. resolved' })),
  lang: Type.Optional(Type.String()),
}, { additionalProperties: false });

/**
 * Cases (threads with a state machine per kind) and human acknowledgement. Reading is limited to
 * the token's channels (a case on another channel is 404); writing needs the channel.
 */
export function casesRoutes(app: Api, ctx: NodeContext, onQueued: () => void): void {
  const auth = { onRequest: authenticate(ctx) };
  const security = [{ bearer: [] }];

  app.get('/api/v1/cases', { ...auth, schema: { tags: ['cases'], summary: 'Cases, most recently active first, with their state', security, querystring: CasesQuery } },
    async (req) => {
      const q = req.query;
      return {
        cases: await listCases(ctx.db, {
          limit: q.limit ?? 50, as: principalOf(req),
          ...(q.state === undefined ? {} : { state: q.state }),
          ...(q.channel === undefined ? {} : { channel: q.channel }),
          ...(q.peer === undefined ? {} : { peer: q.peer }),
        }),
      };
    });

  app.get('/api/v1/cases/:id', {
    ...auth,
    schema: {
      tags: ['cases'], security, params: Id, querystring: CaseQuery,
      summary: "One case: its state machine, the steps it allows next (`next`: kind, the state it leads to, and how a person takes it: reply, ack, close, or node for a kind with its own route), and its messages in order, each with receipt, acknowledgement and its summary in `lang` (null when the reader may not read it)",
    },
  }, async (req) => {
    const p = principalOf(req);
    const lang = requireLanguage(req.query.lang ?? ctx.config.language);
    const shown = await showCase(ctx.db, req.params.id, p);
    const summaries = await readableSummaries(ctx.db, shown.messages.map((m) => m.id), p, lang);
    return {
      case: shown.case,
      next: caseSteps(shown.case.kind, shown.case.state, shown.case.channel as Channel),
      messages: shown.messages.map((m) => ({ ...m, summary: summaries.get(m.id)?.summary ?? null })),
    };
  });

  app.post('/api/v1/cases/:id/close', { ...auth, schema: { tags: ['cases'], summary: 'Close a case: queue a case-close to its peer', security, params: Id, body: CloseBody } },
    async (req, res) => {
      const env = await closeCase(ctx, { case: req.params.id, ...req.body }, principalOf(req));
      onQueued();
      return res.status(202).send({ id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    });

  app.post('/api/v1/messages/:id/ack', { ...auth, schema: { tags: ['cases'], summary: 'Acknowledge a message this node received, as the token\'s user: the ack names that user (idempotent: the first ack stands)', security, params: Id, body: AckBody } },
    async (req, res) => {
      const r = await ackMessage(ctx, { id: req.params.id, ...req.body }, principalOf(req));
      if (!r.already) onQueued();
      return res.status(r.already ? 200 : 202).send(r);
    });

  app.post('/api/v1/messages/:id/reply', { ...auth, schema: { tags: ['cases'], summary: 'Answer a message in its case (same peer and channel, in reply to it)', security, params: Id, body: ReplyBody } },
    async (req, res) => {
      const { reply: env, ack } = await replyTo(ctx, { id: req.params.id, ...req.body }, principalOf(req));
      onQueued();
      return res.status(202).send({ id: env.id, seq: env.seq, case: env.case, in_reply_to: env.in_reply_to, to: env.to, kind: env.kind, state: 'queued', ack_id: ack?.id ?? null });
    });

  app.post('/api/v1/cases/:id/ack', { ...auth, schema: { tags: ['cases'], summary: 'Acknowledge every message of a case this node received that the token\'s user may read and that is not acknowledged yet (one transaction)', security, params: Id, body: AckBody } },
    async (req, res) => {
      const r = await ackCase(ctx, { case: req.params.id, ...req.body }, principalOf(req));
      if (r.acked.length > 0) onQueued();
      return res.status(r.acked.length > 0 ? 202 : 200).send(r);
    });
}
