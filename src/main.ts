import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config.js';
import { openContext, type ContextOptions, type NodeContext } from './context.js';
import { WriterGate } from './adapters/storage/gate.js';
import { buildApp } from './adapters/http/app.js';
import { createMetrics } from './adapters/http/metrics.js';
import { httpTransport } from './adapters/http/transport.js';
import { DeliveryProcessor, type Transport } from './modules/federation/federation.delivery.js';
import { PingScheduler } from './modules/directory/directory.scheduler.js';
import { PreservationReminders } from './modules/law/law.reminders.js';
import { notify } from './modules/deadlines/deadlines.notify.js';
import { DEFAULT_DEADLINE_OPTIONS, DeadlineProcessor } from './modules/deadlines/deadlines.processor.js';
import { notificationSinks } from './adapters/sinks/sinks.js';
import { statuses } from './modules/taxii/taxii.status.js';
import { RetentionProcessor } from './shared/retention.js';
import { SearchIndexer } from './modules/messaging/messaging.search.js';
import { retentionRules } from './retention.js';
import { audit } from './modules/audit/audit.service.js';
import { NODE_ACTOR } from './modules/audit/audit.types.js';
import { addressInUse, claimHome, type HomeClaim } from './pidfile.js';
import { Leases, liveProcesses, processHolder, processLease } from './shared/leases.js';
import { wakeOf, type Notice } from './shared/events.js';
import type { NoticeListener } from './adapters/storage/notices.js';

export interface RunningNode {
  ctx: NodeContext;
  app: FastifyInstance;
  delivery: DeliveryProcessor;
  /** Sends the configured ping tests (`ping_schedule`). */
  pings: PingScheduler;
  /** Reminds before preservations expire and marks them expired (`law.remind_days_before`). */
  reminders: PreservationReminders;
  /** Fires acknowledgement escalation steps and overdue alerts; delivers notifications to their sinks. */
  deadlines: DeadlineProcessor;
  /** Deletes TAXII statuses, notifications and feed runs past their retention (`retention`), hourly. */
  retention: RetentionProcessor;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:7001 */
  address: string;
  stop(): Promise<void>;
}

export interface StartOptions extends ContextOptions {
  transport?: Transport;
  random?: () => number;
  /** Start the delivery loop (default true); tests drive `delivery.runOnce()` themselves with a fake clock. */
  runDelivery?: boolean;
  /** Start the ping schedule (default true); tests drive `pings.runOnce()` themselves with a fake clock. */
  runPings?: boolean;
  /** Start the preservation reminders (default true); tests drive `reminders.runOnce()` themselves with a fake clock. */
  runReminders?: boolean;
  /** Start the deadline processor (default true); tests drive `deadlines.runOnce()` themselves with a fake clock. */
  runDeadlines?: boolean;
  /** Start the retention pruning (default true); tests drive `retention.runOnce()` themselves with a fake clock. */
  runRetention?: boolean;
  /** Listen here instead of the home's `listen` (`hotline start --listen`: several processes of one node on one machine). */
  listen?: { host: string; port: number };
}

/** Composition root: config → storage → modules → adapters; listens and starts delivery. */
export async function startNode(configOrHome: Config | string, opts: StartOptions = {}): Promise<RunningNode> {
  const loaded = typeof configOrHome === 'string' ? loadConfig(configOrHome) : configOrHome;
  const config: Config = opts.listen === undefined ? loaded : Object.freeze({ ...loaded, listen: Object.freeze({ ...opts.listen }) });
  // Reads the SMTP password now (a missing file or variable stops the start, naming the setting).
  const sinks = notificationSinks(config.notify, { timeoutMs: DEFAULT_DEADLINE_OPTIONS.sinkTimeoutMs });
  // One node per home on SQLite; on PostgreSQL one process per listen address (several share the
  // store): refused with "already running (pid N) on ADDRESS" (pidfile.ts).
  const claim = await claimHome(config.home, config.party, config.store.driver === 'postgres' ? { listen: config.listen } : {});
  let ctx: NodeContext;
  try {
    // SQLite: the node's transactions go before its feed workers' at the write lock (gate.ts).
    ctx = await openContext(config, config.store.driver === 'sqlite' ? { ...opts, writerTurn: { gate: new WriterGate(), first: true } } : opts);
  } catch (e) {
    claim.release();
    throw e;
  }
  try {
    // A node signs: an encrypted key without its passphrase (or with a wrong one) stops the start here (key_locked).
    void ctx.keys.privateKey;
  } catch (e) {
    await ctx.close();
    claim.release();
    throw e;
  }
  try {
    return await assemble(config, ctx, sinks, claim, opts);
  } catch (e) {
    claim.release();
    throw e;
  }
}

async function assemble(config: Config, ctx: NodeContext, sinks: ReturnType<typeof notificationSinks>, claim: HomeClaim, opts: StartOptions): Promise<RunningNode> {
  // Several processes of one node on PostgreSQL: work is shared out under leases, and every process
  // hears the others' events and wake-ups (LISTEN/NOTIFY). On SQLite one process runs: neither.
  const pg = config.store.driver === 'postgres' ? config.store : undefined;
  const leases = pg === undefined ? undefined : new Leases({
    db: ctx.db, clock: ctx.clock, holder: processHolder(), onError: (e) => ctx.log.warn({ err: e }, 'could not renew this process\'s leases'),
  });
  // POSTs the node was storing when it last stopped are complete with what was stored (taxii.status.ts);
  // not while another process of the node runs (they may be its POSTs in progress).
  if (leases === undefined || !await otherProcessesRun(ctx, leases.holder)) await statuses.finishInterrupted(ctx.db);
  // Leases that lapsed long ago (processes killed with -9) say nothing any more: `hotline status` would list them as gone for ever.
  if (leases !== undefined) await ctx.db.deleteFrom('leases').where('expires_at', '<', ctx.clock.now() - 60_000).execute();
  const metrics = createMetrics(ctx.db, ctx.self.party, () => ctx.clock.now());
  const delivery = new DeliveryProcessor({
    db: ctx.db, self: ctx.self, clock: ctx.clock, peers: ctx.peers, log: ctx.log.child({ module: 'delivery' }),
    transport: opts.transport ?? httpTransport({ timeoutMs: config.delivery.timeoutMs }), options: config.delivery,
    ...(opts.random === undefined ? {} : { random: opts.random }),
    onDelivered: (n, to) => metrics.delivered.inc({ to }, n),
    events: ctx.events,
    ...(leases === undefined ? {} : { leases }),
    // A peer whose receipts stop verifying (a reinstalled node): an alert through the sinks, once per incident.
    onKeyMismatch: async (k) => {
      const { keyMismatchAlert } = await import('./modules/alerts/alerts.render.js');
      const alert = keyMismatchAlert(k, alerts);
      await notify({ db: ctx.db, clock: ctx.clock, notify: config.notify }, {
        message_id: `key-mismatch:${k.peer}`, step: String(k.at),
        payload: {
          type: 'key-mismatch', peer: k.peer, pinned_fingerprints: k.fingerprints, seq: k.seq, detected_at: new Date(k.at).toISOString(), error: k.error,
          action: `Call ${k.peer}'s administrator and compare fingerprints before anything else; delivery to ${k.peer} retries meanwhile.`,
          alert,
        },
        subject: alert.subject,
      });
      deadlines.wake();
    },
  });
  const pings = new PingScheduler({
    directory: ctx, schedule: config.pingSchedule, log: ctx.log.child({ module: 'pings' }), onSent: () => delivery.wake(),
    ...(leases === undefined ? {} : { leases }),
  });
  // How alerts are worded: the node's language and time zone, and the console's address.
  const alerts = { language: config.language, timeZone: config.timeZone, publicUrl: config.publicUrl };
  const reminders = new PreservationReminders({
    db: ctx.db, clock: ctx.clock, log: ctx.log.child({ module: 'law' }), remindDaysBefore: config.law.remindDaysBefore,
    // Reminders go through the same sinks as escalations, queued once per case and expiry date.
    onReminder: async (p) => {
      const { preservationAlert } = await import('./modules/alerts/alerts.render.js');
      const alert = preservationAlert(p, alerts);
      await notify({ db: ctx.db, clock: ctx.clock, notify: config.notify }, {
        message_id: p.request_id, step: `expiry-reminder:${p.expires_at ?? ''}`,
        payload: { type: 'preservation-expiry-reminder', node: ctx.self.party, ...p, alert }, subject: alert.subject,
      });
      deadlines.wake();
    },
  });
  const deadlines = new DeadlineProcessor({
    db: ctx.db, clock: ctx.clock, party: ctx.self.party, notify: config.notify, sinks, alerts, log: ctx.log.child({ module: 'deadlines' }), timeZone: config.timeZone,
    ...(leases === undefined ? {} : { leases }),
  });
  const retentionLog = ctx.log.child({ module: 'retention' });
  const retention = new RetentionProcessor({
    rules: retentionRules(ctx.db, config.retention), now: () => ctx.clock.now(),
    onPass: (r) => {
      if (!r.some((x) => x.count > 0)) return;
      const deleted = Object.fromEntries(r.map((x) => [x.kind, x.count]));
      retentionLog.info({ pruned: deleted }, 'pruned records past their retention');
      // A prune that deleted something is an audit record (by the node); the audit trail itself is never pruned.
      return audit.record(ctx.db, { actor: NODE_ACTOR, action: 'prune', details: { deleted } }, ctx.clock.now());
    },
    onError: (e) => retentionLog.error({ err: e }, 'retention pass failed'),
  });
  const search = new SearchIndexer({
    db: ctx.db, onError: (e) => ctx.log.error({ err: e, module: 'search' }, 'search indexing failed'), ...(leases === undefined ? {} : { leases }),
  });
  let listener: NoticeListener | undefined;
  if (pg !== undefined && leases !== undefined) {
    const { listenNotices } = await import('./adapters/storage/notices.js');
    const wake = (n: Notice | undefined): void => {
      if (n === undefined || !('wake' in n)) return;
      if (n.wake === 'delivery') delivery.wake(n.to);
      else deadlines.wake();
    };
    listener = listenNotices(pg, {
      log: ctx.log.child({ module: 'notices' }),
      onNotice: (n) => {
        if ('event' in n) {
          ctx.events.deliver(n.event);
          wake(wakeOf(n.event));
        } else wake(n);
      },
      // Notices sent while the connection was down are lost: look for work now.
      onConnected: () => {
        delivery.wake();
        deadlines.wake();
      },
    });
    // Before listening: once the process answers, it hears every notice sent after.
    await listener.ready;
  }
  const app = await buildApp(ctx, metrics, (to) => delivery.wake(to), leases === undefined ? {} : { holder: leases.holder });
  let address: string;
  try {
    address = await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    await listener?.close();
    await ctx.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') await addressInUse(config.listen.host, config.listen.port);
    throw e;
  }
  claim.listening(address);
  if (leases !== undefined) {
    leases.start();
    // This process, as `hotline status` lists the node's processes: renewed with the other leases, gone when it stops or lapses.
    await leases.acquire(processLease(leases.holder, address));
  }
  if (opts.runDelivery !== false) delivery.start();
  if (opts.runPings !== false) pings.start();
  if (opts.runReminders !== false) reminders.start();
  if (opts.runDeadlines !== false) deadlines.start();
  if (opts.runRetention !== false) retention.start();
  search.start();
  ctx.log.info({ address, url: config.url }, 'node ready');
  let stopping: Promise<void> | undefined;
  return {
    ctx, app, delivery, pings, reminders, deadlines, retention, address,
    stop() {
      stopping ??= (async () => {
        await retention.stop();
        await search.stop();
        await deadlines.stop();
        await reminders.stop();
        await pings.stop();
        await delivery.stop();
        await listener?.close();
        await leases?.stop();
        await app.close();
        await ctx.close();
        claim.release();
      })();
      return stopping;
    },
  };
}

/** Whether another process of this node holds a live lease on its existence (PostgreSQL). */
async function otherProcessesRun(ctx: NodeContext, holder: string): Promise<boolean> {
  return (await liveProcesses(ctx.db, ctx.clock.now(), holder)).length > 0;
}
