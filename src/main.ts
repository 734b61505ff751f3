import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config.js';
import { openContext, type ContextOptions, type NodeContext } from './context.js';
import { buildApp } from './adapters/http/app.js';
import { createMetrics } from './adapters/http/metrics.js';
import { httpTransport } from './adapters/http/transport.js';
import { DeliveryProcessor, type Transport } from './modules/federation/federation.delivery.js';

export interface RunningNode {
  ctx: NodeContext;
  app: FastifyInstance;
  delivery: DeliveryProcessor;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:7001 */
  address: string;
  stop(): Promise<void>;
}

export interface StartOptions extends ContextOptions {
  transport?: Transport;
  random?: () => number;
  /** Start the delivery loop (default true); tests drive `delivery.runOnce()` themselves with a fake clock. */
  runDelivery?: boolean;
}

/** Composition root: config → storage → modules → adapters; listens and starts delivery. */
export async function startNode(configOrHome: Config | string, opts: StartOptions = {}): Promise<RunningNode> {
  const config = typeof configOrHome === 'string' ? loadConfig(configOrHome) : configOrHome;
  const ctx = await openContext(config, opts);
  const metrics = createMetrics(ctx.db, ctx.self.party);
  const delivery = new DeliveryProcessor({
    db: ctx.db, self: ctx.self, clock: ctx.clock, peers: ctx.peers, log: ctx.log.child({ module: 'delivery' }),
    transport: opts.transport ?? httpTransport(), options: config.delivery,
    ...(opts.random === undefined ? {} : { random: opts.random }),
    onDelivered: (n, to) => metrics.delivered.inc({ to }, n),
  });
  const app = await buildApp(ctx, metrics, () => delivery.wake());
  let address: string;
  try {
    address = await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    await ctx.close();
    throw e;
  }
  if (opts.runDelivery !== false) delivery.start();
  ctx.log.info({ address, url: config.url }, 'node ready');
  let stopping: Promise<void> | undefined;
  return {
    ctx, app, delivery, address,
    stop() {
      stopping ??= (async () => {
        await delivery.stop();
        await app.close();
        await ctx.close();
      })();
      return stopping;
    },
  };
}
