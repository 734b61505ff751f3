/**
 * The message hook that feeds the live events (shared/events.ts): for every stored message, in and
 * out, an `event: message`; for an acknowledgement, also an `event: ack`. Staged in the storing
 * transaction and published when it commits. Last in the hook list, so a message it sees has been
 * accepted by every other hook. With nobody listening it returns at once.
 */
import type { EventBus } from '../../shared/events.js';
import type { MessageHook } from '../federation/federation.hooks.js';
import { markedOf } from './messaging.visibility.js';

export function eventsHook(bus: EventBus): MessageHook {
  return {
    name: 'events',
    apply(trx, m) {
      if (!bus.listening) return Promise.resolve();
      const { env, direction } = m;
      const marked = markedOf({ direction, channel: env.channel, tlp: env.tlp }, env.body);
      bus.stage(trx, {
        name: 'message', marked,
        data: { id: env.id, direction, kind: env.kind, priority: env.priority, channel: env.channel, peer: direction === 'in' ? env.from : env.to, case_id: env.case },
      });
      if (env.kind === 'ack') {
        const f = (env.body.fields ?? {}) as { acknowledges?: unknown; officer?: unknown };
        const of = typeof f.acknowledges === 'string' ? f.acknowledges : env.in_reply_to;
        if (of !== null) bus.stage(trx, { name: 'ack', marked, data: { message_id: of, by: typeof f.officer === 'string' ? f.officer : '', at: env.sent_at } });
      }
      return Promise.resolve();
    },
  };
}
