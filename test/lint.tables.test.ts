import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * One storage seam (issue 13): each module owns the tables its `<m>.tables.ts` declares and is the
 * only one to name them in a query; another module, or an adapter (http, cli), calls the owner's
 * functions instead. This scans the source for table names in query builder calls (and in `sql`
 * templates) and names every file:line that reaches into tables it does not own.
 */
const root = join(import.meta.dirname, '..');
const modulesDir = join(root, 'src/modules');

/** Kysely calls whose first argument names a table (or an array of them). */
const QUERY_CALLS = new Set([
  'selectFrom', 'insertInto', 'replaceInto', 'updateTable', 'deleteFrom', 'mergeInto', 'with',
  'innerJoin', 'leftJoin', 'rightJoin', 'fullJoin', 'innerJoinLateral', 'leftJoinLateral', 'using', 'from',
]);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return walk(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** Table name → owning module, from each module's exported `...Tables` type. */
function tableOwners(): Map<string, string> {
  const owners = new Map<string, string>();
  for (const m of readdirSync(modulesDir)) {
    const file = join(modulesDir, m, `${m}.tables.ts`);
    if (!statSync(join(modulesDir, m)).isDirectory() || !existsFile(file)) continue;
    const src = parse(file);
    const members = (node: ts.Node): readonly ts.TypeElement[] | undefined => {
      if (ts.isInterfaceDeclaration(node)) return node.members;
      if (ts.isTypeAliasDeclaration(node) && ts.isTypeLiteralNode(node.type)) return node.type.members;
      return undefined;
    };
    for (const s of src.statements) {
      const name = (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) ? s.name.text : '';
      if (!name.endsWith('Tables')) continue;
      for (const el of members(s) ?? []) {
        if (ts.isPropertySignature(el) && el.name !== undefined && (ts.isIdentifier(el.name) || ts.isStringLiteral(el.name))) owners.set(el.name.text, m);
      }
    }
  }
  return owners;
}

function existsFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

/** `'peers as p'` → `peers`; `'messages'` → `messages`. */
function tableOf(literal: string): string {
  return literal.trim().split(/\s+as\s+/i)[0]!.trim();
}

interface Reach { where: string; table: string; owner: string }

/** Every query in `file` that names a table not owned by `self` (null: an adapter, which owns none). */
function foreignQueries(file: string, self: string | null, owners: Map<string, string>): Reach[] {
  const src = parse(file);
  const found: Reach[] = [];
  const note = (node: ts.Node, table: string): void => {
    const owner = owners.get(table);
    if (owner === undefined || owner === self) return;
    const line = src.getLineAndCharacterOfPosition(node.getStart(src)).line + 1;
    found.push({ where: `${relative(root, file)}:${line}`, table, owner });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && QUERY_CALLS.has(node.expression.name.text)) {
      const [arg] = node.arguments;
      const literals = arg === undefined ? [] : ts.isArrayLiteralExpression(arg) ? [...arg.elements] : [arg];
      for (const l of literals) if (ts.isStringLiteral(l) || ts.isNoSubstitutionTemplateLiteral(l)) note(l, tableOf(l.text));
    }
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText(src) === 'sql') {
      const text = node.template.getText(src);
      for (const m of text.matchAll(/\b(?:from|into|update|join)\s+"?([a-z_][a-z0-9_]*)/gi)) note(node, m[1]!);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

/** Every reach across the seam in src/: modules into other modules' tables, adapters (http, cli) and the root files into any. */
function allForeignQueries(): Reach[] {
  const owners = tableOwners();
  const out: Reach[] = [];
  for (const m of readdirSync(modulesDir)) {
    if (!statSync(join(modulesDir, m)).isDirectory()) continue;
    for (const f of walk(join(modulesDir, m))) out.push(...foreignQueries(f, m, owners));
  }
  const outside = [
    ...walk(join(root, 'src/adapters/http')),
    ...walk(join(root, 'src/adapters/cli')),
    ...readdirSync(join(root, 'src')).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts')).map((n) => join(root, 'src', n)),
  ];
  for (const f of outside) out.push(...foreignQueries(f, null, owners));
  return out;
}

describe('one storage seam: each module queries only its own tables', () => {
  it('finds every table of every module (the scan reads each *.tables.ts)', () => {
    const owners = tableOwners();
    expect(owners.get('peers')).toBe('federation');
    expect(owners.get('acks')).toBe('cases');
    expect(owners.get('tokens')).toBe('users');
    expect(owners.get('message_search')).toBe('messaging');
    expect(owners.size).toBeGreaterThanOrEqual(30);
  });

  it('sees a reach in a join, an aliased table, an array and a sql template', () => {
    const owners = new Map([['peers', 'federation'], ['acks', 'cases'], ['users', 'users']]);
    const file = join(root, 'test/fixtures/lint-tables-sample.ts.txt');
    const reaches = foreignQueries(file, 'deadlines', owners).map((r) => `${r.table}@${r.where.split(':')[1]}`);
    expect(reaches).toEqual(['peers@2', 'acks@3', 'users@4', 'peers@5', 'acks@6']);
  });

  it('no module or adapter queries another module\'s tables (call the owner\'s functions instead)', () => {
    const reaches = allForeignQueries().map((r) => `${r.where}: '${r.table}' belongs to ${r.owner}`);
    expect(reaches).toEqual([]);
  });
});
