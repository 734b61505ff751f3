import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/** One test file per core at a time: the CLI and crash tests start node processes of their own. */
const cores = availableParallelism();

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Generous: waits in the tests are bounded by tries, and a busy machine (load 8+ on 2 cores)
    // must not fail a test or a hook that waits for processes by the clock (federation.crash took
    // 8 minutes at load 30).
    testTimeout: 1_200_000,
    hookTimeout: 600_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: cores, minForks: 1 } },
    reporters: ['default'],
  },
});
