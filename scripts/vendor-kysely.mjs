// `npm run build`: Kysely as one CommonJS file, dist/node_modules/kysely/index.cjs.
//
// Kysely's own CommonJS build is ~260 small files; requiring them costs a one-shot CLI verb
// (`hotline inbox`) ~50 ms of CPU in module resolution and loading, a fifth of its start (bench:cli).
// One bundled file loads in ~15 ms. Only the compiled code finds it: `require('kysely')` from
// dist/src/** walks up to dist/node_modules before the project's node_modules. The sources, the
// tests (vitest runs src/) and the type checker use the installed package. Nothing of ours is
// bundled: worker threads and data files keep resolving relative to import.meta.url.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// <root>/node_modules/kysely/dist/cjs/index.js: the installed package is three levels up.
const installedDir = join(dirname(createRequire(join(root, 'package.json')).resolve('kysely')), '..', '..');
const installed = JSON.parse(readFileSync(join(installedDir, 'package.json'), 'utf8'));
// From the ES module build: esbuild then lists the exports where Node's CommonJS lexer finds them,
// so `import { sql } from 'kysely'` in compiled code works as well as `require('kysely')`.
const entry = join(installedDir, installed.exports['.'].import);
const out = join(root, 'dist', 'node_modules', 'kysely');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20',
  outfile: join(out, 'index.cjs'), logLevel: 'warning', legalComments: 'inline',
});
writeFileSync(join(out, 'package.json'), `${JSON.stringify({
  name: 'kysely', version: installed.version, private: true,
  description: `Kysely ${installed.version} bundled from node_modules/kysely by scripts/vendor-kysely.mjs`,
  license: installed.license, main: './index.cjs', exports: { '.': './index.cjs', './package.json': './package.json' },
}, null, 2)}\n`);
