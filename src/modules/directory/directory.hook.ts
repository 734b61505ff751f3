import type { Transaction } from 'kysely';
import type { MessageHook, StoredMessage } from '../federation/federation.hooks.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { Envelope } from '../federation/federation.types.js';
import { parseDirectoryUpdate, parsePong } from './directory.body.js';
import { receivedPing, sentPing } from './directory.pings.js';
import { applyDirectoryUpdate, checkRedRecipientsPublished } from './directory.publish.js';
import { recipientsOf } from '../messaging/messaging.visibility.js';
import type { DirectoryTables } from './directory.tables.js';

/** The storing transaction seen as this module's tables: the same transaction, another view of its type. */
function tables(trx: Transaction<FederationTables>): Transaction<DirectoryTables> {
  return trx as unknown as Transaction<DirectoryTables>;
}

/** The other party of a message, seen from this node. */
function peerOf(env: Envelope, direction: 'in' | 'out'): string {
  return direction === 'in' ? env.from : env.to;
}

/**
 * The directory's part in storing messages (federation.hooks.ts), in the storing transaction:
 *
 * - a TLP:RED message this node sends: each recipient must be one the peer published as able to
 *   receive TLP:RED on that channel (`unknown_recipient`).
 * - `directory-update`: refused with `directory_party_mismatch` when its body is about a party
 *   other than its sender, `directory_invalid` when malformed; a received one replaces what this
 *   node holds about the sender if its version is newer (older or equal: no change, no error).
 * - `ping`: recorded, sent or received, for ping tests and reachability.
 * - `pong`: must answer a ping of this exchange, else `pong_without_ping`: received, one this node
 *   sent to that party on that channel; sent, one this node received from it and has not answered
 *   (`ping_already_answered`). Records the answer on the ping.
 */
export const directoryHook: MessageHook = {
  name: 'directory',

  async check(trx, env, direction) {
    if (env.tlp === 'red' && direction === 'out') {
      await checkRedRecipientsPublished(tables(trx), env.to, env.channel, recipientsOf(env.body) ?? []);
    }
    if (env.kind === 'directory-update') {
      parseDirectoryUpdate(env.body, env.from);
    } else if (env.kind === 'pong') {
      parsePong(env.body);
      const peer = peerOf(env, direction);
      if (direction === 'in') await sentPing(tables(trx), env.in_reply_to, peer, env.channel);
      else await receivedPing(tables(trx), env.in_reply_to, { peer, channel: env.channel });
    }
  },

  async apply(trx, m: StoredMessage) {
    const { env, direction, storedAt } = m;
    const t = tables(trx);
    if (env.kind === 'directory-update') {
      if (direction === 'in') await applyDirectoryUpdate(t, parseDirectoryUpdate(env.body, env.from), env.id, storedAt);
    } else if (env.kind === 'ping') {
      await t.insertInto('directory_pings').values({
        id: env.id, direction, peer: peerOf(env, direction), channel: env.channel, case_id: env.case, sent_at: storedAt,
        answered_at: null, pong_id: null, officer: null,
      }).onConflict((oc) => oc.column('id').doNothing()).execute();
    } else if (env.kind === 'pong' && env.in_reply_to !== null) {
      // A second pong for the same ping (only a peer can send one) is stored but the first answer stands.
      await t.updateTable('directory_pings')
        .set({ answered_at: storedAt, pong_id: env.id, officer: parsePong(env.body).officer })
        .where('id', '=', env.in_reply_to).where('direction', '=', direction === 'in' ? 'out' : 'in').where('answered_at', 'is', null)
        .execute();
    }
  },
};
