/**
 * Notification targets are the node's secrets (a webhook URL carries its token): an officer sees
 * each escalation step, its time and each sink's state; only an administrator sees targets and
 * errors; the log of a failed sink names the target without credentials or query string.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { notify } from '../src/modules/deadlines/deadlines.notify.js';
import { createLogger } from '../src/shared/logger.js';
import { api, usersWithTokens, type Api } from './helpers/api.js';
import { ensureBuilt, json } from './helpers/cli.js';
import { makePair, type TestHome } from './helpers/nodes.js';

// Port 9 (discard) on loopback: nothing listens, so the delivery fails and records an error.
const HOOK = 'http://127.0.0.1:9/hooks/T0?token=s3cret-webhook-token';
const SECRETS = /s3cret-webhook-token|token=/;

let us: TestHome;
let a: RunningNode;
let onUs: Api;
let officer: string;
let id: string;
const logged: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  [us] = await makePair({ notify: { webhook: { url: HOOK } } });
  const log = createLogger({ level: 'info', destination: new Writable({ write(chunk: Buffer, _enc, done) { logged.push(chunk.toString('utf8')); done(); } }) });
  a = await us.start({ runDelivery: false, runPings: false, runDeadlines: false, log });
  onUs = api(us.url);
  ({ carol: officer } = await usersWithTokens(onUs, us.token, { carol: ['crisis'] }) as { carol: string });
  const sent = await onUs('/api/v1/messages', officer, { method: 'POST', body: { to: 'ru', channel: 'crisis', kind: 'inquiry', priority: 'flash', tlp: 'green', text: 'status?' } });
  expect(sent.status, JSON.stringify(sent.json)).toBe(202);
  id = String(sent.json.id);
  await notify({ db: a.ctx.db, clock: a.ctx.clock, notify: a.ctx.config.notify }, { message_id: id, step: 'overdue', payload: { type: 'hotline.overdue' } });
  expect((await a.deadlines.runOnce()).failed).toBe(1);
});
afterAll(async () => {
  await a?.stop();
});

type Steps = { steps: { step: string; at: string; deliveries: Record<string, unknown>[] }[] };

describe('notification targets and errors', () => {
  it('an officer sees the step, its time and the sink\'s state, never the target or the error', async () => {
    const r = await onUs(`/api/v1/messages/${id}`, officer);
    expect(r.status).toBe(200);
    const d = r.json.deadline as Steps;
    expect(d.steps).toEqual([{ step: 'overdue', position: null, contact: null, at: expect.any(String) as string, deliveries: [{ sink: 'webhook', state: 'pending', attempts: 1 }] }]);
    expect(JSON.stringify(r.json)).not.toMatch(SECRETS);
    const cli = await json<{ deadline: Steps }>(us.home, 'show', id, '--as', 'carol');
    expect(cli.deadline.steps[0]!.deliveries).toEqual([{ sink: 'webhook', state: 'pending', attempts: 1 }]);
  });

  it('the administrator sees the target and the last error', async () => {
    const d = (await onUs(`/api/v1/messages/${id}`, us.token)).json.deadline as Steps;
    expect(d.steps[0]!.deliveries).toEqual([{ sink: 'webhook', target: HOOK, state: 'pending', attempts: 1, last_error: expect.any(String) as string }]);
  });

  it('the log of the failed delivery names the target without its query string', () => {
    const line = logged.find((l) => l.includes('notification failed'));
    expect(line, logged.join('')).toBeDefined();
    expect(line).toContain('http://127.0.0.1:9/hooks/T0?***');
    expect(logged.join('')).not.toMatch(SECRETS);
  });
});
