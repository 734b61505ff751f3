import type { Kysely } from 'kysely';
import { fail } from '../../shared/errors.js';
import type { CasesDeps } from '../cases/cases.types.js';
import type { CasesTables } from '../cases/cases.tables.js';
import type { FederationTables } from '../federation/federation.tables.js';
import type { LawTables } from './law.tables.js';

/** Where a preservation is: asked for, kept, refused (Art. 29(6)), past its expiry, or let go (case closed). */
export const PRESERVATION_STATES = ['requested', 'preserved', 'refused', 'expired', 'released'] as const;
export type PreservationState = (typeof PRESERVATION_STATES)[number];

/** The codes of a preservation-response's `outcome` (templates/vocabularies.json `preservation_outcome`). */
export const OUTCOMES = ['preserved', 'partially_preserved', 'cannot_preserve'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const DAY_MS = 24 * 60 * 60 * 1000;
/** Art. 29(7): a preservation lasts at least sixty days. */
export const MIN_PRESERVATION_DAYS = 60;
/** How many more days an extension asks for when it does not say. */
export const DEFAULT_EXTENSION_DAYS = 60;
/** Default of `law.remind_days_before` in hotline.json. */
export const DEFAULT_REMIND_DAYS_BEFORE = 7;

/** One extension asked for (a preservation-request with `fields.extension_of`) and its answer. */
export interface ExtensionRecord {
  /** The preservation-request that asked, and when it was sent (its `sent_at`). */
  message_id: string;
  requested_at: string;
  days: number;
  /** The preservation-response to it, once answered. */
  response_id?: string;
  outcome?: Outcome;
  /** The expiry the answer set (preserved), when it did. */
  expires_at?: string;
}

/** The store as this module needs it: federation (messages, outbox), cases and its own table. */
export type LawDb = Kysely<FederationTables> & Kysely<CasesTables> & Kysely<LawTables>;

/** What sending extensions and MLA notices needs: the outbox with the hooks, over a store holding the law table. */
export type LawDeps = CasesDeps & { db: LawDb };

/** A preservation as `hotline preservation list/show` and GET /api/v1/preservations show it. */
export interface PreservationView {
  case: string;
  request_id: string;
  requesting_party: string;
  responding_party: string;
  /** `out`: this node asked; `in`: the peer asked this node. */
  direction: 'in' | 'out';
  state: PreservationState;
  outcome: Outcome | null;
  reference: string | null;
  reason: string | null;
  response_id: string | null;
  preserved_at: string | null;
  expires_at: string | null;
  /** Whole days from now to the expiry (negative once past); null when not preserved. */
  days_left: number | null;
  extensions: ExtensionRecord[];
  /** `reference` is null when it came in a TLP:RED message the reader may not read (see `redacted`). */
  mla_request: { reference: string | null; sent_at: string; message_id: string | null } | null;
  /** When this node reminded of the current expiry (null: not yet, or the expiry moved since). */
  reminded_at: string | null;
  created_at: string;
  updated_at: string;
  /**
   * Set when fields from a TLP:RED message's body (`reference`, `reason`, `mla_request.reference`)
   * are withheld from the reader: says who may read them.
   */
  redacted?: string;
}

/** The `law` section of hotline.json, as the node uses it. */
export interface LawConfig {
  /** How many days before a preservation expires the node reminds (default 7). */
  readonly remindDaysBefore: number;
}

/**
 * Validates the optional `law` section of hotline.json: `{ "remind_days_before": 7 }`. Problems
 * are `config_invalid` and name the field.
 */
export function parseLawConfig(raw: unknown): LawConfig {
  if (raw === undefined) return Object.freeze({ remindDaysBefore: DEFAULT_REMIND_DAYS_BEFORE });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('config_invalid', '"law" must be an object such as { "remind_days_before": 7 }');
  const o = raw as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => k !== 'remind_days_before');
  if (extra !== undefined) fail('config_invalid', `"law.${extra}" is not a setting; known: remind_days_before`);
  const d = o.remind_days_before === undefined ? DEFAULT_REMIND_DAYS_BEFORE : o.remind_days_before;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 365) fail('config_invalid', '"law.remind_days_before" must be a whole number of days from 1 to 365');
  return Object.freeze({ remindDaysBefore: d });
}
