import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../src/main.js';
import { FakeClock, isoTime } from '../src/shared/clock.js';
import { send } from '../src/modules/messaging/messaging.service.js';
import { reply } from '../src/modules/cases/cases.service.js';
import { makePair } from './helpers/nodes.js';
import { preservationRequest } from './helpers/law.js';
import { webhookReceiver, type WebhookReceiver } from './helpers/webhook.js';
import { alertSchemaErrors } from './helpers/alerts.js';

const DAY = 24 * 60 * 60 * 1000;
const running: RunningNode[] = [];
let hook: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
  await hook?.close();
});

describe('preservation expiry reminders reach the notification sinks', () => {
  it('posts one reminder to the webhook, 7 days before expiry, even when the reminder pass runs again', async () => {
    hook = await webhookReceiver();
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 9, 30));
    const [us, ru] = await makePair({ notify: { webhook: { url: `${hook.url}/law` } } });
    const opts = { clock, runDelivery: false, runPings: false, runReminders: false, runDeadlines: false };
    const a = await us.start(opts);
    const b = await ru.start(opts);
    running.push(a, b);
    const req = await send(a.ctx, preservationRequest());
    await a.delivery.runOnce();
    const preservedAt = isoTime(clock.now());
    await reply(b.ctx, { id: req.id, kind: 'preservation-response', fields: { outcome: 'preserved', reference: 'RU-2026-7', preserved_at: preservedAt } });
    await b.delivery.runOnce();

    clock.advance(53 * DAY + 60_000); // 6 days 23 h 59 min before expiry
    expect(await a.reminders.runOnce()).toEqual({ reminded: 1, expired: 0 });
    expect(await a.reminders.runOnce()).toEqual({ reminded: 0, expired: 0 });
    await a.deadlines.runOnce();
    await a.deadlines.runOnce();
    const got = hook.ok().filter((h) => h.path === '/law' && h.body.type === 'preservation-expiry-reminder');
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toMatchObject({ case: req.id, reference: 'RU-2026-7', expires_at: isoTime(Date.parse(preservedAt) + 60 * DAY) });
    // Worded for a person (us's language, English), and as docs/alerts.schema.json documents it.
    expect(got[0]!.body.alert).toMatchObject({ language: 'en', subject: `[hotline] Preservation RU-2026-7 expires ${isoTime(Date.parse(preservedAt) + 60 * DAY).slice(0, 16).replace('T', ' ')} UTC` });
    expect(alertSchemaErrors(got[0]!.body)).toEqual([]);
  });
});
