import type { Kysely } from 'kysely';
import type { OutboxDeps } from '../federation/federation.outbox.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { CaseState } from './cases.machine.js';
import type { CasesTables } from './cases.tables.js';
import type { UsersTables } from '../users/users.tables.js';

/**
 * The store as this module needs it: one handle seen as the federation's tables (messages,
 * outbox), the cases' and the users' (who acknowledges; Kysely is invariant in its tables type, so the views are intersected).
 */
export type CasesDb = Kysely<FederationTables> & Kysely<CasesTables> & Kysely<UsersTables>;

/** What replying, closing and acknowledging need: the outbox (with the message hooks) over a store holding the cases' tables. */
export type CasesDeps = OutboxDeps & { db: CasesDb };

/** A person's acknowledgement of one message, as a MessageView carries it. */
export interface Acknowledged {
  /** Who acknowledged, as the ack names them: the display name (`body.fields.officer`). */
  officer: string;
  /** ... and the user name at the acknowledging node (`body.sender`); null for an ack that does not record it. */
  user: string | null;
  /** The ack's `sent_at`: when the officer acknowledged (the acknowledging node's clock). */
  at: string;
  /** The `ack` message. */
  ack_id: string;
}

/** A case as `hotline cases` and GET /api/v1/cases show it. */
export interface CaseView {
  id: string;
  channel: string;
  peer: string;
  /** The kind of the opening message, which chooses the state machine. */
  kind: string;
  priority: string;
  state: CaseState;
  /** The machine's states in order, e.g. open, acknowledged, answered, closed. */
  states: CaseState[];
  /** `out`: this node opened it; `in`: the peer did. */
  opened_by: 'in' | 'out';
  opened_at: string;
  updated_at: string;
  subject: string | null;
  last_message_id: string;
  closed_by: string | null;
  closed_at: string | null;
}

/** What `hotline ack` and POST /api/v1/messages/:id/ack give back. */
export interface AckResult {
  /** The acknowledged message and its case. */
  acknowledges: string;
  case: string;
  /** Who acknowledged: the display name from the user record, and the user name (null for an earlier ack that does not record it). */
  officer: string;
  user: string | null;
  at: string;
  /** The `ack` message (queued now, or the one sent before). */
  ack_id: string;
  /** True when the message had already been acknowledged: nothing was sent, the first ack stands. */
  already: boolean;
}

/** Most characters of an officer's name in an ack (templates/ack.json). */
export const OFFICER_MAX = 200;
