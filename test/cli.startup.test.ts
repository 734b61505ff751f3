/**
 * What the `hotline` program loads to start: `--help` only commander and the command table, and a
 * one-shot verb like `inbox` only what it uses (no HTTP server, no STIX validator, no feeds).
 * Which modules a process loads is deterministic, unlike how long it takes (bench:cli measures that).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, ROOT } from './helpers/cli.js';

const REGISTER = join(ROOT, 'test', 'helpers', 'load-trace', 'register.mjs');
let dir: string;

/** The modules `hotline ARGS` loads, as paths relative to the repository (node: built-ins left out). */
function loadedBy(...args: string[]): string[] {
  const trace = join(dir, `trace-${Math.random().toString(36).slice(2)}`);
  execFileSync(process.execPath, ['--import', REGISTER, BIN, ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), HOTLINE_LOAD_TRACE: trace }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  return readFileSync(trace, 'utf8').split('\n').filter((u) => u.startsWith('file://')).map((u) => u.slice(`file://${ROOT}`.length).replace(/^\//, ''));
}

const packages = (files: readonly string[]): Set<string> =>
  new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []));

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'hotline-startup-'));
  execFileSync(process.execPath, [BIN, 'init', '--home', join(dir, 'node'), '--party', 'us', '--name', 'US CERT', '--listen', '127.0.0.1:7999'], { stdio: 'ignore' });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hotline start-up loads what the command needs', () => {
  it('--help loads the command files, and of the domain only its constants (*.types.js) and small shared helpers', () => {
    const files = loadedBy('--help');
    // commander comes through require (its CommonJS build, not traced here): no package loads as an ES module,
    // which would make Node parse CommonJS for its exports (cjs-module-lexer) at every start.
    expect([...packages(files)]).toEqual([]);
    const domain = files.filter((f) => f.startsWith('dist/src/') && !f.startsWith('dist/src/adapters/cli/'));
    // errors, private files, UTF-8 JSON (and the canonical writer's string check it uses), the node-only kinds.
    const small = /\.types\.js$|\/shared\/(errors|files|json|canonical)\.js$|\/messaging\/messaging\.kinds\.js$/;
    expect(domain.filter((f) => !small.test(f))).toEqual([]);
    expect(files).toContain('dist/src/adapters/cli/commands/messages.js');
  });

  it('inbox opens the store but loads no HTTP server, OpenAPI, STIX validator or feed pipeline', () => {
    const files = loadedBy('inbox', '--home', join(dir, 'node'));
    const pkgs = packages(files);
    expect(files.some((f) => f.includes('storage/sqlite.js'))).toBe(true);
    // Kysely comes through require (its CommonJS build, not traced here), never also as ES modules.
    expect(pkgs.has('kysely')).toBe(false);
    for (const p of ['fastify', '@fastify/swagger', '@fastify/swagger-ui', 'prom-client', 'cli-progress', '@ip-location-db/asn']) expect(pkgs.has(p), p).toBe(false);
    // Of the feeds module only its constants (no pipeline).
    expect(files.filter((f) => /dist\/src\/(main\.js|adapters\/http\/|modules\/stix\/stix\.validate|modules\/feeds\/(?!feeds\.types\.js))/.test(f))).toEqual([]);
  });

  it('inbox opens only the base of a node: its own command file, no module\'s hooks, no TAXII, no logger, no migrations on an up-to-date store', () => {
    const files = loadedBy('inbox', '--home', join(dir, 'node'));
    // messages.js and the command files it borrows from (acknowledger, actingAs, rendered fields).
    expect(files.filter((f) => f.includes('/cli/commands/')).sort()).toEqual(['ack', 'messages', 'templates', 'user'].map((c) => `dist/src/adapters/cli/commands/${c}.js`));
    expect(files.filter((f) => /\.hook\.js$|\/context\.domain\.js$|\/modules\/(taxii|stix|feeds)\/|\/storage\/migrations\/|\/retention\.js$/.test(f))).toEqual([]);
    // No logger (pino), and better-sqlite3, Kysely and commander come through require.
    expect([...packages(files)]).toEqual([]);
  });
});
