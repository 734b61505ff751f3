import type { NodeContext } from '../../context.js';
import { isHotlineError } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import { redactUrls } from '../../shared/redact.js';
import { getSink } from '../../modules/alerts/alerts.sinks.js';
import { testAlert } from '../../modules/alerts/alerts.render.js';
import { deliverTo } from '../../modules/deadlines/deadlines.alerts.js';
import { fail } from '../../shared/errors.js';
import { notificationSinks, SINK_TIMEOUT_MS } from './sinks.js';

/** What `hotline sink test` reports. */
export interface SinkTestResult {
  sink: string;
  /** The test notification's id (the webhook-id). */
  id: string;
  outcome: 'delivered' | 'failed';
  /** The stable code of the failure, e.g. sink_failed, peer_unreachable, redirect_refused. */
  error_code: string | null;
  error: string | null;
}

/**
 * Sends a test alert (type `hotline.test`, worded in the node's language) to one stored sink now,
 * through the same adapters as real alerts, and says whether it was taken. `not_found` for an
 * unknown sink.
 */
export async function sendTestAlert(ctx: NodeContext, name: string): Promise<SinkTestResult> {
  const sink = await getSink(ctx.db, name);
  if (sink === undefined) fail('not_found', `No sink named "${name}"; hotline sink list shows them`);
  const now = ctx.clock.now();
  const id = uuidv7(now);
  const c = ctx.config;
  const alert = testAlert({ node: ctx.self.party, sink: name, at: now }, { language: c.language, timeZone: c.timeZone, publicUrl: c.publicUrl });
  const payload = { type: 'hotline.test', id, node: ctx.self.party, sink: name, sent_at: new Date(now).toISOString(), alert, subject: alert.subject };
  const sinks = notificationSinks(c.notify, { timeoutMs: SINK_TIMEOUT_MS });
  try {
    await deliverTo(ctx.db, sinks, { sink: 'sink', target: name, payload, date: new Date(now) }, AbortSignal.timeout(SINK_TIMEOUT_MS));
    return { sink: name, id, outcome: 'delivered', error_code: null, error: null };
  } catch (e) {
    const code = isHotlineError(e) ? e.code : null;
    return { sink: name, id, outcome: 'failed', error_code: code, error: redactUrls((e as Error).message) };
  }
}
