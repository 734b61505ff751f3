import type { Kysely } from 'kysely';
import { canonicalJson, sha256Hex } from '../../shared/canonical.js';
import { isoTime, type Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import type { NodeKeys } from '../identity/identity.keys.js';
import { parseEnvelope, signEnvelope } from './federation.envelope.js';
import { lockLink } from './federation.links.js';
import type { PeerRepository } from './federation.peers.js';
import type { FederationTables } from './federation.tables.js';
import type { Attachment, Channel, Envelope, Kind, Limits, Priority, Self, Tlp } from './federation.types.js';

export interface OutboxDeps {
  db: Kysely<FederationTables>;
  keys: NodeKeys;
  self: Self;
  clock: Clock;
  limits: Limits;
  peers: PeerRepository;
}

/** What a sender decides; the outbox adds the link fields (`seq`, `prev`), the id and the signature. */
export interface Draft {
  to: string;
  kind: Kind;
  channel: Channel;
  priority: Priority;
  tlp: Tlp;
  body: Record<string, unknown>;
  /** The thread; a new case (the envelope's own id) when absent. */
  case?: string;
  in_reply_to?: string | null;
  attachments?: Attachment[];
}

/**
 * Appends a message to the outbound link to `draft.to` and stores it, signed, in one
 * transaction: once this returns, the message survives any crash and will be delivered.
 */
export async function enqueue(deps: OutboxDeps, draft: Draft): Promise<Envelope> {
  const peer = await deps.peers.require(draft.to);
  if (!peer.channels.includes(draft.channel)) {
    fail('channel_not_agreed', `Channel "${draft.channel}" is not agreed with "${peer.party}" (agreed: ${peer.channels.join(', ')})`);
  }
  return deps.db.transaction().execute(async (trx) => {
    const link = await lockLink(trx, deps.self.party, draft.to);
    const now = deps.clock.now();
    const id = uuidv7(now);
    const seq = link.last_seq + 1;
    const unsigned = {
      v: 1 as const, id, from: deps.self.party, to: draft.to, seq, prev: link.head_hash, sent_at: isoTime(now),
      kind: draft.kind, channel: draft.channel, case: draft.case ?? id, in_reply_to: draft.in_reply_to ?? null,
      priority: draft.priority, tlp: draft.tlp, body: draft.body,
      ...(draft.attachments === undefined || draft.attachments.length === 0 ? {} : { attachments: draft.attachments }),
    };
    const env = parseEnvelope(signEnvelope(unsigned, deps.keys.privateKey), deps.limits);
    const text = canonicalJson(env);
    const hash = sha256Hex(text);
    await trx.insertInto('messages').values({
      id, direction: 'out', from_party: env.from, to_party: env.to, seq, hash, kind: env.kind, channel: env.channel,
      case_id: env.case, in_reply_to: env.in_reply_to, priority: env.priority, tlp: env.tlp, sent_at: env.sent_at,
      envelope: text, stored_at: now, receipt: null, receipted_at: null,
    }).execute();
    await trx.updateTable('links')
      .set({ last_seq: seq, head_hash: hash, next_attempt_at: link.next_attempt_at ?? now })
      .where('from_party', '=', env.from).where('to_party', '=', env.to).execute();
    return env;
  });
}
