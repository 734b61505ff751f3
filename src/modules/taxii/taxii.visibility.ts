import { TLPS, type Tlp } from '../federation/federation.types.js';
import type { Principal } from '../users/users.types.js';

/**
 * TLP 2.0 on the way out of the STIX store: THE rule for whether a principal that may read a
 * collection receives one stored version (docs/taxii.md, "TLP"). The node is the recipient of
 * what peers send it, and the source of what its own users post.
 *
 * - CLEAR, GREEN: everyone who may read the collection (the federation is the community).
 * - AMBER, AMBER+STRICT: this node's own organisation (its users and their tokens); a peer's
 *   account only for objects this node is the source of, or that came from that same peer. An
 *   object one peer shared is never passed to another peer.
 * - RED: only the user who added it and the user names it was addressed to (`recipients`: the
 *   TLP:RED message's named recipients); not even the node administrator otherwise.
 */
export interface Marked {
  readonly tlp: string;
  /** `local`, or the party whose message carried it. */
  readonly source: string;
  readonly added_by: string;
  /** JSON list of user names, for RED. */
  readonly recipients: string | null;
}

export function canSee(p: Principal, o: Marked): boolean {
  switch (o.tlp) {
    case 'clear':
    case 'green':
      return true;
    case 'amber':
    case 'amber+strict':
      return p.peer === undefined || o.source === 'local' || o.source === p.peer;
    default: // red, and anything unexpected: fail closed
      return o.added_by === p.user || (o.recipients !== null && (JSON.parse(o.recipients) as string[]).includes(p.user));
  }
}

/** The more restrictive of two TLP levels (clear < green < amber < amber+strict < red). */
export function stricter(a: Tlp, b: Tlp): Tlp {
  return TLPS.indexOf(a) >= TLPS.indexOf(b) ? a : b;
}
