import type { Store } from './adapters/storage/schema.js';
import { notificationRetention } from './modules/deadlines/deadlines.retention.js';
import { feedRunRetention } from './modules/feeds/feeds.retention.js';
import { taxiiStatusRetention } from './modules/taxii/taxii.retention.js';
import type { RetentionRule } from './shared/retention.js';

/** `retention` in hotline.json: how many days each kind of prunable record is kept. */
export interface RetentionConfig {
  /** TAXII status resources of POSTs and inbound indicators messages. */
  taxiiStatusesDays: number;
  /** Escalation, overdue and reminder notifications whose deliveries are finished. */
  notificationsDays: number;
  /** Feed runs and their reports. */
  feedRunsDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionConfig> = { taxiiStatusesDays: 30, notificationsDays: 90, feedRunsDays: 90 };

/**
 * What is pruned, and after how long: each module says which of its records may go and how
 * (its `*.retention.ts`). Never envelopes, receipts, acknowledgements, cases, preservations or
 * the audit trail (modules/audit): those are the evidence, and no module offers them.
 */
export function retentionRules(db: Store, r: Readonly<RetentionConfig>): RetentionRule[] {
  return [
    { prunable: taxiiStatusRetention(db), days: r.taxiiStatusesDays },
    { prunable: notificationRetention(db), days: r.notificationsDays },
    { prunable: feedRunRetention(db), days: r.feedRunsDays },
  ];
}
