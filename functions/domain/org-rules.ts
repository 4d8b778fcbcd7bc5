import { errors } from './errors.js';
import { isExpired, type Membership, type OrgUser, type Project } from './model.js';
import { assertMayHoldKey, type KeyGrantRule, type KeyScope } from './permissions.js';

/**
 * Rules about an organization's users and keys that need what a request read: each takes those
 * facts and either throws the answer (a DomainError) or returns what the write goes on with.
 * Nothing here knows HTTP or DynamoDB; permissions.ts holds the matrix of who may ask.
 */

/** An org user being deleted can no longer join projects or get keys: to every request it is gone. */
export function liveOrgUser(user: OrgUser | null): OrgUser {
  if (!user || user.deletingAt) throw errors.notFound();
  return user;
}

/** A record of another organization is answered like a missing one. */
export function inOrg<T extends { orgId: string }>(record: T | null, orgId: string): T {
  if (!record || record.orgId !== orgId) throw errors.notFound();
  return record;
}

/** An org user's e-mail is unique in its organization: a second one is a 409 (the store's condition decides). */
export const emailTaken = () => errors.conflict('An organization user with this e-mail already exists.');

/** Any user but the org owner may be deleted; one already being deleted again, to finish the cascade. */
export function deletableOrgUser(user: OrgUser | null): OrgUser {
  if (!user) throw errors.notFound();
  if (user.orgRole === 'owner') throw errors.conflict('The organization owner cannot be deleted.');
  return user;
}

/** A requested key expiry, as an ISO timestamp in the future (null: none requested). */
export function requestedKeyExpiry(expiresAt: string | undefined, now = Date.now()): string | null {
  const requested = expiresAt === undefined ? null : new Date(expiresAt).toISOString();
  if (requested !== null && Date.parse(requested) <= now) {
    throw errors.validation('expiresAt must be in the future.', [{ path: 'body.expiresAt', message: 'must be in the future' }]);
  }
  return requested;
}

/** Who a new key is for: a live user of the org, allowed to hold a key of this scope. */
export function keyHolder(target: OrgUser | null, scope: KeyScope): OrgUser {
  const holder = liveOrgUser(target);
  assertMayHoldKey(holder, scope);
  return holder;
}

/**
 * The project a new key is pinned to. Under org-admin authority any project of the org; a member
 * minting its own key (the `self` rule) only a project where its user is a live member, so that a
 * project it cannot see is the same 404 as one that does not exist (no existence oracle, SPEC §1).
 * The membership decides the answer, not an authority: a key pinned where its user is no member
 * grants nothing there, so the write need not re-check it.
 */
export function pinnableProject(rule: KeyGrantRule, orgId: string, found: { project: Project | null; callerMembership: Membership | null }): Project {
  const project = inOrg(found.project, orgId);
  if (rule === 'self' && (!found.callerMembership || isExpired(found.callerMembership))) throw errors.notFound();
  return project;
}

/** A user that owns projects keeps its records there (they would lose their owner): the deletion is a 409. */
export function assertOrgUserDeleted(outcome: { deleted: boolean; blockedProjects: string[] }): void {
  if (outcome.deleted) return;
  throw errors.ownerProtected(
    'The user owns projects; its other memberships were removed. Transfer ownership of these projects, then delete again.',
    { blockedProjects: outcome.blockedProjects },
  );
}
