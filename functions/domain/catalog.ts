import { errors } from './errors.js';
import { ID_PATTERN } from './ids.js';
import { CATALOG_LIMITS } from './limits.js';

/**
 * Roles and permissions as an organization's data (SPEC §6). The catalog is the system
 * permissions plus the org's custom ones; roles are the four built-in ones (whose system
 * permissions are fixed, but which may gain or lose custom permissions) plus custom `rol_…` roles.
 * Pure: the store loads and versions a catalog, these functions decide with it.
 */
export const SYSTEM_PERMISSIONS = [
  'project:read',
  'project:write',
  'members:manage',
  'members:grant-admin',
  'project:transfer-ownership',
] as const;
export type SystemPermission = (typeof SYSTEM_PERMISSIONS)[number];

/** Built-in roles, weakest first; their IDs are their names. */
export const BUILT_IN_ROLES = ['viewer', 'editor', 'manager', 'admin'] as const;
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number];

/** A role ID: a built-in role's name or a custom role's `rol_…` ID. */
export type RoleId = string;

const BUILT_IN_SYSTEM_PERMISSIONS: Record<BuiltInRole, readonly SystemPermission[]> = {
  viewer: ['project:read'],
  editor: ['project:read', 'project:write'],
  manager: ['project:read', 'project:write', 'members:manage'],
  admin: ['project:read', 'project:write', 'members:manage', 'members:grant-admin'],
};

/** Ownership is the owner's alone (SPEC §1): `admin` holds every other permission of the catalog. */
export const OWNER_ONLY_PERMISSIONS: readonly string[] = ['project:transfer-ownership'];

export const PERMISSION_KEY_PATTERN = /^[a-z][a-z0-9-]{0,31}:[a-z][a-z0-9-]{0,31}$/;
export const RESERVED_RESOURCES = ['project', 'members', 'roles', 'keys', 'org'] as const;

/** The most a catalog can hold, built-in entries included: small enough to list as one page. */
export const MAX_CATALOG_SIZE = {
  permissions: SYSTEM_PERMISSIONS.length + CATALOG_LIMITS.customPermissionsPerOrg,
  roles: BUILT_IN_ROLES.length + CATALOG_LIMITS.customRolesPerOrg,
};

export interface CustomPermission {
  key: string;
  description: string | null;
  createdAt: string;
}

/** What is stored of a role: a built-in role stores only the custom permissions it gained. */
export interface StoredRole {
  roleId: RoleId;
  name: string;
  description: string | null;
  /** Custom roles: all their permissions. Built-in roles: the custom permissions they gained. */
  permissions: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** An org's catalog as stored, with the version every membership write re-asserts. */
export interface Catalog {
  version: number;
  permissions: Record<string, CustomPermission>;
  roles: Record<RoleId, StoredRole>;
}

export const EMPTY_CATALOG: Catalog = Object.freeze({ version: 0, permissions: {}, roles: {} }) as Catalog;

/** A role as the API shows it. */
export interface RoleView {
  roleId: RoleId;
  name: string;
  description: string | null;
  permissions: string[];
  builtIn: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  version: number;
}

/** A well-formed role ID (whether or not the org has it): where a filter names a role. */
export function isRoleIdFormat(value: string): boolean {
  return isBuiltInRole(value) || ID_PATTERN.role.test(value);
}

export function isBuiltInRole(roleId: string): roleId is BuiltInRole {
  return (BUILT_IN_ROLES as readonly string[]).includes(roleId);
}

export function isSystemPermission(key: string): key is SystemPermission {
  return (SYSTEM_PERMISSIONS as readonly string[]).includes(key);
}

/** Every permission of the catalog, system ones first, then custom ones by key. */
export function allPermissions(catalog: Catalog): string[] {
  return [...SYSTEM_PERMISSIONS, ...Object.keys(catalog.permissions).sort()];
}

/**
 * The stored role of this ID, if the org has one. Role IDs in requests are free strings (an
 * unknown one is 409 `unknown_role`), so `toString` or `__proto__` must not find Object.prototype.
 */
export function storedRole(catalog: Catalog, roleId: RoleId): StoredRole | undefined {
  return Object.hasOwn(catalog.roles, roleId) ? catalog.roles[roleId] : undefined;
}

/** The org's custom permission of this key, if it has one (own properties only, as storedRole). */
export function customPermission(catalog: Catalog, key: string): CustomPermission | undefined {
  return Object.hasOwn(catalog.permissions, key) ? catalog.permissions[key] : undefined;
}

export function roleExists(catalog: Catalog, roleId: string): boolean {
  return isBuiltInRole(roleId) || storedRole(catalog, roleId) !== undefined;
}

/**
 * The permissions a role grants, given the catalog it lives in. No role grants an owner-only
 * permission (a role stored with one before roles were refused it grants it no more).
 */
export function rolePermissions(catalog: Catalog, roleId: RoleId): string[] {
  const stored = roleId === 'admin' ? allPermissions(catalog) : (storedRole(catalog, roleId)?.permissions ?? []);
  const base: readonly string[] = isBuiltInRole(roleId) ? BUILT_IN_SYSTEM_PERMISSIONS[roleId] : [];
  const granted = new Set([...base, ...stored]);
  return allPermissions(catalog).filter((p) => granted.has(p) && !OWNER_ONLY_PERMISSIONS.includes(p));
}

export function roleView(catalog: Catalog, roleId: RoleId): RoleView | null {
  if (!roleExists(catalog, roleId)) return null;
  const stored = storedRole(catalog, roleId);
  return {
    roleId,
    name: stored?.name ?? roleId,
    description: stored?.description ?? (isBuiltInRole(roleId) ? `Built-in role ${roleId}` : null),
    permissions: rolePermissions(catalog, roleId),
    builtIn: isBuiltInRole(roleId),
    createdAt: stored?.createdAt ?? null,
    updatedAt: stored?.updatedAt ?? null,
    version: stored?.version ?? 1,
  };
}

/** Built-in roles first (weakest first), then custom roles by ID (which sorts by creation). */
export function listRoles(catalog: Catalog): RoleView[] {
  const custom = Object.keys(catalog.roles).filter((id) => !isBuiltInRole(id)).sort();
  return [...BUILT_IN_ROLES, ...custom].map((id) => roleView(catalog, id)!);
}

/** Role IDs in canonical order, without duplicates: built-in ladder first, then custom by ID. */
export function normalizeRoles(roles: readonly string[]): RoleId[] {
  const unique = [...new Set(roles)];
  const builtIn = BUILT_IN_ROLES.filter((role) => unique.includes(role));
  const custom = unique.filter((role) => !isBuiltInRole(role)).sort();
  return [...builtIn, ...custom];
}

/** Unknown role IDs are a 409 `unknown_role`, as before roles became data. */
export function assertKnownRoles(catalog: Catalog, roles: readonly string[]): RoleId[] {
  const unknown = roles.filter((role) => !roleExists(catalog, role));
  if (unknown.length > 0) throw errors.unknownRole([...new Set(unknown)], listRoles(catalog).map((r) => r.roleId));
  return normalizeRoles(roles);
}

export function sameRoleSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((role) => right.has(role));
}

/** A membership's own permissions (whatever key is used) and, for each, what grants it. */
export function membershipGrants(catalog: Catalog, member: { roles: readonly RoleId[]; isOwner: boolean }): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  if (member.isOwner) {
    for (const permission of allPermissions(catalog)) grants.set(permission, ['owner']);
  }
  for (const roleId of normalizeRoles(member.roles)) {
    for (const permission of rolePermissions(catalog, roleId)) {
      grants.set(permission, [...(grants.get(permission) ?? []), `role:${roleId}`]);
    }
  }
  return new Map(allPermissions(catalog).filter((p) => grants.has(p)).map((p) => [p, grants.get(p)!]));
}

/**
 * Per catalog (catalogs are never changed in place: a change makes a new one), the permissions of
 * each combination of roles seen: a page of 50 members holds a handful of combinations, and the
 * list route would otherwise rebuild the same sets for every member.
 */
const permissionsByRoleSet = new WeakMap<Catalog, Map<string, readonly string[]>>();
/** Bounds the memo of a long-lived catalog (the built-in one) against ever-new role lists. */
const MAX_REMEMBERED_ROLE_SETS = 256;

export function membershipPermissions(catalog: Catalog, member: { roles: readonly RoleId[]; isOwner: boolean }): string[] {
  let memo = permissionsByRoleSet.get(catalog);
  if (!memo) permissionsByRoleSet.set(catalog, (memo = new Map()));
  const combination = `${member.isOwner ? 'owner' : ''}|${member.roles.join(',')}`;
  let permissions = memo.get(combination);
  if (!permissions) {
    if (memo.size >= MAX_REMEMBERED_ROLE_SETS) memo.clear();
    memo.set(combination, (permissions = [...membershipGrants(catalog, member).keys()]));
  }
  return [...permissions];
}

/** A `read` key keeps only the permissions whose action is `read` (SPEC §6). */
export function isReadPermission(permission: string): boolean {
  return permission.endsWith(':read');
}

// ---- catalog writes: validation and limits --------------------------------------------------------

export function assertPermissionKey(key: string): void {
  const field = [{ path: 'body.key', message: 'must be resource:action, lower case' }];
  if (!PERMISSION_KEY_PATTERN.test(key)) {
    throw errors.validation('A permission key is `resource:action`: lower-case letters, digits and dashes, each part 1–32 characters.', field);
  }
  const resource = key.split(':')[0]!;
  if ((RESERVED_RESOURCES as readonly string[]).includes(resource)) {
    throw errors.validation(`The resource "${resource}" is reserved for system permissions (${RESERVED_RESOURCES.join(', ')}).`, [
      { path: 'body.key', message: 'reserved resource' },
    ]);
  }
}

export function assertCanAddPermission(catalog: Catalog, key: string): void {
  assertPermissionKey(key);
  if (customPermission(catalog, key)) throw errors.conflict(`The permission ${key} already exists.`);
  if (Object.keys(catalog.permissions).length >= CATALOG_LIMITS.customPermissionsPerOrg) {
    throw errors.validation(`An organization has at most ${CATALOG_LIMITS.customPermissionsPerOrg} custom permissions.`, [
      { path: 'body.key', message: 'limit reached' },
    ]);
  }
}

/** The roles that include a custom permission (a permission in use cannot be deleted). */
export function rolesUsingPermission(catalog: Catalog, key: string): RoleId[] {
  return Object.values(catalog.roles)
    .filter((role) => role.permissions.includes(key))
    .map((role) => role.roleId)
    .sort();
}

/**
 * The permissions a role may be given: known to the catalog, at most 50. A built-in role keeps
 * its system permissions; it may only gain or lose custom ones.
 */
export function assertRolePermissions(catalog: Catalog, roleId: RoleId | null, permissions: readonly string[]): string[] {
  const unique = [...new Set(permissions)];
  const known = new Set(allPermissions(catalog));
  const unknown = unique.filter((p) => !known.has(p));
  if (unknown.length > 0) {
    throw errors.validation(`Unknown permission(s): ${unknown.join(', ')}. Create them first with POST /api/permissions.`, [
      { path: 'body.permissions', message: `unknown: ${unknown.join(', ')}` },
    ]);
  }
  const ownerOnly = unique.filter((p) => OWNER_ONLY_PERMISSIONS.includes(p));
  if (ownerOnly.length > 0) {
    throw errors.validation(`${ownerOnly.join(', ')} belongs to the project owner alone (SPEC §1): no role can hold it.`, [
      { path: 'body.permissions', message: `owner only: ${ownerOnly.join(', ')}` },
    ]);
  }
  if (unique.length > CATALOG_LIMITS.permissionsPerRole) {
    throw errors.validation(`A role has at most ${CATALOG_LIMITS.permissionsPerRole} permissions.`, [
      { path: 'body.permissions', message: 'too many' },
    ]);
  }
  if (roleId !== null && isBuiltInRole(roleId)) {
    const system = unique.filter(isSystemPermission);
    const fixed = BUILT_IN_SYSTEM_PERMISSIONS[roleId];
    const sameSystem = roleId === 'admin' || (system.length === fixed.length && fixed.every((p) => system.includes(p)));
    if (!sameSystem) {
      throw errors.validation(`The built-in role ${roleId} keeps its system permissions (${fixed.join(', ')}); only custom permissions may change.`, [
        { path: 'body.permissions', message: 'system permissions of a built-in role are fixed' },
      ]);
    }
    return unique.filter((p) => !isSystemPermission(p)).sort();
  }
  return allPermissions(catalog).filter((p) => unique.includes(p));
}

export function assertCanAddRole(catalog: Catalog): void {
  const custom = Object.keys(catalog.roles).filter((id) => !isBuiltInRole(id));
  if (custom.length >= CATALOG_LIMITS.customRolesPerOrg) {
    throw errors.validation(`An organization has at most ${CATALOG_LIMITS.customRolesPerOrg} custom roles.`, [
      { path: 'body', message: 'limit reached' },
    ]);
  }
}
