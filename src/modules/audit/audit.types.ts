/** Who did something and from where: what every audit record names. */
export interface Actor {
  /** A user name, `cli:<os user>` for the CLI without --as, or `node` for the node itself. */
  readonly who: string;
  /** The REST caller's IP address, `cli`, or `node`. */
  readonly address: string;
}

/** The node itself (background work: prunes on schedule, ...). */
export const NODE_ACTOR: Actor = Object.freeze({ who: 'node', address: 'node' });

/**
 * The stable action names. Adding one is fine; renaming one breaks searches of older records.
 */
export const AUDIT_ACTIONS = [
  'auth.sign_in', 'auth.sign_in_failed', 'auth.failed',
  // the console (issue 11): a sign-in lock set, a sign-out, a cookie write refused by the CSRF check; a password set, TOTP enrolled or reset
  'auth.locked', 'auth.sign_out', 'auth.csrf_failed', 'user.password', 'user.totp', 'user.totp_reset',
  'message.send', 'message.ack', 'message.read_red',
  'export', 'transcript',
  'user.add', 'user.edit', 'user.disable', 'token.create', 'token.revoke', 'grant',
  'peer.add', 'peer.deadlines', 'peer.update', 'peer.suspend', 'peer.resume', 'peer.remove', 'contact.add', 'contact.remove', 'rota.set', 'rota.override', 'directory.publish',
  'collection.add', 'sink.add', 'sink.remove', 'sink.test', 'feed.run', 'prune',
  // issue 12: this node's key rotated or revoked, a peer re-pinned, a peer's key-change received
  'key.rotate', 'key.revoke', 'peer.repin', 'peer.key_change',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What a caller records: the actor, the action, what it was done to, and a few facts. */
export interface AuditEntry {
  actor: Actor;
  action: AuditAction;
  subject?: string | null;
  /** A small object of facts (ids, counts, names): never a message body, a text, or a secret. */
  details?: Record<string, unknown>;
}

/** A record as `hotline audit` and GET /api/v1/audit show it. */
export interface AuditRecord {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  address: string;
  details: Record<string, unknown>;
  hash: string;
}

/** What `hotline audit` and GET /api/v1/audit filter by. */
export interface AuditFilter {
  user?: string;
  action?: string;
  /** An ISO 8601 time or a duration back from now, e.g. 24h, 7d. */
  since?: string;
  /** Only records older than this seq (the next page: the last seq of the previous one). */
  before?: number;
  limit?: number;
}

/** One thing wrong with the trail: the first bad record, named by its seq and id. */
export interface AuditProblem {
  seq: number;
  id: string | null;
  code: 'audit_changed' | 'audit_removed' | 'audit_chain_broken' | 'audit_head_mismatch';
  message: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  records: number;
  head_hash: string;
  /** The first problem found (what follows a bad record cannot be trusted either), or none. */
  problem: AuditProblem | null;
}
