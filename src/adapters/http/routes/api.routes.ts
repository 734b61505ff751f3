import { Type } from '@sinclair/typebox';
import { oneOf, type Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { makeDescriptor, parseDescriptor, peerState, type Peer } from '../../../modules/federation/federation.peers.js';
import { peerView } from '../../../modules/federation/federation.keys.js';
import { getLink } from '../../../modules/federation/federation.links.js';
import { send, show } from '../../../modules/messaging/messaging.service.js';
import { INBOX_STATES, listMessages } from '../../../modules/messaging/messaging.inbox.js';
import { shortMessageIds } from '../../../modules/federation/federation.ids.js';
import { NODE_KINDS } from '../../../modules/messaging/messaging.kinds.js';
import { deadlineOf } from '../../../modules/deadlines/deadlines.service.js';
import { render, requireLanguage } from '../../../modules/templates/templates.service.js';
import { CHANNELS, KINDS, PRIORITIES, TLPS, lastErrorCode } from '../../../modules/federation/federation.types.js';
import { fail } from '../../../shared/errors.js';
import { auditRequest, authenticate, principalOf, requireChannel, requireRole } from '../auth.js';

const SendBody = Type.Object({
  to: Type.String({ description: 'Party id of a pinned peer' }),
  channel: Type.String({ enum: [...CHANNELS] }),
  kind: Type.String({ enum: [...KINDS], description: `A kind a person sends; kinds only the node emits (${Object.keys(NODE_KINDS).join(', ')}) are refused with reserved_kind: each has its own route` }),
  priority: Type.String({ enum: [...PRIORITIES] }),
  tlp: Type.String({ enum: [...TLPS] }),
  text: Type.Optional(Type.String({ minLength: 1, description: "Free text in the writer's language; required when the kind's template says so (e.g. notification)" })),
  fields: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The kind's template fields (templates/<kind>.json), e.g. {\"confidence\": \"high\"}" })),
  lang: Type.Optional(Type.String({ description: 'Language tag of the text, e.g. en, ru' })),
  case: Type.Optional(Type.String({ description: 'A case id, or a unique prefix of at least 8 characters' })),
  in_reply_to: Type.Optional(Type.String({ description: 'A message id, or a unique prefix of at least 8 characters' })),
  recipients: Type.Optional(Type.Array(Type.String(), { description: 'TLP:RED only, and required for it: user names at the receiving node who may read the message' })),
}, { additionalProperties: false });

const ListQuery = Type.Object({
  direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')], { default: 'in' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  channel: Type.Optional(Type.String({ description: 'A channel, or a comma-separated list' })),
  priority: Type.Optional(Type.String({ description: 'A priority, or a comma-separated list' })),
  kind: Type.Optional(Type.String({ description: 'A kind, or a comma-separated list' })),
  from: Type.Optional(Type.String({ description: 'The party that sent it' })),
  to: Type.Optional(Type.String({ description: 'The party it went to' })),
  state: Type.Optional(Type.String({ enum: [...INBOX_STATES] })),
  case: Type.Optional(Type.String({ description: 'A case id or a unique prefix of at least 8 characters' })),
  since: Type.Optional(Type.String({ description: 'Stored since an RFC 3339 UTC time, or a duration back from now: 30m, 12h, 7d' })),
  search: Type.Optional(Type.String({ maxLength: 500, description: 'Words that must all appear (each as the start of a word) in the free text or the fields rendered in any template language' })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: '`next` of the previous page' })),
  lang: Type.Optional(Type.String({ description: "Language of the summaries; default: the node's `language`" })),
});

const ShowQuery = Type.Object({
  lang: Type.Optional(Type.String({ description: "Language of `rendered` (labels and codes), e.g. en, ru; default: the node's `language`" })),
});

const PartyParams = Type.Object({ party: Type.String() });

const UpdatePeerBody = Type.Object({
  descriptor: Type.Object({}, { additionalProperties: true }, ),
  channels: Type.Optional(Type.Array(oneOf(CHANNELS), { description: 'Channels agreed from now on (default: those agreed that it still offers)' })),
}, { additionalProperties: false });

/**
 * Peers that change (protocol section 3.3), for administrators: a new descriptor signed by the
 * pinned key, suspend, resume, remove. Each is an audit record.
 */
function peerLifecycleRoutes(app: Api, ctx: NodeContext, auth: { onRequest: ReturnType<typeof authenticate> }, security: { bearer: never[] }[]): void {
  app.put('/api/v1/peers/:party/descriptor', { ...auth, schema: { tags: ['peers'], summary: "Move a peer to its new descriptor (URL, name, channels), signed by its pinned key; else 409 descriptor_not_pinned", security, params: PartyParams, body: UpdatePeerBody } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const { party } = req.params;
      const b = req.body;
      const d = parseDescriptor(b.descriptor);
      const { before, after } = await ctx.peers.update(party, d, b.channels === undefined ? {} : { channels: b.channels });
      await auditRequest(ctx, req, {
        action: 'peer.update', subject: party,
        details: { fingerprint: d.fingerprint, url: { from: before.url, to: after.url }, name: { from: before.name, to: after.name }, channels: { from: before.channels, to: after.channels } },
      });
      return after;
    });
  for (const [verb, to] of [['suspend', 'suspended'], ['resume', 'active']] as const) {
    app.post(`/api/v1/peers/:party/${verb}`, { ...auth, schema: { tags: ['peers'], summary: verb === 'suspend' ? 'Stop delivering to a peer (messages queue; what it sends is still received)' : 'Deliver to a suspended peer again, in order', security, params: PartyParams } },
      async (req) => {
        requireRole(principalOf(req), 'admin');
        const { party } = req.params;
        const { before, after } = await ctx.peers.setLifecycle(party, to);
        await auditRequest(ctx, req, { action: `peer.${verb}`, subject: party, details: { from: before.lifecycle, to: after.lifecycle } });
        return after;
      });
  }
  app.delete('/api/v1/peers/:party', { ...auth, schema: { tags: ['peers'], summary: 'Remove a peer: no more traffic either way; its links, messages and receipts stay as evidence', security, params: PartyParams } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const { party } = req.params;
      const { before, after } = await ctx.peers.setLifecycle(party, 'removed');
      await auditRequest(ctx, req, { action: 'peer.remove', subject: party, details: { from: before.lifecycle, to: after.lifecycle } });
      return after;
    });
}

const AddPeerBody = Type.Object({
  descriptor: Type.Object({}, { additionalProperties: true }),
  fingerprint: Type.Optional(Type.String({ description: 'The fingerprint read aloud by the peer; refused if it differs. Required unless trust_on_first_use' })),
  trust_on_first_use: Type.Optional(Type.Boolean({ description: 'Pin without a fingerprint compared out of band (the key is trusted as received)' })),
  channels: Type.Optional(Type.Array(oneOf(CHANNELS))),
}, { additionalProperties: false });

/**
 * The REST API for operators and scripts. Every route needs a bearer token (auth.ts): peers are
 * the administrator's; messages are filtered by the token's channels, TLP:RED bodies by recipient.
 */
export function apiRoutes(app: Api, ctx: NodeContext, onQueued: (to?: string) => void): void {
  const auth = { onRequest: authenticate(ctx) };
  const security = [{ bearer: [] }];
  const deps = { db: ctx.db, keys: ctx.keys, self: ctx.self, clock: ctx.clock, limits: ctx.limits, peers: ctx.peers, hooks: ctx.hooks };

  app.get('/api/v1/node', { ...auth, schema: { tags: ['node'], summary: "This node's peer descriptor", security } },
    async () => makeDescriptor(ctx.self, ctx.keys));

  // As `peer list --json`: the key it signs with now, when that changed, its state and its key history.
  const viewOf = async (p: Peer) => peerView(p, peerState(p, lastErrorCode((await getLink(ctx.db, ctx.self.party, p.party))?.last_error ?? null)));
  app.get('/api/v1/peers', { ...auth, schema: { tags: ['peers'], summary: 'Pinned peers: fingerprint, key history, state (ok, key_mismatch, suspended, removed)', security } },
    async () => ({ peers: await Promise.all((await ctx.peers.list()).map(viewOf)) }));

  app.get('/api/v1/peers/:party', { ...auth, schema: { tags: ['peers'], summary: 'One pinned peer: fingerprint, key history, state', security, params: Type.Object({ party: Type.String() }) } },
    async (req) => viewOf(await ctx.peers.require(req.params.party)));

  app.post('/api/v1/peers', { ...auth, schema: { tags: ['peers'], summary: 'Pin a peer from its descriptor', security, body: AddPeerBody } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      const b = req.body;
      const d = parseDescriptor(b.descriptor);
      if (b.fingerprint === undefined && b.trust_on_first_use !== true) {
        fail('fingerprint_required', `Not pinned: give the "fingerprint" ${d.party} read to you out of band, or "trust_on_first_use": true to pin this key unchecked`, { party: d.party, fingerprint: d.fingerprint });
      }
      const peer = await ctx.peers.add(d, {
        ...(b.fingerprint === undefined ? {} : { expectFingerprint: b.fingerprint }),
        ...(b.channels === undefined ? {} : { channels: b.channels }),
      });
      const epoch = (peer as { epoch_start_seq?: number }).epoch_start_seq;
      await auditRequest(ctx, req, { action: 'peer.add', subject: peer.party, details: { url: peer.url, channels: peer.channels, fingerprint: peer.keys.at(-1)?.fingerprint ?? null, ...(epoch === undefined ? {} : { readded: true, epoch_start_seq: epoch }) } });
      return reply.status(201).send(peer);
    });

  peerLifecycleRoutes(app, ctx, auth, security);

  app.post('/api/v1/messages', { ...auth, schema: { tags: ['messages'], summary: 'Queue a message to a peer', security, body: SendBody } },
    async (req, reply) => {
      const b = req.body;
      const p = principalOf(req);
      requireChannel(p, b.channel);
      const env = await send(deps, b, p);
      onQueued(env.to);
      return reply.status(202).send({ id: env.id, seq: env.seq, case: env.case, to: env.to, state: 'queued' });
    });

  app.get('/api/v1/messages', { ...auth, schema: { tags: ['messages'], summary: 'Inbox (direction=in) or outbox (direction=out), newest first, filtered and searched; each with its summary, acknowledgement state and whether it was answered; `next` pages on', security, querystring: ListQuery } },
    async (req) => {
      const { direction, limit, lang, ...filters } = req.query;
      const page = await listMessages(ctx.db, ctx.clock.now(), {
        ...filters, direction: direction ?? 'in', limit: limit ?? 50, as: principalOf(req), lang: requireLanguage(lang ?? ctx.config.language),
      });
      // Each with `short_id`: the shortest prefix (8+ characters) no other stored message shares, as the CLI shows it.
      const short = await shortMessageIds(ctx.db, page.messages.map((m) => m.id));
      return { ...page, messages: page.messages.map((m) => ({ ...m, short_id: short.get(m.id) ?? m.id })) };
    });

  app.get('/api/v1/messages/:id', { ...auth, schema: { tags: ['messages'], summary: 'One message with its envelope and receipt, rendered in a language', security, params: Type.Object({ id: Type.String({ description: 'A message id, or a unique prefix of at least 8 characters' }) }), querystring: ShowQuery } },
    async (req) => {
      const lang = requireLanguage(req.query.lang ?? ctx.config.language);
      const p = principalOf(req);
      const r = await show(ctx.db, req.params.id, p);
      const deadline = await deadlineOf(ctx.db, r.message.id, ctx.clock.now(), p);
      return { ...r, rendered: r.message.redacted === undefined ? render(r.message.kind, r.envelope.body, lang) : [], deadline };
    });
}
