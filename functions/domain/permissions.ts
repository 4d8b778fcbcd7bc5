import { errors } from './errors.js';

import {
  BUILT_IN_ROLES,
  EMPTY_CATALOG,
  SYSTEM_PERMISSIONS,
  allPermissions,
  assertKnownRoles as assertKnownRolesIn,
  isBuiltInRole,
  isReadPermission,
  membershipGrants,
  membershipPermissions as membershipPermissionsIn,
  rolePermissions,
  sameRoleSet,
  type Catalog,
  type RoleId,
} from './catalog.js';

/**
 * The permission rules of SPEC §1 and §6 as pure functions over permission sets. Nothing here
 * knows about HTTP or DynamoDB: the store supplies facts (memberships, key scope, the org's role
 * catalog), these functions decide, and the store then re-asserts the facts the decision rested
 * on (catalog version included) as conditions of the same transaction.
 */
export const ROLES = BUILT_IN_ROLES;
/** A role ID: one of the built-in ROLES or a custom `rol_…` ID. */
export type Role = RoleId;

export const KEY_SCOPES = ['read', 'read-write', 'global'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const ORG_ROLES = ['owner', 'admin', 'member'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export const PERMISSIONS = SYSTEM_PERMISSIONS;
/** A permission key: a system one or an org's custom `resource:action`. */
export type Permission = string;

export function isRole(value: string): boolean {
  return isBuiltInRole(value);
}

export { normalizeRoles } from './catalog.js';

export function assertKnownRoles(roles: readonly string[], catalog: Catalog = EMPTY_CATALOG): Role[] {
  return assertKnownRolesIn(catalog, roles);
}

export function normalizeTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

/** What a membership grants by itself, whatever key is used. */
export function membershipPermissions(member: { roles: readonly Role[]; isOwner: boolean }, catalog: Catalog = EMPTY_CATALOG): Permission[] {
  return membershipPermissionsIn(catalog, member);
}

/** The caller as far as one project is concerned. */
export interface ProjectCaller {
  userId: string;
  scope: KeyScope;
  /** The caller's membership in this project, or null. */
  membership: { projectUserId: string; roles: readonly Role[]; isOwner: boolean } | null;
  /** The org's roles and permissions the decision is made with (default: the built-in ones). */
  catalog?: Catalog;
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

/**
 * Effective permissions and what grants each: a `global` key holds the whole catalog; otherwise
 * the membership's roles (the owner everything), and through a `read` key only `…:read` ones.
 */
export function effectiveGrants(caller: ProjectCaller): Map<Permission, string[]> {
  const catalog = caller.catalog ?? EMPTY_CATALOG;
  if (caller.scope === 'global') return new Map(allPermissions(catalog).map((p) => [p, ['global_key']]));
  if (!caller.membership) return new Map();
  const grants = membershipGrants(catalog, caller.membership);
  if (caller.scope === 'read') for (const permission of grants.keys()) if (!isReadPermission(permission)) grants.delete(permission);
  return grants;
}

export function effectivePermissions(caller: ProjectCaller): Permission[] {
  return [...effectiveGrants(caller).keys()];
}

function has(caller: ProjectCaller, permission: Permission): boolean {
  return effectivePermissions(caller).includes(permission);
}

function missingFrom(caller: ProjectCaller, permissions: readonly Permission[]): Permission[] {
  const own = new Set(effectivePermissions(caller));
  return permissions.filter((p) => !own.has(p));
}

/** Whether the caller may add, update or remove members at all (its grant ceiling aside). */
export function mayManageMembers(caller: ProjectCaller): boolean {
  return has(caller, 'members:manage');
}

function assertCanManage(caller: ProjectCaller): void {
  if (mayManageMembers(caller)) return;
  throw errors.forbidden(
    caller.scope === 'read'
      ? 'This API key is read-only.'
      : 'Adding, updating or removing project users needs the manager role or higher.',
  );
}

/** Granting or revoking a role needs every permission of that role (SPEC §6). */
function assertGrantable(caller: ProjectCaller, roles: readonly Role[]): void {
  const catalog = caller.catalog ?? EMPTY_CATALOG;
  const tooHigh = roles.filter((role) => missingFrom(caller, rolePermissions(catalog, role)).length > 0);
  if (tooHigh.length > 0) {
    throw errors.forbidden(`This caller may not grant or revoke: ${tooHigh.join(', ')}.`);
  }
}

/** Changing or removing a member needs every permission that member holds. */
function holdsAllOf(caller: ProjectCaller, target: TargetMember): boolean {
  return missingFrom(caller, membershipPermissions(target, caller.catalog ?? EMPTY_CATALOG)).length === 0;
}

export type AddDecision = 'manage' | 'self-join';

/**
 * Adding a member. A member with `members:manage` adds anyone (up to its grant ceiling); a
 * `read-write` key whose user is not yet a member may add itself, as `viewer` only.
 * Returns which rule authorized it, because the store must re-assert a different fact for each.
 */
export function authorizeAdd(caller: ProjectCaller, targetUserId: string, roles: readonly Role[], tags: readonly string[] = []): AddDecision {
  const isSelf = targetUserId === caller.userId;
  if (!canSeeProject(caller)) {
    if (isSelf && caller.scope === 'read-write') {
      // Tags are set by those who manage members (a viewer cannot change its own): a self-join brings none.
      if (roles.some((role) => role !== 'viewer') || tags.length > 0) {
        throw errors.forbidden('A read-write key may add itself to a project as viewer only, without tags.');
      }
      return 'self-join';
    }
    throw errors.notFound();
  }
  if (isSelf && caller.membership) {
    // Already a member (409) only for what the caller could ask anyway: a self-join's `["viewer"]`,
    // or roles it may grant; asking for more is refused as such first (403 before 409).
    if (roles.some((role) => role !== 'viewer')) {
      assertCanManage(caller);
      assertGrantable(caller, roles);
    }
    throw errors.alreadyMember();
  }
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
  if (!target.isOwner && !holdsAllOf(caller, target)) {
    throw errors.forbidden('This caller may not modify a project user holding permissions it does not hold itself.');
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
  if (!holdsAllOf(caller, target)) {
    throw errors.forbidden('This caller may not remove a project user holding permissions it does not hold itself.');
  }
}

/** Only the owner transfers ownership (a `global` key may do everything in its org, this too). */
export function authorizeTransfer(caller: ProjectCaller): void {
  if (!canSeeProject(caller)) throw errors.notFound();
  if (!has(caller, 'project:transfer-ownership')) {
    throw errors.forbidden('Only the project owner can transfer ownership.');
  }
}

/** Visibility, the first check about a project (SPEC §1 order of checks): a hidden project is 404. */
export function assertVisible(caller: ProjectCaller): void {
  if (!canSeeProject(caller)) throw errors.notFound();
}

/**
 * Reading the project, its members and `me` needs `project:read` (SPEC §1), like any permission:
 * a member whose roles are custom ones without it may not read, as `POST …/check` says (SPEC §7).
 */
export function authorizeRead(caller: ProjectCaller): void {
  assertVisible(caller);
  if (!mayRead(caller)) throw errors.forbidden('Reading this project needs the project:read permission.');
}

/** Whether the caller may read the project (what `authorizeRead` lets through): lists show no more. */
export function mayRead(caller: ProjectCaller): boolean {
  return canSeeProject(caller) && has(caller, 'project:read');
}

function sameRoles(a: readonly Role[], b: readonly Role[]): boolean {
  return sameRoleSet(a, b);
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

/**
 * The keys a caller can list, and so may know of: its own user's keys, or anyone's with org
 * owner/admin rights; a pinned caller only keys pinned to the same project (nothing that names
 * another project, and none that reaches further than itself).
 */
export function canSeeKey(caller: OrgCaller, key: { userId: string; projectId?: string | null }): boolean {
  if (caller.pinnedProjectId && (key.projectId ?? null) !== caller.pinnedProjectId) return false;
  return key.userId === caller.userId || caller.scope === 'global' || isOrgAdmin(caller);
}

/** Reading one key: a key the caller could not list is 404, like a key ID nobody has (SPEC §1). */
export function authorizeKeyRead(caller: OrgCaller, key: { userId: string; projectId?: string | null }): void {
  if (!canSeeKey(caller, key)) throw errors.notFound();
}

/**
 * Revoking: a `read` key never writes (403); a key the caller cannot list is 404, the answer for
 * a key ID nobody has (no existence oracle, SPEC §1); another user's key needs org-level rights.
 */
export function authorizeKeyRevoke(caller: OrgCaller, key: { userId: string; projectId?: string | null }): KeyGrantRule {
  assertWriteScope(caller.scope);
  if (!canSeeKey(caller, key)) throw errors.notFound();
  if (key.userId === caller.userId) return 'self';
  authorizeOrgWrite(caller);
  return 'org-admin';
}

export function authorizeKeyList(caller: OrgCaller, userId: string): void {
  if (userId === caller.userId) return;
  authorizeOrgRead(caller);
}
