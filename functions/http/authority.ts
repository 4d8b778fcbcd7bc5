import type { Membership, Principal } from '../domain/model.js';
import type { KeyGrantRule } from '../domain/permissions.js';
import type { Authority, CallerKey } from '../store/store.js';

/**
 * What a write re-asserts about its caller in its own transaction, so that a decision made on a
 * read binds only while the facts it rested on still hold.
 */
function callerKeyOf(principal: Principal): CallerKey {
  return {
    keyId: principal.key.keyId,
    orgId: principal.key.orgId,
    userId: principal.user.userId,
    ...(principal.confirmed ? { confirmed: principal.confirmed } : {}),
  };
}

/** What a project write re-asserts about its caller at commit time (always its live key and user). */
export function projectAuthority(principal: Principal, membership: Membership | null): Authority {
  const caller = callerKeyOf(principal);
  if (principal.key.scope === 'global') return { kind: 'globalKey', caller };
  if (!membership) return { kind: 'selfJoin', caller };
  return {
    kind: 'membership',
    caller,
    projectId: membership.projectId,
    userId: membership.userId,
    projectUserId: membership.projectUserId,
    version: membership.version,
  };
}

/** What an org-level write re-asserts: the key is live and, unless global, the org role unchanged. */
export function orgAuthority(principal: Principal): Authority {
  if (principal.key.scope === 'global') return { kind: 'globalKey', caller: callerKeyOf(principal) };
  return selfAuthority(principal);
}

/** A write about the caller's own keys: its live key and its unchanged org user. */
export function selfAuthority(principal: Principal): Authority {
  const { user } = principal;
  return { kind: 'orgUser', caller: callerKeyOf(principal), orgId: user.orgId, userId: user.userId, version: user.version };
}

/**
 * A key created or revoked under the `self` rule rests on the caller's own live key and user,
 * nothing more; a `global` key, whatever the rule, rests on itself.
 */
export function keyAuthority(principal: Principal, rule: KeyGrantRule): Authority {
  return rule === 'self' && principal.key.scope !== 'global' ? selfAuthority(principal) : orgAuthority(principal);
}
