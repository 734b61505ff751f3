import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { oneOf, typed, type Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { FeedRunner } from '../feeds.runner.js';
import { fail } from '../../../shared/errors.js';
import { TLPS } from '../../../modules/federation/federation.types.js';
import { checkJurisdiction } from '../../../modules/feeds/feeds.route.js';
import { spoolUpload } from '../../../modules/feeds/feeds.jobs.js';
import { expectedRecords } from '../../../modules/feeds/feeds.run.js';
import { listRuns, showRun } from '../../../modules/feeds/feeds.runs.js';
import { FEED_FORMATS } from '../../../modules/feeds/feeds.types.js';
import { auditRequest, authenticate, principalOf, requireChannel, requireRole } from '../auth.js';

const UploadQuery = Type.Object({
  format: Type.Optional(oneOf(FEED_FORMATS)),
  preset: Type.Optional(Type.String()),
  map: Type.Optional(Type.String({ description: 'A column mapping, e.g. ip=src,port=sport,timestamp=time' })),
  source: Type.Optional(Type.String({ description: 'The feed\'s name (default: upload)' })),
  tlp: Type.Optional(oneOf(TLPS)),
  window_hours: Type.Optional(Type.Number({ minimum: 0 })),
}, { additionalProperties: false });

const JurisdictionBody = Type.Object({
  countries: Type.Optional(Type.Array(Type.String())),
  asns: Type.Optional(Type.Array(Type.Union([Type.Integer(), Type.String()]))),
  prefixes: Type.Optional(Type.Array(Type.String())),
}, { additionalProperties: false });

const UPLOAD_TYPES = ['text/csv', 'text/plain', 'application/x-ndjson', 'application/jsonl', 'application/json', 'application/stix+json', 'application/octet-stream'];

/**
 * The upload as the content parser above hands it over: the request's stream. A POST with neither
 * a body nor a Content-Type reaches the route without one: that is an empty upload.
 */
function uploadOf(body: unknown): Readable {
  if (!(body instanceof Readable)) fail('feed_format', 'The upload is empty; send the feed as the request body');
  return body;
}

/**
 * Feed runs over REST: an upload is spooled into the store as it arrives (at most
 * `feeds.maxUploadBytes`; feeds.jobs.ts: a job any process of the node can run and resume),
 * answered 202 with the run's id, and run on a worker thread (feeds.runner.ts; at most
 * `feeds.maxConcurrentRuns` at once per process, else `feeds_busy` before the body is read); GET
 * shows its progress (updated at every write) and, once done, what went where.
 */
export async function feedsRoutes(app: Api, ctx: NodeContext, onQueued: () => void, holder?: string): Promise<void> {
  const runner = new FeedRunner(ctx, onQueued, holder);
  // Once listening (and, on PostgreSQL, with this process's lease taken soon after), it looks for jobs to run or resume.
  app.addHook('onListen', async () => runner.start());
  app.addHook('onClose', async () => runner.stop());
  const maxUpload = ctx.config.feeds.maxUploadBytes;
  const onRequest = authenticate(ctx);
  const security = [{ bearer: [] }];
  const tags = ['feeds'];
  await app.register(async (plain) => {
    const scope = typed(plain);
    // Feed bodies stream to disk, never into memory.
    for (const t of UPLOAD_TYPES) scope.removeContentTypeParser(t);
    scope.addContentTypeParser(UPLOAD_TYPES, (_req, payload, done) => done(null, payload));
    scope.post('/api/v1/feed-runs', {
      onRequest, schema: { tags, summary: 'Upload a feed (CSV, JSON lines or a STIX bundle) and start a run; 202 with its id', security, querystring: UploadQuery },
    }, async (req, reply) => {
      requireChannel(principalOf(req), 'cert');
      const q = req.query;
      const tooLarge = (): never => fail('body_too_large', `Uploads are limited to ${maxUpload} bytes (config feeds.maxUploadBytes); split the feed, or run it with "hotline feed ingest" on the node's machine`);
      if (Number(req.headers['content-length'] ?? 0) > maxUpload) tooLarge();
      await runner.reserve();
      const id = randomUUID();
      let bytes = 0;
      try {
        async function* counted(body: Readable): AsyncGenerator<Buffer> {
          for await (const chunk of body) {
            bytes += (chunk as Buffer).length;
            if (bytes > maxUpload) tooLarge();
            yield chunk as Buffer;
          }
        }
        const source = q.source ?? 'upload';
        await spoolUpload(ctx.db, { id, holder: runner.holder, source, now: ctx.clock.now() }, counted(uploadOf(req.body)), (n) => ({
          inputName: `upload (${n} bytes)`, source, format: q.format ?? 'auto', preset: q.preset, mapping: q.map, tlp: q.tlp ?? 'amber',
          windowMinutes: (q.window_hours ?? 24) * 60, keepDays: 2, expectedRecords: expectedRecords(n),
        }));
        await runner.startUpload(id);
      } catch (e) {
        runner.release();
        throw e;
      }
      await auditRequest(ctx, req, { action: 'feed.run', subject: id, details: { source: q.source ?? 'upload', format: q.format ?? 'auto', bytes, tlp: q.tlp ?? 'amber' } });
      return reply.status(202).header('location', `/api/v1/feed-runs/${id}`).send({ id, state: 'running', bytes });
    });
  });

  app.get('/api/v1/feed-runs', { onRequest, schema: { tags, summary: 'Feed runs, newest first', security, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }) } },
    async (req) => {
      requireChannel(principalOf(req), 'cert');
      return { runs: await listRuns(ctx.db, ctx.clock.now(), req.query.limit ?? 50) };
    });

  app.get('/api/v1/feed-runs/:id', { onRequest, schema: { tags, summary: 'One feed run: its progress, then what went where', security, params: Type.Object({ id: Type.String() }) } },
    async (req) => {
      requireChannel(principalOf(req), 'cert');
      return showRun(ctx.db, req.params.id, ctx.clock.now());
    });

  app.get('/api/v1/jurisdictions', { onRequest, schema: { tags, summary: 'Who is responsible for which addresses', security } },
    async () => ({ jurisdictions: await ctx.jurisdictions.list() }));

  app.put('/api/v1/jurisdictions/:party', {
    onRequest, schema: { tags, summary: 'Set the jurisdiction of this node or a pinned peer (admin)', security, params: Type.Object({ party: Type.String() }), body: JurisdictionBody },
  }, async (req) => {
    requireRole(principalOf(req), 'admin');
    const b = req.body;
    const j = checkJurisdiction({ party: req.params.party, ...b });
    return ctx.jurisdictions.set(j, [ctx.self.party, ...(await ctx.peers.list()).map((p) => p.party)]);
  });
}
