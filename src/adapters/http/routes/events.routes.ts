import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import type { NodeEvent } from '../../../shared/events.js';
import { canRead } from '../../../modules/messaging/messaging.visibility.js';
import { holdsChannel } from '../../../modules/users/users.access.js';
import type { Principal } from '../../../modules/users/users.types.js';
import { authenticate, principalOf } from '../auth.js';
import { sessionCookie } from '../session.js';

/** A comment line this often keeps proxies and the server's idle timeout from closing a quiet stream; each also re-checks the credentials. */
export const HEARTBEAT_MS = 15_000;

/**
 * What `p` may hear of: a message or its delivery when `p` may read the message (its channel, and
 * for TLP:RED its named recipients or its writer: messaging.visibility.ts canRead, as the API);
 * an acknowledgement when `p` holds its channel.
 */
export function mayHear(p: Principal, e: NodeEvent): boolean {
  return e.name === 'ack' ? holdsChannel(p, e.marked.channel) : canRead(p, e.marked);
}

/**
 * GET /api/v1/events: Server-Sent Events of what the store commits (shared/events.ts), filtered per
 * subscriber. `event: message`, `event: ack`, `event: delivery` with JSON data; a comment line every
 * {@link HEARTBEAT_MS}. A stream whose session or token has ended is closed at its next heartbeat;
 * every stream is closed when the node stops (app.close does not wait for them).
 */
export function eventsRoutes(app: Api, ctx: NodeContext): void {
  const open = new Set<{ end(): void }>();
  app.addHook('preClose', (done) => {
    for (const s of [...open]) s.end();
    done();
  });

  app.get('/api/v1/events', {
    onRequest: authenticate(ctx),
    schema: { tags: ['events'], summary: 'Live events (text/event-stream): message, ack, delivery; only what the caller may read', security: [{ bearer: [] }] },
  }, (req, reply) => {
    const p = principalOf(req);
    const still = stillValid(ctx, req);
    reply.hijack();
    const res: ServerResponse = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    res.write(': hotline events\n\n');
    let ended = false;
    const stream = {
      end: () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(beat);
        open.delete(stream);
        res.end();
      },
    };
    const unsubscribe = ctx.events.subscribe((e) => {
      if (ended || !mayHear(p, e)) return;
      res.write(`event: ${e.name}\ndata: ${JSON.stringify(e.data)}\n\n`);
    });
    const beat = setInterval(() => {
      void still().then((ok) => {
        if (!ok) stream.end();
        else if (!ended) res.write(': heartbeat\n\n');
      });
    }, HEARTBEAT_MS);
    beat.unref();
    open.add(stream);
    req.raw.on('close', stream.end);
    res.on('error', stream.end);
  });
}

/** Whether the request's session (without counting as activity) or bearer token is still good. */
function stillValid(ctx: NodeContext, req: FastifyRequest): () => Promise<boolean> {
  const cookie = req.consoleSession === null ? undefined : sessionCookie(req);
  const auth = req.headers.authorization;
  return async () => {
    try {
      if (cookie !== undefined) await ctx.sessions.resolve(cookie, false);
      else if (typeof auth === 'string') await ctx.users.authenticate(auth.replace(/^Bearer\s+/i, ''));
      return true;
    } catch {
      return false;
    }
  };
}
