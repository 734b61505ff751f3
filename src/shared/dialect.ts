import type { Kysely } from 'kysely';

/** The SQL dialects a store can speak. */
export type Dialect = 'sqlite' | 'postgres';

interface HasExecutor {
  getExecutor(): { adapter: object };
}

/**
 * Which dialect a store (or a transaction of it) speaks. The few places where the two must differ
 * (full-text search, a migration, a bulk delete) ask this; everything else is one Kysely query.
 */
export function dialectOf(db: Kysely<never> | HasExecutor): Dialect {
  const name = (db as HasExecutor).getExecutor().adapter.constructor.name;
  return name === 'PostgresAdapter' ? 'postgres' : 'sqlite';
}

/** Whether PostgreSQL refused a transaction that may succeed when run again (serialization failure, deadlock). */
export function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}
