/** What the administration tabs read from the API (GET /api/v1/status, /peers, /users, /tokens, /sinks, /audit). */
export interface LinkStatus {
  party: string; name: string; backlog: number; last_receipt_at: string | null; last_receipt_age_s: number | null; last_received_at: string | null;
  attempts: number; next_attempt_at: string | null; last_error: string | null; last_error_code: string | null;
}
export interface NodeStatus {
  party: string; name: string; at: string; links: LinkStatus[];
  queue: { by_priority: Record<string, number>; total: number; overdue: number; oldest_sent_at: string | null; oldest_age_s: number | null; overdue_sent: number };
  sinks: { sink: string; target: string; failed: number; retrying: number; last_error: string | null; last_at: string; last_type: string | null }[];
  last_feed_run: { id: string; source: string; state: string; started_at: string; finished_at: string | null; records: number; error: string | null } | null;
  store: { path: string; bytes: number; wal_bytes: number };
}
export interface Peer {
  party: string; name: string; url: string; channels: string[]; deadlines: Record<string, number>;
  /** The key it signs with now, when that changed (null: never), and its whole key history (issue 12). */
  fingerprint: string; key_changed_at: string | null;
  keys: { public_key: string; fingerprint: string; valid_from: string | null; valid_until: string | null; revoked_since: string | null }[];
  /** ok, key_mismatch, suspended, removed. */
  state: 'ok' | 'key_mismatch' | 'suspended' | 'removed';
}
export interface User { name: string; role: 'admin' | 'officer' | 'peer'; channels: string[]; created_at: string; disabled_at: string | null; peer?: string; display_name: string | null }
export interface Token { id: string; user: string; created_at: string; last_used_at: string | null; revoked_at: string | null }
export interface Sink { name: string; type: string; target: string; format: string; signed: boolean; created_at: string }
export interface AuditRecord { seq: number; id: string; at: string; actor: string; action: string; subject: string | null; address: string; details: Record<string, unknown>; hash: string }

export const PRIORITIES = ['flash', 'immediate', 'priority', 'routine'] as const;
export const CHANNELS = ['crisis', 'cert', 'law'] as const;

/** A link is up when its last delivery attempt succeeded. */
export const linkUp = (l: LinkStatus): boolean => l.attempts === 0 && l.last_error === null;
