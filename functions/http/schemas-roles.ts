import { z } from '@hono/zod-openapi';
import {
  BUILT_IN_ROLES,
  isRoleIdFormat,
  PERMISSION_KEY_PATTERN,
  RESERVED_RESOURCES,
  SYSTEM_PERMISSIONS,
  type Catalog,
} from '../domain/catalog.js';
import { catalogAfter, decideUpdateRole } from '../domain/catalog-rules.js';
import { CATALOG_LIMITS, MAX_PERMISSION_KEY_LENGTH, MAX_ROLE_ID_LENGTH } from '../domain/limits.js';
import { TEXT_RULE } from '../domain/text.js';
import { EXAMPLE_ID, nameText, storableText, timestamp } from './schemas.js';
import { permissionView, permissionViews, roleOf, roleViews } from './views-roles.js';

/**
 * Request and response schemas of the org's roles and permissions (SPEC §6): `/api/permissions`
 * and `/api/roles`. Request objects are strict (an unknown field is a 400). The rules that need
 * the catalog (unknown or reserved permissions, limits, built-in roles) are the domain's
 * (functions/domain/catalog.ts); the descriptions here state them for the OpenAPI document.
 */

const quoted = (items: readonly string[]) => items.map((item) => `\`${item}\``);
const reserved = quoted(RESERVED_RESOURCES).join(', ');
const builtIn = quoted(BUILT_IN_ROLES).join(', ');
const LIMITS =
  `Limits: ${CATALOG_LIMITS.customPermissionsPerOrg} custom permissions and ${CATALOG_LIMITS.customRolesPerOrg} custom roles ` +
  `per organization, ${CATALOG_LIMITS.permissionsPerRole} permissions per role (400 past them).`;

/** A permission key as a request names it; its rules (pattern, reserved resources) are checked by the domain, with clear 400s. */
export const PermissionKey = z
  .string()
  .min(1)
  .max(MAX_PERMISSION_KEY_LENGTH)
  .openapi({
    pattern: PERMISSION_KEY_PATTERN.source,
    description:
      `\`resource:action\`: lower-case letters, digits and dashes, each part 1–32 characters, starting with a letter. ` +
      `The resources ${reserved} are reserved for the system permissions (${SYSTEM_PERMISSIONS.join(', ')}).`,
    example: 'content:publish',
  });

/** A permission key in a path: a malformed one is a 400 (no such permission can exist). */
export const PermissionParams = z.object({
  key: z
    .string()
    .regex(PERMISSION_KEY_PATTERN, 'must be a permission key resource:action')
    .openapi({ param: { name: 'key', in: 'path' }, example: 'content:publish' }),
});

/** A role ID in a path: a built-in role's name or a custom `rol_…` ID; anything else is a 400. */
export const RoleParams = z.object({
  roleId: z
    .string()
    .max(MAX_ROLE_ID_LENGTH)
    .refine(isRoleIdFormat, `must be a built-in role (${BUILT_IN_ROLES.join(', ')}) or a custom role ID rol_…`)
    .openapi({ param: { name: 'roleId', in: 'path' }, example: EXAMPLE_ID.role }),
});

const description = z
  .string()
  .max(CATALOG_LIMITS.descriptionLength)
  .superRefine(storableText({ prose: true }))
  .openapi({ description: `At most ${CATALOG_LIMITS.descriptionLength} characters; line breaks and tabs allowed, otherwise ${TEXT_RULE}` });
const roleName = nameText(CATALOG_LIMITS.roleNameLength);
const permissionList = z
  .array(z.string().min(1).max(MAX_PERMISSION_KEY_LENGTH))
  .max(CATALOG_LIMITS.permissionsPerRole)
  .openapi({
    description:
      `0–${CATALOG_LIMITS.permissionsPerRole} permission keys of the catalog (system or custom; duplicates are ignored). ` +
      'An unknown key is a 400: create it first with `POST /api/permissions`.',
    example: ['project:read', 'content:publish'],
  });

// ---- responses -------------------------------------------------------------------------------

export const CatalogPermission = z
  .object({
    key: z.string().openapi({ example: 'content:publish' }),
    description: z.string().nullable(),
    builtIn: z.boolean().openapi({ description: 'A system permission: fixed, cannot be deleted' }),
    createdAt: timestamp.nullable().openapi({ description: 'null for system permissions' }),
  })
  .openapi('Permission');

export const RoleObject = z
  .object({
    _id: z.string().openapi({ description: `A built-in role (${builtIn}) or a custom role \`rol_…\``, example: EXAMPLE_ID.role }),
    name: z.string(),
    description: z.string().nullable(),
    permissions: z.array(z.string()).openapi({
      description: 'Every permission the role grants, system ones first. `admin` holds every permission of the catalog but `project:transfer-ownership` (the owner\'s).',
    }),
    builtIn: z.boolean(),
    createdAt: timestamp.nullable().openapi({ description: 'null for built-in roles' }),
    updatedAt: timestamp.nullable().openapi({ description: 'null for a built-in role never changed' }),
    version: z.number().int().openapi({ description: 'Also the ETag; send it back in If-Match' }),
  })
  .openapi('Role');

// ---- requests --------------------------------------------------------------------------------

export const CreatePermissionBody = z
  .strictObject({ key: PermissionKey, description: description.optional() })
  .openapi('CreatePermission', {
    description:
      `A custom permission. 400 for a malformed key or a reserved resource (${reserved}), or past ` +
      `${CATALOG_LIMITS.customPermissionsPerOrg} custom permissions; 409 \`conflict\` if it exists.`,
  });

export const CreateRoleBody = z
  .strictObject({ name: roleName, description: description.optional(), permissions: permissionList })
  .openapi('CreateRole', { description: `A custom role \`rol_…\`. ${LIMITS}` });

export const UpdateRoleBody = z
  .strictObject({ name: roleName.optional(), description: description.nullable().optional(), permissions: permissionList.optional() })
  .openapi('UpdateRole', {
    description:
      `At least one field. A built-in role (${builtIn}) keeps its name, description and system permissions: ` +
      '`permissions` must list its system permissions and may add or drop custom ones (`admin` always holds every permission). ' +
      LIMITS,
  });

/** A permission key's rules, for the routes' descriptions. */
export const PERMISSION_KEY_TEXT =
  `The key is \`resource:action\` (\`${PERMISSION_KEY_PATTERN.source}\`); the resources ` +
  `${quoted(RESERVED_RESOURCES.slice(0, -1)).join(', ')} and \`${RESERVED_RESOURCES.at(-1)}\` are reserved for system permissions (400).`;

export { LIMITS as CATALOG_LIMITS_TEXT };

// ---- examples --------------------------------------------------------------------------------

/** An org's catalog with one custom permission and one custom role, shown as the API shows it (views-roles.ts). */
const at = '2025-06-02T09:30:00.000Z';
export const EXAMPLE_CATALOG: Catalog = {
  version: 2,
  permissions: { 'content:publish': { key: 'content:publish', description: 'Publish content', createdAt: at } },
  roles: {
    [EXAMPLE_ID.role]: {
      roleId: EXAMPLE_ID.role,
      name: 'Publisher',
      description: 'Reads the project and publishes its content',
      permissions: ['project:read', 'content:publish'],
      createdAt: at,
      updatedAt: at,
      version: 1,
    },
  },
};

const updateRole = { permissions: ['project:read', 'project:write', 'content:publish'] } satisfies z.input<typeof UpdateRoleBody>;

export const ROLE_EXAMPLES = {
  permission: permissionView(EXAMPLE_CATALOG, 'content:publish')! satisfies z.input<typeof CatalogPermission>,
  permissions: permissionViews(EXAMPLE_CATALOG) satisfies z.input<typeof CatalogPermission>[],
  role: roleOf(EXAMPLE_CATALOG, EXAMPLE_ID.role)! satisfies z.input<typeof RoleObject>,
  roles: roleViews(EXAMPLE_CATALOG) satisfies z.input<typeof RoleObject>[],
  createPermission: { key: 'content:publish', description: 'Publish content' } satisfies z.input<typeof CreatePermissionBody>,
  createRole: {
    name: 'Publisher',
    description: 'Reads the project and publishes its content',
    permissions: ['project:read', 'content:publish'],
  } satisfies z.input<typeof CreateRoleBody>,
  updateRole,
  /** The example role once `updateRole` is applied, as the domain decides it: what the PATCH answers. */
  updatedRole: roleOf(
    catalogAfter(EXAMPLE_CATALOG, decideUpdateRole(EXAMPLE_CATALOG, EXAMPLE_ID.role, updateRole, '2025-06-03T14:05:00.000Z')!.after),
    EXAMPLE_ID.role,
  )! satisfies z.input<typeof RoleObject>,
};
