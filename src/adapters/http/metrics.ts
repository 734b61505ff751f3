import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Kysely } from 'kysely';
import type { FederationTables } from '../../modules/federation/federation.tables.js';

/** One Prometheus registry per node (tests run several nodes in one process). */
export function createMetrics(db: Kysely<FederationTables>, self: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const received = new Counter({ name: 'hotline_envelopes_received_total', help: 'Envelopes stored from peers', labelNames: ['from'], registers: [registry] });
  const refused = new Counter({ name: 'hotline_envelopes_refused_total', help: 'Envelopes refused, by error code', labelNames: ['code'], registers: [registry] });
  const delivered = new Counter({ name: 'hotline_envelopes_delivered_total', help: 'Our envelopes receipted by peers', labelNames: ['to'], registers: [registry] });
  const batchSeconds = new Histogram({
    name: 'hotline_receive_batch_seconds', help: 'Time to verify and durably store one received batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
  });
  new Gauge({
    name: 'hotline_outbox_pending', help: 'Our envelopes not yet receipted, per peer', labelNames: ['to'], registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.selectFrom('links').select(['to_party', 'last_seq', 'acked_seq']).where('from_party', '=', self).execute();
      for (const r of rows) this.set({ to: r.to_party }, Number(r.last_seq) - Number(r.acked_seq));
    },
  });
  return { registry, received, refused, delivered, batchSeconds };
}

export type Metrics = ReturnType<typeof createMetrics>;
