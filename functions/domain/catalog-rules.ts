import {
  assertCanAddPermission,
  assertCanAddRole,
  assertRolePermissions,
  customPermission,
  isBuiltInRole,
  isSystemPermission,
  roleView,
  rolesUsingPermission,
  storedRole,
  type Catalog,
  type CustomPermission,
  type RoleId,
  type RoleView,
  type StoredRole,
} from './catalog.js';
import { errors } from './errors.js';
import { CATALOG_LIMITS } from './limits.js';
import { textProblem } from './text.js';

/**
 * The decisions of the org's catalog management (SPEC §6) on a catalog as read: each either
 * throws the answer (a DomainError) or returns the catalog to write and its audit record. Used by
 * the API (functions/http/routes/permissions.ts, roles.ts) and the admin CLI alike; the store
 * writes the result conditioned on the version the decision was made with.
 */

export type CatalogContent = Omit<Catalog, 'version'>;

/** The catalog once a change decided on `before` is written: its content, one version on. */
export function catalogAfter(before: Catalog, after: CatalogContent): Catalog {
  return { ...after, version: before.version + 1 };
}

export interface CatalogDecision {
  after: CatalogContent;
  audit: { before?: Record<string, unknown>; after?: Record<string, unknown> };
}

function permissionSnapshot(permission: CustomPermission): Record<string, unknown> {
  return { key: permission.key, description: permission.description };
}

function roleSnapshot(role: RoleView): Record<string, unknown> {
  return { roleId: role.roleId, name: role.name, description: role.description, permissions: role.permissions, builtIn: role.builtIn, version: role.version };
}

function assertDescription(description: string | null | undefined, path: string): void {
  if (description == null) return;
  if (description.length > CATALOG_LIMITS.descriptionLength) {
    throw errors.validation(`A description has at most ${CATALOG_LIMITS.descriptionLength} characters.`, [{ path, message: 'too long' }]);
  }
  const problem = textProblem(description, { prose: true });
  if (problem) throw errors.validation(`A description ${problem}.`, [{ path, message: problem }]);
}

/** The schema trims and bounds names for the API; the admin CLI gets the same rule here. */
function roleName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > CATALOG_LIMITS.roleNameLength) {
    throw errors.validation(`A role name has 1 to ${CATALOG_LIMITS.roleNameLength} characters.`, [{ path: 'body.name', message: 'invalid length' }]);
  }
  const problem = textProblem(trimmed);
  if (problem) throw errors.validation(`A role name ${problem}.`, [{ path: 'body.name', message: problem }]);
  return trimmed;
}

// ---- permissions ------------------------------------------------------------------------------

export function decideCreatePermission(
  catalog: Catalog,
  request: { key: string; description?: string | null },
  now: string,
): CatalogDecision & { permission: CustomPermission } {
  assertCanAddPermission(catalog, request.key);
  assertDescription(request.description, 'body.description');
  const permission: CustomPermission = { key: request.key, description: request.description ?? null, createdAt: now };
  return {
    permission,
    after: { permissions: { ...catalog.permissions, [permission.key]: permission }, roles: catalog.roles },
    audit: { after: permissionSnapshot(permission) },
  };
}

/** System permissions are fixed (409); an unknown one is 404; one a role includes is 409 `permission_in_use`. */
export function decideDeletePermission(catalog: Catalog, key: string): CatalogDecision {
  if (isSystemPermission(key)) throw errors.conflict(`${key} is a system permission: it cannot be deleted.`);
  const permission = customPermission(catalog, key);
  if (!permission) throw errors.notFound();
  const usedBy = rolesUsingPermission(catalog, key);
  if (usedBy.length > 0) throw errors.permissionInUse(usedBy);
  const { [key]: _deleted, ...permissions } = catalog.permissions;
  return { after: { permissions, roles: catalog.roles }, audit: { before: permissionSnapshot(permission) } };
}

// ---- roles ------------------------------------------------------------------------------------

/** A role of the catalog (built-in or custom), or 404. */
export function existingRole(catalog: Catalog, roleId: string): RoleView {
  const view = roleView(catalog, roleId);
  if (!view) throw errors.notFound();
  return view;
}

export interface CreateRoleRequest {
  name: string;
  description?: string | null;
  permissions: readonly string[];
}

/** A new custom role with the ID the caller chose (`newId('role')`, chosen once per request). */
export function decideCreateRole(catalog: Catalog, roleId: RoleId, request: CreateRoleRequest, now: string): CatalogDecision & { role: StoredRole } {
  const name = roleName(request.name);
  assertDescription(request.description, 'body.description');
  assertCanAddRole(catalog);
  const permissions = assertRolePermissions(catalog, null, request.permissions);
  const role: StoredRole = { roleId, name, description: request.description ?? null, permissions, createdAt: now, updatedAt: now, version: 1 };
  const after = { permissions: catalog.permissions, roles: { ...catalog.roles, [roleId]: role } };
  return { role, after, audit: { after: roleSnapshot(roleView(catalogAfter(catalog, after), roleId)!) } };
}

export interface UpdateRoleRequest {
  name?: string;
  description?: string | null;
  permissions?: readonly string[];
}

/** A change names something to change; checked before anything is read. */
export function assertRoleChangeRequested(request: UpdateRoleRequest): void {
  if (request.name === undefined && request.description === undefined && request.permissions === undefined) {
    throw errors.validation('Nothing to change: send name, description or permissions.', [
      { path: 'body', message: 'expected at least one of name, description, permissions' },
    ]);
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
};

/**
 * A role's change, or null when it changes nothing. Built-in roles keep their name, description
 * and system permissions (400 otherwise) and may gain or lose custom permissions; `admin` holds
 * every permission of the catalog, so its permissions cannot change.
 */
export function decideUpdateRole(catalog: Catalog, roleId: RoleId, request: UpdateRoleRequest, now: string): CatalogDecision | null {
  const current = existingRole(catalog, roleId);
  const stored = storedRole(catalog, roleId);
  assertDescription(request.description, 'body.description');
  let name: string;
  let description: string | null;
  let permissions: string[];
  if (isBuiltInRole(roleId)) {
    if (request.name !== undefined && request.name.trim() !== current.name) {
      throw errors.validation(`The built-in role ${roleId} cannot be renamed.`, [{ path: 'body.name', message: 'built-in roles keep their name' }]);
    }
    if (request.description !== undefined && request.description !== current.description) {
      throw errors.validation(`The description of the built-in role ${roleId} cannot change.`, [
        { path: 'body.description', message: 'built-in roles keep their description' },
      ]);
    }
    if (roleId === 'admin' && request.permissions !== undefined && !sameSet(request.permissions, current.permissions)) {
      throw errors.validation(
        'The built-in role admin holds every permission of the catalog (but the owner\'s project:transfer-ownership): its permissions cannot change.',
        [{ path: 'body.permissions', message: 'admin holds every permission' }],
      );
    }
    name = roleId;
    description = null;
    permissions =
      request.permissions === undefined || roleId === 'admin'
        ? (stored?.permissions ?? [])
        : assertRolePermissions(catalog, roleId, request.permissions);
  } else {
    name = request.name === undefined ? stored!.name : roleName(request.name);
    description = request.description === undefined ? stored!.description : request.description;
    permissions = request.permissions === undefined ? stored!.permissions : assertRolePermissions(catalog, roleId, request.permissions);
  }
  const unchanged =
    (stored?.name ?? roleId) === name && (stored?.description ?? null) === description && sameSet(stored?.permissions ?? [], permissions);
  if (unchanged) return null;
  const role: StoredRole = {
    roleId,
    name,
    description,
    permissions,
    createdAt: stored?.createdAt ?? now,
    updatedAt: now,
    version: current.version + 1,
  };
  const after = { permissions: catalog.permissions, roles: { ...catalog.roles, [roleId]: role } };
  const next = roleView(catalogAfter(catalog, after), roleId)!;
  return { after, audit: { before: roleSnapshot(current), after: roleSnapshot(next) } };
}

/**
 * Deleting a role, once its holders are counted: built-in roles are 409 `conflict`, an unknown
 * role 404, a role any membership holds 409 `role_in_use` with the count.
 */
export function decideDeleteRole(catalog: Catalog, roleId: RoleId, holders: number): CatalogDecision {
  if (isBuiltInRole(roleId)) throw errors.conflict(`${roleId} is a built-in role: it cannot be deleted.`);
  const current = existingRole(catalog, roleId);
  if (holders > 0) throw errors.roleInUse(holders);
  const { [roleId]: _deleted, ...roles } = catalog.roles;
  return { after: { permissions: catalog.permissions, roles }, audit: { before: roleSnapshot(current) } };
}

/** Whether a role can be deleted at all, before its holders are counted (a built-in or unknown one never). */
export function assertDeletableRole(catalog: Catalog, roleId: RoleId): void {
  if (isBuiltInRole(roleId)) throw errors.conflict(`${roleId} is a built-in role: it cannot be deleted.`);
  existingRole(catalog, roleId);
}
