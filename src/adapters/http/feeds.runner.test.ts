import type { KyselyPlugin } from 'kysely';
import { expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/pg.js';
import type { NodeContext } from '../../context.js';
import { DEFAULT_FEEDS } from '../../config.js';
import { systemClock } from '../../shared/clock.js';
import { HotlineError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { FeedRunner } from './feeds.runner.js';

it('an upload that comes while the runner looks for queued jobs waits for the look instead of being refused as busy; a running one still refuses it', async () => {
  const store = await openTestStore('sqlite');
  // Every read takes 20 ms: the look (which finds nothing queued) holds the node's one run slot that long.
  const slow: KyselyPlugin = {
    transformQuery: (a) => a.node,
    transformResult: async (a) => {
      await new Promise((r) => setTimeout(r, 20));
      return a.result;
    },
  };
  const ctx = { db: store.withPlugin(slow), clock: systemClock, log: silentLogger, config: { feeds: { ...DEFAULT_FEEDS, maxConcurrentRuns: 1 } } } as unknown as NodeContext;
  const runner = new FeedRunner(ctx, () => {});
  runner.poke();
  while (runner.active === 0) await new Promise((r) => setTimeout(r, 1));
  // The look holds the slot now. Before: feeds_busy ("is running one now") with nothing running.
  await runner.reserve();
  expect(runner.active).toBe(1);
  // The upload's run holds the slot: the next one is refused, as before.
  const second = await runner.reserve().then(() => undefined, (e: unknown) => e);
  expect(second).toBeInstanceOf(HotlineError);
  expect((second as HotlineError).code).toBe('feeds_busy');
  runner.release();
  await store.destroy();
});
