/**
 * The console (web/, built by `npm run build` into dist/web) served by the node itself at `/`,
 * same origin as the API: its assets under /assets/ (content-hashed names, cached for a year),
 * and the page itself for every console path (/, /messages/<id>, /cases, ...), so that a link in
 * an alert e-mail opens where it points. Paths of the API, TAXII, the federation endpoint and the
 * API reference keep their JSON 404.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { fail } from '../../shared/errors.js';

/** Paths that are never the console: their unknown paths are the API's `not_found`. */
const NOT_CONSOLE = /^\/(api|taxii2|federation|docs|openapi\.json|metrics|healthz|assets)(\/|$)/;

/**
 * The page's headers: nothing from elsewhere (scripts, styles, frames, connections), no framing
 * of the console by another site, no referrer leaking message ids.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'self'; img-src 'self' data:; media-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** dist/web of this installation, found from this file (src/ under vitest, dist/src/ when built). */
export function consoleDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const web = join(dir, 'dist', 'web');
      return existsSync(join(web, 'index.html')) ? web : null;
    }
    dir = dirname(dir);
  }
  return null;
}

export async function webRoutes(app: FastifyInstance): Promise<void> {
  const root = consoleDir();
  const index = root === null ? null : readFileSync(join(root, 'index.html'));
  if (root !== null) {
    await app.register(fastifyStatic, {
      root: join(root, 'assets'), prefix: '/assets/', decorateReply: false, index: false, wildcard: true,
      setHeaders: (res) => {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
  }
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_CONSOLE.test(path)) {
      fail('not_found', `There is no ${req.method} ${path} on this node; the API is described at /docs`);
    }
    if (index === null) {
      return reply.status(503).type('text/plain; charset=utf-8')
        .send('The console is not built on this installation: run `npm run build`, then restart the node.\n');
    }
    return reply.status(200).headers({ ...CONSOLE_HEADERS, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8').send(index);
  });
}
