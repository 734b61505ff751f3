import { userInfo } from 'node:os';
import type { NodeContext } from '../../context.js';
import type { Actor, AuditEntry } from '../../modules/audit/audit.types.js';

/** The operating-system user running the CLI ("unknown" when the system does not say). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/**
 * Who a CLI command acts as, for the audit trail: the user named with `--as`, else
 * `cli:<os user>` (the node administrator at the keyboard); the address is always `cli`.
 */
export function cliActor(as?: string): Actor {
  return { who: as ?? `cli:${osUser()}`, address: 'cli' };
}

/**
 * Records what a CLI command did in the audit trail, in a transaction of its own (for actions that
 * are not one transaction: peer changes, grants, prunes, transcripts, exports, feed runs).
 * Actions that are one transaction record inside it (their module does, given the actor).
 */
export async function auditCli(ctx: NodeContext, e: Omit<AuditEntry, 'actor'>, as?: string): Promise<void> {
  const { audit } = await import('../../modules/audit/audit.service.js');
  await audit.record(ctx.db, { ...e, actor: cliActor(as) }, ctx.clock.now());
}
