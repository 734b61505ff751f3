import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { fail } from '../../../shared/errors.js';
import type { ActiveSession, SessionInfo } from '../../../modules/users/users.sessions.js';
import { actorOf, authenticate } from '../auth.js';
import { checkOrigin, clearSessionCookie, ownOrigins, setSessionCookie } from '../session.js';

const SignInBody = Type.Object({
  user: Type.String({ maxLength: 64, description: 'The user name' }),
  password: Type.String({ maxLength: 1024 }),
  totp: Type.Optional(Type.String({ maxLength: 16, description: 'The 6-digit code of the user\'s authenticator app, when the node answered totp_required' })),
}, { additionalProperties: false });

const PasswordBody = Type.Object({
  current: Type.String({ maxLength: 1024 }),
  password: Type.String({ maxLength: 1024, description: 'The new password: at least 12 characters' }),
}, { additionalProperties: false });

const TotpConfirmBody = Type.Object({ code: Type.String({ maxLength: 16 }) }, { additionalProperties: false });

const Session = Type.Object({
  user: Type.String(), role: Type.String(), channels: Type.Array(Type.String()), display_name: Type.Union([Type.String(), Type.Null()]),
  csrf_token: Type.String(), totp_enrolled: Type.Boolean(), totp_enrolment_required: Type.Boolean(),
  node: Type.Object({ party: Type.String(), name: Type.String() }),
});

/** The request's console session; a bearer token has none (these routes are the console's). */
function sessionOf(req: FastifyRequest): ActiveSession {
  const s = req.consoleSession;
  if (s === null || s === undefined) fail('unauthorized', 'This is the console\'s session: sign in (POST /api/v1/session); a token has no session (GET /api/v1/me says who a token is)');
  return s;
}

/**
 * The console's sign-in (POST /api/v1/session), session (GET), sign-out (DELETE) and the signed-in
 * user's account: own password, TOTP enrolment. Sessions and their cookie: modules/users/users.sessions.ts, ../session.ts.
 */
export function sessionRoutes(app: Api, ctx: NodeContext): void {
  const onRequest = authenticate(ctx);
  const own = ownOrigins(ctx.config);
  const tags = ['session'];
  const node = { party: ctx.self.party, name: ctx.self.name };
  const answer = (info: SessionInfo) => ({ ...info, node });

  app.post('/api/v1/session', {
    schema: {
      tags, summary: 'Sign in to the console: sets the hotline_session cookie (401 bad_credentials, 401 totp_required, 429 signin_locked)',
      body: SignInBody, response: { 200: Session },
    },
  }, async (req, reply) => {
    // A sign-in from another site's page (login CSRF) is refused like any cross-site write.
    checkOrigin(req, ctx.config, own);
    const { id, session } = await ctx.sessions.signIn(req.body, req.ip);
    setSessionCookie(reply, ctx.config, id);
    return answer(session);
  });

  app.get('/api/v1/session', { onRequest, schema: { tags, summary: 'The signed-in user and the CSRF token of the session (401 when signed out)', response: { 200: Session } } },
    async (req) => answer(sessionOf(req).info));

  app.delete('/api/v1/session', { onRequest, schema: { tags, summary: 'Sign out: the session ends and its cookie is cleared' } },
    async (req, reply) => {
      await ctx.sessions.signOut(sessionOf(req), actorOf(req));
      clearSessionCookie(reply, ctx.config);
      return reply.status(204).send();
    });

  app.post('/api/v1/account/password', { onRequest, schema: { tags, summary: 'Change your own password (the current one first); your other sessions end', body: PasswordBody } },
    async (req, reply) => {
      const b = req.body;
      await ctx.sessions.changePassword(sessionOf(req), b.current, b.password, actorOf(req));
      return reply.status(204).send();
    });

  app.post('/api/v1/account/totp', { onRequest, schema: { tags, summary: 'Start TOTP enrolment: a new secret, its otpauth:// URI and QR code (SVG); confirm with a code' } },
    async (req) => ctx.sessions.totpStart(sessionOf(req)));

  app.post('/api/v1/account/totp/confirm', { onRequest, schema: { tags, summary: 'Confirm TOTP enrolment with a code of the new secret', body: TotpConfirmBody } },
    async (req) => {
      const s = sessionOf(req);
      await ctx.sessions.totpConfirm(s, req.body.code, actorOf(req));
      return answer({ ...s.info, totp_enrolled: true, totp_enrolment_required: false });
    });
}
