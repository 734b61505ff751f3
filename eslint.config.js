// @ts-check
import tseslint from 'typescript-eslint';

/** Dependencies point one way: adapters → modules → shared (design.md section 8). */
const noImport = (group, message) => ['error', { patterns: [{ group, message }] }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.demo/**', 'web/dist/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'error',
    },
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
    files: ['bench/**/*.ts', 'test/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);
