import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Kysely } from 'kysely';
import type { FederationTables } from '../../modules/federation/federation.tables.js';
import type { DeadlinesTables } from '../../modules/deadlines/deadlines.tables.js';
import { linkHealth, outboxPending, type LinkHealth } from '../../modules/federation/federation.health.js';
import { queueHealth, sinkFailureCounts, type QueueHealth } from '../../modules/deadlines/deadlines.health.js';
import { PRIORITIES } from '../../modules/federation/federation.types.js';

/**
 * One Prometheus registry per node (tests run several nodes in one process). The health gauges
 * are computed at scrape time from the store (a few indexed reads: open deadlines rows, failing
 * sink deliveries, one link row and head message per peer), each read once per scrape.
 */
export function createMetrics(db: Kysely<FederationTables> & Kysely<DeadlinesTables>, self: string, now: () => number = Date.now) {
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
      for (const r of await outboxPending(db, self)) this.set({ to: r.to }, r.pending);
    },
  });

  // Read once per scrape, shared by the gauges that need it (prom-client collects each gauge in turn).
  const perScrape = <T>(read: () => Promise<T>): (() => Promise<T>) => {
    let pending: Promise<T> | undefined;
    return () => {
      if (pending === undefined) {
        pending = read();
        const clear = (): void => {
          setImmediate(() => {
            pending = undefined;
          });
        };
        pending.then(clear, clear);
      }
      return pending;
    };
  };
  const queue = perScrape<QueueHealth>(() => queueHealth(db, now()));
  const links = perScrape<LinkHealth[]>(() => linkHealth(db, self));

  new Gauge({
    name: 'hotline_unacknowledged', help: 'Received messages waiting for a person\'s acknowledgement, per priority', labelNames: ['priority'], registers: [registry],
    async collect() {
      const q = await queue();
      for (const p of PRIORITIES) this.set({ priority: p }, q.by_priority[p]);
    },
  });
  new Gauge({
    name: 'hotline_overdue', help: 'Unacknowledged messages past their due time: received (in, ours to acknowledge) and sent (out, the peer\'s)', labelNames: ['direction'], registers: [registry],
    async collect() {
      const q = await queue();
      this.set({ direction: 'in' }, q.overdue);
      this.set({ direction: 'out' }, q.overdue_sent);
    },
  });
  new Gauge({
    name: 'hotline_oldest_unacknowledged_age_seconds', help: 'Age of the oldest received message waiting for acknowledgement (0 when none)', registers: [registry],
    async collect() {
      const q = await queue();
      this.set(q.oldest_sent_at === null ? 0 : Math.max(0, (now() - q.oldest_sent_at) / 1000));
    },
  });
  new Gauge({
    name: 'hotline_sink_failures', help: 'Notification deliveries failing, per sink: given up (failed) or pending after a failed attempt (retrying)', labelNames: ['sink', 'state'], registers: [registry],
    async collect() {
      this.reset();
      for (const sink of ['webhook', 'email']) for (const state of ['failed', 'retrying']) this.set({ sink, state }, 0);
      for (const r of await sinkFailureCounts(db)) this.set({ sink: r.sink, state: r.state }, r.count);
    },
  });
  new Gauge({
    name: 'hotline_peer_backlog', help: 'Our envelopes to each peer not yet receipted', labelNames: ['peer'], registers: [registry],
    async collect() {
      this.reset();
      for (const l of await links()) this.set({ peer: l.party }, l.backlog);
    },
  });
  new Gauge({
    name: 'hotline_peer_last_receipt_age_seconds', help: 'Seconds since each peer last receipted one of our envelopes (absent: never)', labelNames: ['peer'], registers: [registry],
    async collect() {
      this.reset();
      for (const l of await links()) if (l.last_receipt_at !== null) this.set({ peer: l.party }, Math.max(0, (now() - l.last_receipt_at) / 1000));
    },
  });
  new Gauge({
    name: 'hotline_peer_key_mismatch', help: '1 when a peer\'s receipts no longer verify with its pinned key (the link\'s last error is key_mismatch)', labelNames: ['peer'], registers: [registry],
    async collect() {
      this.reset();
      for (const l of await links()) this.set({ peer: l.party }, l.last_error_code === 'key_mismatch' ? 1 : 0);
    },
  });
  return { registry, received, refused, delivered, batchSeconds };
}

export type Metrics = ReturnType<typeof createMetrics>;
