import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { Kysely } from 'kysely';
import type { NodeContext } from '../../../context.js';
import { fail } from '../../../shared/errors.js';
import { CHANNELS, PRIORITIES } from '../../../modules/federation/federation.types.js';
import { publishDirectory, viewDirectory } from '../../../modules/directory/directory.publish.js';
import { listPings, pingById, reachability, sendPing, sendPong } from '../../../modules/directory/directory.pings.js';
import { addContact, listContacts, removeContact, rotaFor, setRota } from '../../../modules/directory/directory.service.js';
import type { DirectoryTables } from '../../../modules/directory/directory.tables.js';
import { holdsChannel } from '../../../modules/users/users.access.js';
import { auditRequest, authenticate, principalOf, requireChannel, requireRole } from '../auth.js';
import { parseIsoTime } from '../../../shared/clock.js';

const Channel = Type.String({ enum: [...CHANNELS] });
const Id = Type.Object({ id: Type.String() });

const ContactBody = Type.Object({
  channel: Channel,
  function: Type.String({ minLength: 1, description: 'e.g. "CERT duty officer"' }),
  name: Type.String({ minLength: 1 }),
  languages: Type.Optional(Type.Array(Type.String(), { description: 'Language tags, e.g. ["en","ru"]' })),
  hours: Type.Optional(Type.String({ description: 'e.g. "24/7" or "Mon-Fri 08:00-18:00 UTC"' })),
  phone: Type.Optional(Type.String({ description: 'Out-of-band telephone' })),
  email: Type.Optional(Type.String({ description: 'Out-of-band e-mail' })),
  user: Type.Optional(Type.String({ description: 'The user of this node the contact is (holds the channel): takes duty as it, is paged through it for TLP:RED' })),
}, { additionalProperties: false });

const Notify = Type.Object({ webhook: Type.Optional(Type.String()), email: Type.Optional(Type.String()) }, { additionalProperties: false });

const RotaBody = Type.Object({
  primary: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The officer on duty: contact id (or unique prefix of 8+ characters) or name; null empties it; absent keeps it' })),
  backup: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  supervisor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  notify: Type.Optional(Type.Object({ primary: Type.Optional(Notify), backup: Type.Optional(Notify), supervisor: Type.Optional(Notify) }, {
    additionalProperties: false, description: 'Where escalation notifies each position (kept on this node; never published)',
  })),
}, { additionalProperties: false });

const PingBody = Type.Object({
  to: Type.String({ description: 'Party id of a pinned peer' }),
  channel: Channel,
  priority: Type.Optional(Type.String({ enum: [...PRIORITIES] })),
  text: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false });

const PongBody = Type.Object({
  text: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false });

const DirectoryQuery = Type.Object({ party: Type.Optional(Type.String()), channel: Type.Optional(Channel) });
const PingsQuery = Type.Object({
  direction: Type.Optional(Type.Union([Type.Literal('in'), Type.Literal('out')])),
  pending: Type.Optional(Type.Boolean({ description: 'Only pings not answered yet' })),
  peer: Type.Optional(Type.String({ description: 'Only pings to or from this peer' })),
  channel: Type.Optional(Channel),
  since: Type.Optional(Type.String({ description: 'Only pings sent since this RFC 3339 UTC time (a reachability history)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
});
const ReachabilityQuery = Type.Object({ peer: Type.Optional(Type.String()), channel: Type.Optional(Channel) });

/**
 * The points-of-contact directory, rota, ping tests and reachability. Reading is filtered by the
 * token's channels; editing the directory and publishing it is the administrator's; pinging and
 * answering a ping need the channel.
 */
export function directoryRoutes(app: Api, ctx: NodeContext, onQueued: () => void): void {
  const auth = { onRequest: authenticate(ctx) };
  const security = [{ bearer: [] }];
  const db: Kysely<DirectoryTables> = ctx.db;
  const tags = ['directory'];

  app.get('/api/v1/directory', { ...auth, schema: { tags, summary: 'The directory as this node knows it: own and peers\' contacts and rota, with when each was last confirmed', security, querystring: DirectoryQuery } },
    async (req) => {
      const p = principalOf(req);
      const q = req.query;
      const parties = await viewDirectory(ctx, q);
      return { parties: parties.map((e) => ({ ...e, channels: e.channels.filter((c) => holdsChannel(p, c.channel)) })) };
    });

  app.post('/api/v1/directory/publish', { ...auth, schema: { tags, summary: 'Send this party\'s contacts and rota to every peer as a signed directory-update', security } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      const r = await publishDirectory(ctx);
      await auditRequest(ctx, req, { action: 'directory.publish' });
      onQueued();
      return reply.status(202).send(r);
    });

  app.get('/api/v1/contacts', { ...auth, schema: { tags, summary: 'This node\'s own points of contact', security, querystring: Type.Object({ channel: Type.Optional(Channel) }) } },
    async (req) => {
      const p = principalOf(req);
      const contacts = await listContacts(db, ctx.self.party, req.query.channel);
      return { contacts: contacts.filter((c) => holdsChannel(p, c.channel)) };
    });

  app.post('/api/v1/contacts', { ...auth, schema: { tags, summary: 'Add a point of contact to this node\'s directory', security, body: ContactBody } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      const c = await addContact({ db, self: ctx.self, clock: ctx.clock, users: ctx.users }, req.body);
      await auditRequest(ctx, req, { action: 'contact.add', subject: c.id, details: { channel: c.channel } });
      return reply.status(201).send(c);
    });

  app.delete('/api/v1/contacts/:id', { ...auth, schema: { tags, summary: 'Remove a point of contact (refused while a rota names it)', security, params: Id } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const removed = await removeContact({ db, self: ctx.self, clock: ctx.clock }, req.params.id);
      await auditRequest(ctx, req, { action: 'contact.remove', subject: removed.id, details: { channel: removed.channel } });
      return { removed };
    });

  app.get('/api/v1/rota/:channel', { ...auth, schema: { tags, summary: 'This node\'s escalation chain on a channel: primary, backup, supervisor', security, params: Type.Object({ channel: Channel }) } },
    async (req) => {
      const { channel } = req.params;
      requireChannel(principalOf(req), channel);
      return { channel, chain: await rotaFor(db, ctx.self.party, channel) };
    });

  app.get('/api/v1/rota', { ...auth, schema: { tags, summary: 'Who is on duty now and next on each channel the caller holds (shifts in the node\'s time_zone, overrides applied)', security } },
    async (req) => {
      const p = principalOf(req);
      const { dutyNow } = await import('../../../modules/directory/directory.rota.js');
      return { duty: (await dutyNow({ db, self: ctx.self, clock: ctx.clock }, ctx.config.timeZone)).filter((d) => holdsChannel(p, d.channel)) };
    });

  app.post('/api/v1/rota/:channel/take', {
    ...auth,
    schema: {
      tags, summary: '"I take the duty now": the contact linked to the token\'s user holds the position until `until`', security, params: Type.Object({ channel: Channel }),
      body: Type.Object({ until: Type.String({ description: 'RFC 3339 UTC' }), position: Type.Optional(Type.String({ enum: ['primary', 'backup', 'supervisor'] })) }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    const { channel } = req.params;
    requireChannel(p, channel);
    const body = req.body;
    const until = parseIsoTime(body.until);
    if (Number.isNaN(until)) fail('invalid_argument', `until must be an RFC 3339 UTC time such as 2026-05-01T18:00:00Z (got "${body.until}")`);
    const { takeDuty } = await import('../../../modules/directory/directory.rota.js');
    const taken = await takeDuty({ db, self: ctx.self, clock: ctx.clock }, { channel, user: p.user, until, ...(body.position === undefined ? {} : { position: body.position }) });
    await auditRequest(ctx, req, { action: 'rota.override', subject: channel, details: { id: taken.id, position: taken.position, until: taken.until } });
    return reply.status(201).send(taken);
  });

  app.post('/api/v1/rota/:channel/hand-over', {
    ...auth,
    schema: {
      tags, summary: '"I hand the duty over": another of this node\'s contacts on the channel holds the position until `until` (the one on duty now, or an administrator)', security, params: Type.Object({ channel: Channel }),
      body: Type.Object({
        to: Type.String({ minLength: 1, description: 'The contact taking over: its id (or unique prefix of 8+ characters), name, or linked user name' }),
        until: Type.String({ description: 'RFC 3339 UTC' }),
        position: Type.Optional(Type.String({ enum: ['primary', 'backup', 'supervisor'] })),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    const { channel } = req.params;
    requireChannel(p, channel);
    const body = req.body;
    const until = parseIsoTime(body.until);
    if (Number.isNaN(until)) fail('invalid_argument', `until must be an RFC 3339 UTC time such as 2026-05-01T18:00:00Z (got "${body.until}")`);
    const { handOverDuty } = await import('../../../modules/directory/directory.rota.js');
    const given = await handOverDuty({ db, self: ctx.self, clock: ctx.clock }, ctx.config.timeZone, {
      channel, by: p.user, admin: p.role === 'admin', to: body.to, until, ...(body.position === undefined ? {} : { position: body.position }),
    });
    await auditRequest(ctx, req, { action: 'rota.override', subject: channel, details: { id: given.id, position: given.position, until: given.until, handed_over_to: given.contact.id } });
    return reply.status(201).send(given);
  });

  app.put('/api/v1/rota/:channel', { ...auth, schema: { tags, summary: 'Set this node\'s rota on a channel', security, params: Type.Object({ channel: Channel }), body: RotaBody } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      const { channel } = req.params;
      const b = req.body;
      const chain = await setRota({ db, self: ctx.self, clock: ctx.clock }, { channel, ...b });
      // The positions' contact ids, never their webhook URLs (they may carry a secret).
      await auditRequest(ctx, req, { action: 'rota.set', subject: channel, details: Object.fromEntries(chain.map((st) => [st.position, st.contact.id])) });
      return { channel, chain };
    });

  app.post('/api/v1/pings', { ...auth, schema: { tags, summary: 'Send a ping test to a peer on a channel; its on-duty officer answers with a pong', security, body: PingBody } },
    async (req, reply) => {
      const b = req.body;
      requireChannel(principalOf(req), b.channel);
      const env = await sendPing(ctx, b);
      onQueued();
      return reply.status(202).send({ id: env.id, case: env.case, to: env.to, channel: env.channel, state: 'queued' });
    });

  app.get('/api/v1/pings', { ...auth, schema: { tags, summary: 'Ping tests sent and received, newest first', security, querystring: PingsQuery } },
    async (req) => {
      const p = principalOf(req);
      const { since, ...q } = req.query;
      const from = since === undefined ? undefined : parseIsoTime(since);
      if (from !== undefined && Number.isNaN(from)) fail('invalid_argument', `since must be an RFC 3339 UTC time such as 2026-05-01T18:00:00Z (got "${since}")`);
      return { pings: await listPings(db, { ...q, ...(from === undefined ? {} : { since: from }), channels: p.channels }) };
    });

  app.post('/api/v1/pings/:id/pong', { ...auth, schema: { tags, summary: 'Answer a ping this node received (a person\'s answer, in its case)', security, params: Id, body: PongBody } },
    async (req, reply) => {
      const p = principalOf(req);
      const { id } = req.params;
      const b = req.body;
      // A ping on a channel the caller does not hold is, for it, a ping that does not exist.
      const ping = await pingById(db, id);
      if (ping !== undefined && ping.direction === 'in' && !holdsChannel(p, ping.channel)) {
        fail('pong_without_ping', `No ping ${id} was received by this node; a pong answers a ping received`);
      }
      const env = await sendPong(ctx, { ping: id, ...(b.text === undefined ? {} : { text: b.text }) }, p);
      onQueued();
      return reply.status(202).send({ id: env.id, case: env.case, in_reply_to: env.in_reply_to, to: env.to, state: 'queued' });
    });

  app.get('/api/v1/reachability', { ...auth, schema: { tags, summary: 'Per peer and channel: pings sent, answered, median and worst time to answer, last success', security, querystring: ReachabilityQuery } },
    async (req) => {
      const p = principalOf(req);
      const rows = await reachability({ db, peers: ctx.peers }, req.query);
      return { reachability: rows.filter((r) => holdsChannel(p, r.channel)) };
    });
}
