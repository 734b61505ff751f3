import { fail } from '../../shared/errors.js';
import type { Principal, Role } from './users.types.js';

/** True when the principal's grants include `channel`. */
export function holdsChannel(p: Principal, channel: string): boolean {
  return (p.channels as readonly string[]).includes(channel);
}

/** Refuses (403 `forbidden`) to act on a channel the principal does not hold. */
export function requireChannel(p: Principal, channel: string): void {
  if (!holdsChannel(p, channel)) {
    fail('forbidden', `User "${p.user}" may not use channel "${channel}" (granted: ${p.channels.join(', ') || 'none'})`);
  }
}

/** Refuses (403 `forbidden`) unless the principal has `role`. */
export function requireRole(p: Principal, role: Role): void {
  if (p.role !== role) fail('forbidden', `Only a user with role "${role}" may do this; "${p.user}" is an ${p.role}`);
}
