import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The store has one connection: the plain handle used inside a transaction waits forever. The
 * project's ESLint config (eslint.config.js) refuses the patterns that let it happen by accident.
 */
const root = join(import.meta.dirname, '..');

async function restricted(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [r] = await eslint.lintText(code, { filePath: join(root, 'src/modules/taxii/lint-sample.ts') });
  return r!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const header = `import type { Kysely, Transaction } from 'kysely';
type Db = Kysely<{ t: { id: string } }>;
`;

describe('ESLint: no default, optional or fallback store handle', () => {
  it.each([
    ['the default of a method parameter (CollectionRepository.add/find before issue 9)',
      `export class R { constructor(private readonly deps: { db: Db }) {}
  async find(id: string, trx: Db = this.deps.db): Promise<unknown> { return trx.selectFrom('t').selectAll().where('id', '=', id).execute(); } }`],
    ['the default of a function parameter', `export function f(deps: { db: Db }, x = deps.db): Db { return x; }`],
    ['an arrow function whose transaction has any default', `export const f = (db: Db, trx: Transaction<{ t: { id: string } }> = db as never): unknown => trx;`],
    ['an optional transaction parameter', `export function f(db: Db, trx?: Transaction<{ t: { id: string } }>): unknown { return trx; }`],
    ['an optional Kysely parameter', `export function f(db?: Kysely<{ t: { id: string } }>): unknown { return db; }`],
    ['a fallback to the plain handle', `export function f(deps: { db: Db }, trx: Db | undefined): Db { return trx ?? deps.db; }`],
  ])('refuses %s', async (_name, code) => {
    expect((await restricted(header + code)).length).toBeGreaterThan(0);
  });

  it('accepts a required handle and a plain-handle wrapper', async () => {
    expect(await restricted(`${header}export class R { constructor(private readonly deps: { db: Db }) {}
  find(id: string): Promise<unknown> { return this.findIn(this.deps.db, id); }
  private async findIn(trx: Db, id: string): Promise<unknown> { return trx.selectFrom('t').selectAll().where('id', '=', id).execute(); } }
export function g(limit = 10, name: string | undefined = undefined): string { return String(limit) + String(name); }`)).toEqual([]);
  });
});

describe("ESLint: Kysely's values through require only", () => {
  it('refuses an ES import of a value from kysely in src, accepts types', async () => {
    const eslint = new ESLint({ cwd: root });
    const lint = async (code: string): Promise<string[]> => {
      const [r] = await eslint.lintText(code, { filePath: join(root, 'src/modules/taxii/lint-sample.ts') });
      return r!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
    };
    expect(await lint(`import { sql, type Kysely } from 'kysely';\nexport const q = (db: Kysely<object>): unknown => sql\`select 1\`.execute(db);\n`)).toHaveLength(1);
    expect(await lint(`import type { Kysely } from 'kysely';\nexport const q = (db: Kysely<object>): unknown => db;\n`)).toEqual([]);
  });
});
