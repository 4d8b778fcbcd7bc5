import {
  allPermissions,
  customPermission,
  isSystemPermission,
  listRoles,
  roleView,
  type Catalog,
  type RoleView,
  type SystemPermission,
} from '../domain/catalog.js';

/** The representations of `/api/permissions` and `/api/roles`, as schemas-roles.ts declares them. */

const SYSTEM_PERMISSION_DESCRIPTIONS: Record<SystemPermission, string> = {
  'project:read': 'See the project and its members',
  'project:write': 'Change the project',
  'members:manage': 'Add, change and remove project users (granting only roles whose permissions the caller holds)',
  'members:grant-admin': 'Grant and revoke the admin role',
  'project:transfer-ownership': "Transfer the project's ownership (the owner's alone)",
};

export function permissionView(catalog: Catalog, key: string) {
  if (isSystemPermission(key)) return { key, description: SYSTEM_PERMISSION_DESCRIPTIONS[key], builtIn: true, createdAt: null };
  const custom = customPermission(catalog, key);
  if (!custom) return null;
  return { key, description: custom.description ?? null, builtIn: false, createdAt: custom.createdAt };
}

/** System permissions first, then the org's custom ones by key. */
export function permissionViews(catalog: Catalog) {
  return allPermissions(catalog).map((key) => permissionView(catalog, key)!);
}

export function roleApiView(role: RoleView) {
  return {
    _id: role.roleId,
    name: role.name,
    description: role.description,
    permissions: role.permissions,
    builtIn: role.builtIn,
    // A built-in role was never created; a stored change of one (its custom permissions) does not create it.
    createdAt: role.builtIn ? null : role.createdAt,
    updatedAt: role.updatedAt,
    version: role.version,
  };
}

export type RoleApiView = ReturnType<typeof roleApiView>;

/** A role of the catalog as the API shows it, or null when the org has no such role. */
export function roleOf(catalog: Catalog, roleId: string): RoleApiView | null {
  const view = roleView(catalog, roleId);
  return view ? roleApiView(view) : null;
}

/** Built-in roles first (weakest first), then custom roles in creation order. */
export function roleViews(catalog: Catalog): RoleApiView[] {
  return listRoles(catalog).map(roleApiView);
}
