import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import { dialectOf, type Dialect } from './dialect.js';

interface Compiled<K extends string> {
  query: CompiledQuery;
  slots: ({ name: K } | { value: unknown })[];
}

/** A query Kysely can compile (a builder before `.execute()`). */
interface Compilable {
  compile(): CompiledQuery;
}

/** What runs a compiled query: a Kysely instance or transaction over any tables that include the statement's. */
export interface QueryRunner {
  getExecutor(): { adapter: object };
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * A statement that Kysely builds and compiles once, on first use, then runs with each call's
 * values: on the per-message path (hooks run for every message stored), building a query node by
 * node costs more than SQLite running it. `build` receives one placeholder per name and must use
 * each where its value goes; a parameter that is not a placeholder (e.g. a constant `null` in a
 * SET) keeps its compiled value. The same SQL text each time, so SQLite's prepared statement is
 * reused too (adapters/storage/sqlite.ts).
 *
 *   const insert = statement(['id', 'at'], (db: Kysely<T>, p) => db.insertInto('t').values({ id: p.id, at: p.at }));
 *   await insert(trx, { id, at: now });
 */
export function statement<DB, K extends string>(
  names: readonly K[],
  build: (db: Kysely<DB>, p: Record<K, never>) => Compilable,
): (db: QueryRunner, values: Record<K, unknown>) => Promise<QueryResult<unknown>> {
  // Compiled once per dialect (the SQL text and its placeholders differ: `?` on SQLite, `$1` on PostgreSQL).
  const byDialect = new Map<Dialect, Compiled<K>>();
  return async (db, values) => {
    const dialect = dialectOf(db);
    let compiled = byDialect.get(dialect);
    if (compiled === undefined) {
      const marks = names.map((n, i) => `\u0000statement-parameter-${i}\u0000`);
      const p = Object.fromEntries(names.map((n, i) => [n, marks[i]])) as unknown as Record<K, never>;
      // Compiling needs no connection; the runner is a Kysely instance (its tables typed by the caller).
      const query = build(db as unknown as Kysely<DB>, p).compile();
      const slots = query.parameters.map((v) => {
        const i = typeof v === 'string' ? marks.indexOf(v) : -1;
        return i < 0 ? { value: v } : { name: names[i]! };
      });
      for (const n of names) if (!slots.some((s) => 'name' in s && s.name === n)) throw new Error(`statement: "${n}" is not used in ${query.sql}`);
      compiled = { query, slots };
      byDialect.set(dialect, compiled);
    }
    const parameters = compiled.slots.map((s) => ('name' in s ? values[s.name] : s.value));
    return db.executeQuery({ ...compiled.query, parameters });
  };
}
