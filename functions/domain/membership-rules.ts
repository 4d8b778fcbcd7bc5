import { errors } from './errors.js';
import { isExpired, type Membership, type OrgUser, type Project, type ProjectUser } from './model.js';
import { liveOrgUser } from './org-rules.js';
import {
  assertKnownRoles,
  authorizeAdd,
  assertVisible,
  authorizeRemove,
  authorizeTransfer,
  authorizeUpdate,
  effectivePermissions,
  mayManageMembers,
  membershipPermissions,
  normalizeTags,
  type ProjectCaller,
  type Role,
} from './permissions.js';

/**
 * The rules of one project's membership that need what a request read: each decision takes those
 * facts and the request, and either throws the answer (a DomainError) or returns what the store is
 * to write. permissions.ts holds the matrix they apply; nothing here knows HTTP or DynamoDB.
 */

/** An expired member is gone for every reader, even before DynamoDB TTL removes it. */
export function liveMember<T extends ProjectUser>(member: T | null): T {
  if (!member || isExpired(member)) throw errors.notFound();
  return member;
}

/** An add of a user whose membership expired but is not removed yet: the caller may restore that one instead. */
export const expiredMembershipAwaitsRemoval = (projectUserId: string) =>
  errors.conflict('This user has an expired membership awaiting removal by TTL; PATCH its expiresAt (a new time or null) to restore it.', {
    projectUserId,
  });

export interface AddRequest {
  userId: string;
  roles?: readonly string[];
  tags?: readonly string[];
}

/** Adding `request.userId`: the roles and tags to store, once the caller may and the user can join. */
export function decideAdd(
  caller: ProjectCaller,
  request: AddRequest,
  found: { orgUser: OrgUser | null; existing: Membership | null },
): { roles: Role[]; tags: string[] } {
  const requested = request.roles ?? ['viewer'];
  // Permission (403) before state (409, SPEC order of checks): an unknown role grants no permission,
  // so authorizing it first refuses only what the caller may not do whatever the catalog holds.
  authorizeAdd(caller, request.userId, requested, request.tags);
  const roles = assertKnownRoles(requested, caller.catalog);
  liveOrgUser(found.orgUser);
  if (found.existing && !isExpired(found.existing)) throw errors.alreadyMember();
  if (found.existing) throw expiredMembershipAwaitsRemoval(found.existing.projectUserId);
  return { roles, tags: normalizeTags(request.tags ?? []) };
}

export interface ChangeRequest {
  roles?: readonly string[];
  tags?: readonly string[];
  expiresAt?: string | null;
}

export interface MemberChange {
  roles?: Role[];
  tags?: string[];
  expiresAt?: string | null;
}

/** A change names something to change; checked before anything is read. */
export function assertChangeRequested(request: ChangeRequest): void {
  if (request.roles === undefined && request.tags === undefined && request.expiresAt === undefined) {
    throw errors.validation('Nothing to change: send roles, tags or expiresAt.', [
      { path: 'body', message: 'expected at least one of roles, tags, expiresAt' },
    ]);
  }
}

/**
 * Changing a member: the member and the change to write, or `change: null` when the request
 * changes nothing (nothing is written; the current record is the answer).
 */
export function decideUpdate(
  caller: ProjectCaller,
  stored: ProjectUser | null,
  request: ChangeRequest,
): { target: ProjectUser; change: MemberChange | null } {
  assertVisible(caller);
  // An expired member is hidden from everything but the one change that restores it, a new expiry,
  // and from everyone but a caller who may make it: to anyone else it is the 404 of a missing ID.
  const target = request.expiresAt !== undefined && mayManageMembers(caller) ? stored : liveMember(stored);
  if (!target) throw errors.notFound();
  // Permission (403) before state (409): as in decideAdd, unknown roles are refused after.
  authorizeUpdate(caller, target, { roles: request.roles, expiresAt: request.expiresAt, tags: request.tags });
  const roles = request.roles === undefined ? undefined : assertKnownRoles(request.roles, caller.catalog);
  // A restored membership must not come back holding a role deleted while it was expired.
  if (roles === undefined && request.expiresAt !== undefined) assertKnownRoles(target.roles, caller.catalog);
  const tags = request.tags === undefined ? undefined : normalizeTags(request.tags);
  const unchanged =
    (roles === undefined || sameSet(roles, target.roles)) &&
    (tags === undefined || sameSet(tags, target.tags)) &&
    (request.expiresAt === undefined || request.expiresAt === (target.expiresAt ?? null));
  return { target, change: unchanged ? null : { roles, tags, expiresAt: request.expiresAt } };
}

/** Removing a member: the live member the caller may remove. */
export function decideRemove(caller: ProjectCaller, stored: ProjectUser | null): ProjectUser {
  assertVisible(caller);
  const target = liveMember(stored);
  authorizeRemove(caller, target);
  return target;
}

/** Where a transfer finds the record of the owner it demotes. */
export type OwnerSource =
  | { from: 'project' }
  | { from: 'caller'; owner: Membership }
  | { from: 'read'; userId: string };

export type TransferDecision =
  | { kind: 'already-owner' }
  | { kind: 'transfer'; newOwner: ProjectUser; oldOwner: OwnerSource };

/** Transferring ownership to `candidate`: nothing to do when it already owns the project. */
export function decideTransfer(
  caller: ProjectCaller,
  project: Project,
  candidate: ProjectUser | null,
  callerMembership: Membership | null,
): TransferDecision {
  authorizeTransfer(caller);
  const newOwner = liveMember(candidate);
  if (newOwner.isOwner) return { kind: 'already-owner' };
  return { kind: 'transfer', newOwner, oldOwner: ownerSource(project, callerMembership) };
}

function ownerSource(project: Project, callerMembership: Membership | null): OwnerSource {
  if (project.ownerRoles) return { from: 'project' };
  // Projects written before `ownerRoles` existed need the old owner read first.
  if (callerMembership?.projectUserId === project.ownerProjectUserId) return { from: 'caller', owner: callerMembership };
  return { from: 'read', userId: project.ownerUserId };
}

/** The old owner, read for a legacy project: without its record the transfer cannot demote it. */
export function foundOwner(owner: Membership | null): Membership {
  if (!owner) throw errors.conflict('The project owner could not be read; retry the request.');
  return owner;
}

/**
 * Holders of `members:manage` and `global` keys: the same effective permissions as everywhere, so
 * a `read` key (which keeps only `…:read` permissions, SPEC §6) does not see the audit log, and
 * `POST …/check` for `members:manage` answers for this route too.
 */
export function canAudit(caller: ProjectCaller): boolean {
  return effectivePermissions(caller).includes('members:manage');
}

export function authorizeAuditRead(caller: ProjectCaller): void {
  assertVisible(caller);
  if (!canAudit(caller)) throw errors.forbidden('The audit log is visible to managers and above.');
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}
