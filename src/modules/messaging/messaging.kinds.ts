import { fail } from '../../shared/errors.js';
import { KINDS, type Kind } from '../federation/federation.types.js';

/**
 * Kinds only the node emits, each through its own command and route, never through the generic
 * send (`hotline send`, `hotline reply`, POST /api/v1/messages, POST /api/v1/messages/:id/reply):
 * their bodies are the node's bookkeeping (who acknowledged, which ping was answered, the
 * directory, the STIX bundle, a key rotation), which a command builds from the store and the
 * authenticated user, not from what a caller types. The value says what emits the kind.
 * docs/protocol.md section 5.3.
 */
export const NODE_KINDS: Readonly<Partial<Record<Kind, string>>> = Object.freeze({
  ack: '"hotline ack ID" or POST /api/v1/messages/{id}/ack',
  ping: '"hotline ping" or POST /api/v1/pings',
  pong: '"hotline pong ID" or POST /api/v1/pings/{id}/pong',
  'case-close': '"hotline close CASE" or POST /api/v1/cases/{id}/close',
  'directory-update': '"hotline directory publish" or POST /api/v1/directory/publish',
  indicators: '"hotline indicators send" or POST /api/v1/indicators',
  'key-change': '"hotline key rotate" or "hotline key revoke --compromised" (docs/protocol.md section 18)',
});

/** The kinds a person may send with the generic send: KINDS without {@link NODE_KINDS}. */
export const PERSON_KINDS: readonly Kind[] = KINDS.filter((k) => NODE_KINDS[k] === undefined);

/** Refuses (`reserved_kind`) a kind that only the node emits, saying which command emits it. */
export function refuseNodeKind(kind: string): void {
  const by = NODE_KINDS[kind as Kind];
  if (by !== undefined) {
    fail('reserved_kind', `Kind "${kind}" is sent only by ${by}, not by the generic send; kinds you can send: ${PERSON_KINDS.join(', ')}`);
  }
}
