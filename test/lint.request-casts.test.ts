import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * Routes take their request types from their TypeBox schemas through the type provider
 * (src/adapters/http/typed.ts): no handler casts `req.body`, `req.params`, `req.query` or
 * `req.headers` (issue 13). eslint.config.js refuses the casts under src/adapters/http.
 */
const root = join(import.meta.dirname, '..');
const http = join(root, 'src/adapters/http');

async function refusals(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [r] = await eslint.lintText(code, { filePath: join(http, 'routes/lint-sample.ts') });
  return r!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const header = 'type R = { body: unknown; params: unknown; query: unknown; headers: unknown };\n';

describe('ESLint: no cast of the request in the HTTP adapter', () => {
  it.each([
    ['a body cast', 'export const f = (req: R): unknown => req.body as { x: string };'],
    ['a params cast read at once', 'export const f = (req: R): string => (req.params as { id: string }).id;'],
    ['a query cast behind a fallback', 'export const f = (req: R): unknown => ((req.query ?? {}) as { y?: string }).y;'],
    ['an angle-bracket assertion', 'export const f = (request: R): unknown => <{ q: string }>request.query;'],
    ['a headers cast', 'export const f = (req: R): unknown => req.headers as Record<string, string>;'],
  ])('refuses %s', async (_name, code) => {
    expect((await refusals(header + code)).some((m) => m.startsWith('No cast of the request'))).toBe(true);
  });

  it('accepts typed access and casts of what is derived from the request', async () => {
    expect(await refusals(`${header}export const f = (req: { body: { x: string }; headers: Record<string, string> }): unknown[] =>
  [req.body.x, JSON.parse(req.headers['x'] ?? '{}') as unknown];`)).toEqual([]);
  });

  it('finds none in src/adapters/http', () => {
    const files = readdirSync(http, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const casts = files.flatMap((f) => readFileSync(join(http, f), 'utf8').split('\n')
      .map((line, i) => ({ at: `${f}:${i + 1}`, line }))
      .filter(({ line }) => /\b(req|request)\.(body|params|query|headers)\)?\s+as\b/.test(line)));
    expect(casts).toEqual([]);
  });
});
