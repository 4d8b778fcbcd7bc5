import { allPermissions, EMPTY_CATALOG, isReadPermission } from './catalog.js';
import { effectiveGrants, type ProjectCaller } from './permissions.js';

/**
 * "May this principal do this here?" (SPEC §7), decided by the same `effectiveGrants` the routes
 * enforce with, so a check and the route it stands for cannot disagree. Each permission stands
 * alone; `reason` names the fact that decided it.
 */
export type CheckReason =
  | `role:${string}`
  | 'owner'
  | 'global_key'
  | 'not_a_member'
  | 'not_granted'
  | 'key_scope_read'
  | 'key_pinned_elsewhere'
  | 'key_inactive'
  | 'membership_expired'
  | 'unknown_permission';

export const CHECK_REASONS = [
  'role:<roleId>',
  'owner',
  'global_key',
  'not_a_member',
  'not_granted',
  'key_scope_read',
  'key_pinned_elsewhere',
  'key_inactive',
  'membership_expired',
  'unknown_permission',
] as const;

export interface CheckResult {
  permission: string;
  allowed: boolean;
  reason: CheckReason;
}

/** The principal as the check sees it in one project. */
export interface CheckSubject {
  /** False for an unknown, revoked or expired key (or one whose user is gone): everything denied. */
  active: boolean;
  /** A key pinned to another project sees nothing here. */
  pinnedElsewhere: boolean;
  /** The membership exists but has expired (it authorizes nothing). */
  membershipExpired: boolean;
  /** The caller as the routes see it (membership null when not a member). */
  caller: ProjectCaller;
}

export function decideCheck(subject: CheckSubject, permissions: readonly string[]): CheckResult[] {
  const catalog = subject.caller.catalog ?? EMPTY_CATALOG;
  const known = new Set(allPermissions(catalog));
  const grants = subject.active && !subject.pinnedElsewhere ? effectiveGrants(subject.caller) : new Map<string, string[]>();
  return permissions.map((permission) => {
    const deny = (reason: CheckReason): CheckResult => ({ permission, allowed: false, reason });
    if (!subject.active) return deny('key_inactive');
    if (!known.has(permission)) return deny('unknown_permission');
    if (subject.pinnedElsewhere) return deny('key_pinned_elsewhere');
    const sources = grants.get(permission);
    if (sources) return { permission, allowed: true, reason: sources[0] as CheckReason };
    if (subject.caller.scope !== 'global' && !subject.caller.membership) {
      return deny(subject.membershipExpired ? 'membership_expired' : 'not_a_member');
    }
    if (subject.caller.scope === 'read' && !isReadPermission(permission)) return deny('key_scope_read');
    return deny('not_granted');
  });
}
