import type { MessageHook } from '../federation/federation.hooks.js';
import { discardKeptAudit, recordAudit, writeKeptAudit } from './audit.service.js';

/**
 * Records a message a person queued (`message.send`, or `message.ack` for an acknowledgement) in
 * the transaction that stores it: both are stored, or neither. Only outbound messages with an
 * actor (a person sent them, through the CLI or the REST API): received envelopes and the node's
 * own messages cost nothing here (the federation receive path does not pay for the audit).
 * Never the body: kind, peer, channel, priority, TLP and case only. The records of a group commit
 * are chained as their messages are stored and written together when it flushes (federation.hooks.ts).
 */
export const auditHook: MessageHook = {
  name: 'audit',
  async apply(trx, m) {
    if (m.actor === undefined || m.direction !== 'out') return;
    const env = m.env;
    const fields = env.body.fields as Record<string, unknown> | undefined;
    const acknowledges = env.kind === 'ack' && typeof fields?.acknowledges === 'string' ? fields.acknowledges : undefined;
    await recordAudit(trx, {
      actor: m.actor,
      action: acknowledges === undefined ? 'message.send' : 'message.ack',
      subject: acknowledges ?? env.id,
      details: {
        message: env.id, kind: env.kind, to: env.to, channel: env.channel, priority: env.priority, tlp: env.tlp, case: env.case,
        ...(env.in_reply_to === null ? {} : { in_reply_to: env.in_reply_to }),
      },
    }, m.storedAt, true);
  },

  flush: (trx) => writeKeptAudit(trx),

  discard: (trx) => discardKeptAudit(trx),
};
