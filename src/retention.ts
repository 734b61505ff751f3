import type { Store } from './adapters/storage/schema.js';
import { notificationRetention } from './modules/deadlines/deadlines.retention.js';
import { feedRunRetention } from './modules/feeds/feeds.retention.js';
import { taxiiStatusRetention } from './modules/taxii/taxii.retention.js';
import type { RetentionRule } from './shared/retention.js';
import type { RetentionConfig } from './config.js';

// Read with the rest of hotline.json (config.ts), which need not load every module's rule.
export { DEFAULT_RETENTION, type RetentionConfig } from './config.js';

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
