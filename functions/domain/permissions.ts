import { errors } from './errors.js';

/**
 * The permission matrix of SPEC §1, as pure functions. Nothing here knows about HTTP or DynamoDB:
 * the store supplies facts (memberships, key scope), these functions decide, and the store then
 * re-asserts the facts the decision rested on as conditions of the same transaction.
 */
export const ROLES = ['viewer', 'editor', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const KEY_SCOPES = ['read', 'read-write', 'global'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const ORG_ROLES = ['owner', 'admin', 'member'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export const PERMISSIONS = [
  'project:read',
  'project:write',
  'members:manage',
  'members:grant-admin',
  'project:transfer-ownership',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ROLE_RANK: Record<Role, number> = { viewer: 1, editor: 2, manager: 3, admin: 4 };
const OWNER_RANK = 5;

const ROLE_PERMISSIONS: Record<Role, Permission[]> = {
  viewer: ['project:read'],
  editor: ['project:read', 'project:write'],
  manager: ['project:read', 'project:write', 'members:manage'],
  admin: ['project:read', 'project:write', 'members:manage', 'members:grant-admin'],
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Roles in canonical order, without duplicates; the caller has already rejected unknown ones. */
export function normalizeRoles(roles: readonly string[]): Role[] {
  return ROLES.filter((role) => roles.includes(role));
}

export function assertKnownRoles(roles: readonly string[]): Role[] {
  const unknown = roles.filter((role) => !isRole(role));
  if (unknown.length > 0) throw errors.unknownRole([...new Set(unknown)]);
  return normalizeRoles(roles);
}

export function normalizeTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

/** What a membership grants by itself, whatever key is used. */
export function membershipPermissions(member: { roles: readonly Role[]; isOwner: boolean }): Permission[] {
  if (member.isOwner) return [...PERMISSIONS];
  const granted = new Set(member.roles.flatMap((role) => ROLE_PERMISSIONS[role]));
  return PERMISSIONS.filter((permission) => granted.has(permission));
}

function memberRank(member: { roles: readonly Role[]; isOwner: boolean }): number {
  if (member.isOwner) return OWNER_RANK;
  return Math.max(0, ...member.roles.map((role) => ROLE_RANK[role]));
}

/** The caller as far as one project is concerned. */
export interface ProjectCaller {
  userId: string;
  scope: KeyScope;
  /** The caller's membership in this project, or null. */
  membership: { projectUserId: string; roles: readonly Role[]; isOwner: boolean } | null;
}

export interface TargetMember {
  projectUserId: string;
  userId: string;
  roles: readonly Role[];
  isOwner: boolean;
}

/**
 * The first check of every write, before anything is read: a `read` key never writes, whatever
 * the target or its state, so its answer (403) depends on nothing it may not know.
 */
export function assertWriteScope(scope: KeyScope): void {
  if (scope === 'read') throw errors.forbidden('This API key is read-only.');
}

/** A `global` key sees every project of its org; any other key needs a membership. */
export function canSeeProject(caller: ProjectCaller): boolean {
  return caller.scope === 'global' || caller.membership !== null;
}

/** Effective permissions: the key scope caps what the membership grants. */
export function effectivePermissions(caller: ProjectCaller): Permission[] {
  if (caller.scope === 'global') return [...PERMISSIONS];
  if (!caller.membership) return [];
  if (caller.scope === 'read') return ['project:read'];
  return membershipPermissions(caller.membership);
}

function has(caller: ProjectCaller, permission: Permission): boolean {
  return effectivePermissions(caller).includes(permission);
}

/** The highest role this caller may grant or revoke (0 = none). */
function grantCeiling(caller: ProjectCaller): number {
  if (!has(caller, 'members:manage')) return 0;
  return has(caller, 'members:grant-admin') ? ROLE_RANK.admin : ROLE_RANK.manager;
}

function assertCanManage(caller: ProjectCaller): void {
  if (has(caller, 'members:manage')) return;
  throw errors.forbidden(
    caller.scope === 'read'
      ? 'This API key is read-only.'
      : 'Adding, updating or removing project users needs the manager role or higher.',
  );
}

function assertGrantable(caller: ProjectCaller, roles: readonly Role[]): void {
  const ceiling = grantCeiling(caller);
  const tooHigh = roles.filter((role) => ROLE_RANK[role] > ceiling);
  if (tooHigh.length > 0) {
    throw errors.forbidden(`This caller may not grant or revoke: ${tooHigh.join(', ')}.`);
  }
}

export type AddDecision = 'manage' | 'self-join';

/**
 * Adding a member. A member with `members:manage` adds anyone (up to its grant ceiling); a
 * `read-write` key whose user is not yet a member may add itself, as `viewer` only.
 * Returns which rule authorized it, because the store must re-assert a different fact for each.
 */
export function authorizeAdd(caller: ProjectCaller, targetUserId: string, roles: readonly Role[]): AddDecision {
  const isSelf = targetUserId === caller.userId;
  if (!canSeeProject(caller)) {
    if (isSelf && caller.scope === 'read-write') {
      if (roles.some((role) => role !== 'viewer')) {
        throw errors.forbidden('A read-write key may add itself to a project as viewer only.');
      }
      return 'self-join';
    }
    throw errors.notFound();
  }
  if (isSelf && caller.membership) throw errors.alreadyMember();
  assertCanManage(caller);
  assertGrantable(caller, roles);
  return 'manage';
}

/** `expiresAt` governs access like roles do: the same rules protect it. */
export function authorizeUpdate(
  caller: ProjectCaller,
  target: TargetMember,
  change: { roles?: readonly Role[]; expiresAt?: string | null; tags?: readonly string[] },
): void {
  if (!canSeeProject(caller)) throw errors.notFound();
  assertCanManage(caller);
  const rolesChange = change.roles !== undefined && !sameRoles(change.roles, target.roles);
  const accessChange = rolesChange || change.expiresAt !== undefined;
  if (accessChange && target.userId === caller.userId) {
    throw errors.forbidden('No caller can change its own roles or expiry.');
  }
  if (accessChange && target.isOwner) {
    throw errors.ownerProtected("The owner's roles and expiry cannot be changed; transfer ownership first.");
  }
  if (target.isOwner && change.tags !== undefined && caller.scope !== 'global' && !caller.membership?.isOwner) {
    throw errors.forbidden("Only the project owner (or a global key) changes the owner's record.");
  }
  if (!target.isOwner && memberRank(target) > grantCeiling(caller)) {
    throw errors.forbidden('This caller may not modify a project user ranked above its own grant level.');
  }
  if (rolesChange && change.roles) {
    const before = new Set(target.roles);
    const after = new Set(change.roles);
    const touched = [...change.roles.filter((r) => !before.has(r)), ...target.roles.filter((r) => !after.has(r))];
    assertGrantable(caller, touched);
  }
}

export function authorizeRemove(caller: ProjectCaller, target: TargetMember): void {
  if (!canSeeProject(caller)) throw errors.notFound();
  assertCanManage(caller);
  if (target.isOwner) throw errors.ownerProtected('The project owner cannot be removed; transfer ownership first.');
  if (memberRank(target) > grantCeiling(caller)) {
    throw errors.forbidden('This caller may not remove a project user ranked above its own grant level.');
  }
}

/** Only the owner transfers ownership (a `global` key may do everything in its org, this too). */
export function authorizeTransfer(caller: ProjectCaller): void {
  if (!canSeeProject(caller)) throw errors.notFound();
  if (!has(caller, 'project:transfer-ownership')) {
    throw errors.forbidden('Only the project owner can transfer ownership.');
  }
}

export function authorizeRead(caller: ProjectCaller): void {
  if (!canSeeProject(caller)) throw errors.notFound();
}

function sameRoles(a: readonly Role[], b: readonly Role[]): boolean {
  return a.length === b.length && a.every((role) => b.includes(role));
}

/** The caller as far as the organization is concerned (org-level endpoints). */
export interface OrgCaller {
  userId: string;
  scope: KeyScope;
  orgRole: OrgRole;
  /** A key pinned to one project may not change anything outside it. */
  pinnedProjectId?: string | null;
}

export function isOrgAdmin(caller: OrgCaller): boolean {
  return caller.orgRole === 'owner' || caller.orgRole === 'admin';
}

/** Org-level writes: a `global` key, or a `read-write` key of an org owner/admin; never a pinned key. */
export function authorizeOrgWrite(caller: OrgCaller): void {
  if (caller.pinnedProjectId) {
    throw errors.forbidden('A key pinned to a project cannot make organization-level changes.');
  }
  if (caller.scope === 'global') return;
  if (caller.scope === 'read-write' && isOrgAdmin(caller)) return;
  throw errors.forbidden(
    caller.scope === 'read'
      ? 'This API key is read-only.'
      : 'This needs a global key, or a read-write key of an organization owner or admin.',
  );
}

/** The org directory is for org admins (or global keys); any scope may read it. */
export function authorizeOrgRead(caller: OrgCaller): void {
  if (caller.scope === 'global' || isOrgAdmin(caller)) return;
  throw errors.forbidden('The organization directory is visible to organization owners and admins only.');
}

export type KeyGrantRule = 'self' | 'org-admin';

/**
 * Creating a key, decided before the target user is read: any `read-write` key may create
 * `read`/`read-write` keys for its own user; keys for others and `global` keys need org-admin
 * authority. So an unprivileged caller gets the same 403 whether another user ID exists or not.
 * A pinned caller can only mint keys pinned to the same project, or the pin would be escapable.
 */
export function authorizeKeyCreate(
  caller: OrgCaller & { pinnedProjectId: string | null },
  request: { userId: string; scope: KeyScope; projectId: string | null },
): KeyGrantRule {
  assertWriteScope(caller.scope);
  if (caller.pinnedProjectId !== null && request.projectId !== caller.pinnedProjectId) {
    throw errors.forbidden('A key pinned to a project can only create keys pinned to the same project.');
  }
  const isSelf = request.userId === caller.userId;
  if (isSelf && request.scope !== 'global' && caller.scope === 'read-write') return 'self';
  authorizeOrgWrite(caller);
  return 'org-admin';
}

/** Global keys belong to org owners and admins only (checked once the target user is read). */
export function assertMayHoldKey(target: { orgRole: OrgRole }, scope: KeyScope): void {
  if (scope === 'global' && target.orgRole === 'member') {
    throw errors.forbidden('Global keys belong to organization owners and admins only.');
  }
}

/**
 * A key never outlives the key that creates it: without `expiresAt` it inherits the creator's
 * expiry; a later one is a 400. The admin CLI (no creating key) passes `creatorExpiresAt: null`.
 */
export function keyExpiry(requested: string | null, creatorExpiresAt: string | null): string | null {
  if (creatorExpiresAt === null) return requested;
  if (requested === null) return creatorExpiresAt;
  if (Date.parse(requested) > Date.parse(creatorExpiresAt)) {
    throw errors.validation(`expiresAt must not be later than the creating key's own expiry (${creatorExpiresAt}).`, [
      { path: 'body.expiresAt', message: `must be at or before ${creatorExpiresAt}` },
    ]);
  }
  return requested;
}

export function authorizeKeyRevoke(caller: OrgCaller, keyOwnerUserId: string): KeyGrantRule {
  assertWriteScope(caller.scope);
  if (keyOwnerUserId === caller.userId) return 'self';
  authorizeOrgWrite(caller);
  return 'org-admin';
}

export function authorizeKeyList(caller: OrgCaller, userId: string): void {
  if (userId === caller.userId) return;
  authorizeOrgRead(caller);
}
