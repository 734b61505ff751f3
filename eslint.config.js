// @ts-check
import tseslint from 'typescript-eslint';

/**
 * The store has one connection: a query on the plain handle inside a transaction waits for that
 * transaction, which waits for the query, forever. A handle is never a default or an optional
 * parameter, nor a fallback: who runs inside a transaction passes it, every time (issue 9).
 */
const HANDLE_TYPES = '/^(Kysely|Transaction|ControlledTransaction|Db|Trx|Store|[A-Z][A-Za-z]*Db)$/';
const HANDLE_NAMES = '/^(db|trx|tx|store)$/';
const noDefaultHandle = ['error',
  { selector: `:function > AssignmentPattern[right.type='MemberExpression'][right.property.name=${HANDLE_NAMES}]`, message: 'A store handle is never a default parameter: inside a transaction it waits for itself forever. Make the handle a required parameter.' },
  { selector: `:function > AssignmentPattern[right.type='Identifier'][right.name=${HANDLE_NAMES}]`, message: 'A store handle is never a default parameter: inside a transaction it waits for itself forever. Make the handle a required parameter.' },
  { selector: `:function > AssignmentPattern[left.typeAnnotation.typeAnnotation.typeName.name=${HANDLE_TYPES}]`, message: 'A parameter typed as a store handle or transaction has no default: make it required.' },
  { selector: `:function > Identifier[optional=true][typeAnnotation.typeAnnotation.typeName.name=${HANDLE_TYPES}]`, message: 'A parameter typed as a store handle or transaction is never optional: make it required.' },
  { selector: `LogicalExpression[operator=/^(\\?\\?|\\|\\|)$/][right.type='MemberExpression'][right.property.name=${HANDLE_NAMES}]`, message: 'No fallback to the plain store handle: inside a transaction it waits for itself forever. Pass the handle.' },
];

/**
 * A route's request is typed from its TypeBox schemas (adapters/http/typed.ts): a handler never
 * casts `req.body`, `req.params`, `req.query` or `req.headers` (issue 13); a route without the
 * schema declares one.
 */
const REQ_PART = "MemberExpression[object.name=/^(req|request)$/][property.name=/^(body|params|query|headers)$/]";
const REQ_CAST_MESSAGE = 'No cast of the request: declare a TypeBox schema on the route (params, querystring, body) and let the type provider (adapters/http/typed.ts) type it.';
const noRequestCast = [
  { selector: `TSAsExpression > ${REQ_PART}.expression`, message: REQ_CAST_MESSAGE },
  { selector: `TSAsExpression > LogicalExpression > ${REQ_PART}`, message: REQ_CAST_MESSAGE },
  { selector: `TSTypeAssertion > ${REQ_PART}.expression`, message: REQ_CAST_MESSAGE },
];

/** Dependencies point one way: adapters → modules → shared (design.md section 8). */
const noImport = (group, message) => ['error', { patterns: [{ group, message }] }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.demo/**', 'web/dist/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'error',
      'no-restricted-syntax': noDefaultHandle,
    },
  },
  {
    // Both lists: a later no-restricted-syntax replaces an earlier one for the same files.
    files: ['src/adapters/http/**/*.ts'],
    rules: { 'no-restricted-syntax': [...noDefaultHandle, ...noRequestCast] },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': noImport(['**/modules/**', '**/adapters/**', '**/config.js', '**/context.js', '**/main.js'], 'shared/ depends on nothing else in src') },
  },
  {
    files: ['src/modules/**/*.ts'],
    ignores: ['src/modules/**/*.test.ts'],
    rules: { 'no-restricted-imports': noImport(['**/adapters/**', '**/config.js', '**/context.js', '**/main.js', 'fastify', 'better-sqlite3', 'pg'], 'modules/ hold the domain: no HTTP, no SQL driver, no adapters') },
  },
  {
    // Kysely's values come through require (its CommonJS build, as the store opens it: federation.hooks.ts).
    // An ES import of them loads the bundled CommonJS file as an ES module: a 10M-row feed run peaked
    // ~25 MB higher for it (docs/benchmarks.md, feeds). Types are free.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'kysely', allowTypeImports: true,
        message: "Import Kysely's types only; take its values through require: const { sql } = createRequire(import.meta.url)('kysely') as typeof import('kysely')" }] }],
    },
  },
  {
    files: ['bench/**/*.ts', 'test/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);
