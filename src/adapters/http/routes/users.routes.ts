import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { CHANNELS } from '../../../modules/federation/federation.types.js';
import { ROLES } from '../../../modules/users/users.types.js';
import { actorOf, authenticate, principalOf, requireRole } from '../auth.js';

const AddUserBody = Type.Object({
  name: Type.String({ description: 'Lower case: 2 to 32 of a-z, 0-9, ".", "_", "-", starting with a letter' }),
  role: Type.String({ enum: [...ROLES] }),
  channels: Type.Optional(Type.Array(Type.String(), { description: `Channels granted (some of ${CHANNELS.join(', ')}); required for an officer, all by default for an admin` })),
  peer: Type.Optional(Type.String({ description: 'Role peer only, and required for it: the pinned peer whose systems use the account (TAXII only)' })),
  display_name: Type.Optional(Type.String({ description: 'What the person is called, e.g. "Ivan Petrov" (1 to 200 characters, one line): acknowledgements name it' })),
}, { additionalProperties: false });

const EditUserBody = Type.Object({
  display_name: Type.Optional(Type.String({ description: 'The new display name (1 to 200 characters, one line)' })),
}, { additionalProperties: false });

const SetPasswordBody = Type.Object({
  password: Type.String({ description: 'The new password (the node\'s minimum length applies: password_too_short)' }),
}, { additionalProperties: false });

const CreateTokenBody = Type.Object({
  user: Type.String({ description: 'The user the token acts as' }),
}, { additionalProperties: false });

/**
 * Users and API tokens: who the caller is (`/me`, any token), and their administration
 * (the rest: role admin only).
 */
export function usersRoutes(app: Api, ctx: NodeContext): void {
  const onRequest = authenticate(ctx);
  const security = [{ bearer: [] }];
  const tags = ['users'];

  app.get('/api/v1/me', { onRequest, schema: { tags, summary: 'The user and channels the token acts as', security } },
    async (req) => {
      const { via: _via, ...p } = principalOf(req);
      return p;
    });

  app.get('/api/v1/users', { onRequest, schema: { tags, summary: 'Users of this node (admin)', security } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return { users: await ctx.users.list() };
    });

  app.post('/api/v1/users', { onRequest, schema: { tags, summary: 'Add a user with a role and channel grants (admin)', security, body: AddUserBody } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      const b = req.body;
      return reply.status(201).send(await ctx.users.add(b, actorOf(req)));
    });

  app.patch('/api/v1/users/:name', { onRequest, schema: { tags, summary: "Change a user's display name (admin)", security, params: Type.Object({ name: Type.String() }), body: EditUserBody } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return ctx.users.edit(req.params.name, req.body, actorOf(req));
    });

  app.post('/api/v1/users/:name/disable', { onRequest, schema: { tags, summary: "Disable a user: all of its tokens stop working (admin)", security, params: Type.Object({ name: Type.String() }) } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return ctx.users.disable(req.params.name, actorOf(req));
    });

  app.post('/api/v1/users/:name/password', {
    onRequest, schema: { tags, summary: "Set a user's console password, e.g. a new user's first one (admin); the user's sessions end. Audited, never the password", security, params: Type.Object({ name: Type.String() }), body: SetPasswordBody },
  }, async (req, reply) => {
    requireRole(principalOf(req), 'admin');
    await ctx.users.setPassword(req.params.name, req.body.password, actorOf(req));
    return reply.status(204).send();
  });

  app.get('/api/v1/tokens', { onRequest, schema: { tags, summary: 'API tokens, without their secrets (admin)', security, querystring: Type.Object({ user: Type.Optional(Type.String()) }) } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return { tokens: await ctx.users.listTokens(req.query.user) };
    });

  app.post('/api/v1/tokens', { onRequest, schema: { tags, summary: 'Create a token for a user; the secret is in this answer only (admin)', security, body: CreateTokenBody } },
    async (req, reply) => {
      requireRole(principalOf(req), 'admin');
      return reply.status(201).send(await ctx.users.createToken(req.body.user, actorOf(req)));
    });

  app.delete('/api/v1/tokens/:id', { onRequest, schema: { tags, summary: 'Revoke a token (admin)', security, params: Type.Object({ id: Type.String() }) } },
    async (req) => {
      requireRole(principalOf(req), 'admin');
      return ctx.users.revokeToken(req.params.id, actorOf(req));
    });
}
