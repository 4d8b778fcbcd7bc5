import { type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { assertRolePermissions, MAX_CATALOG_SIZE, type Catalog } from '../../domain/catalog.js';
import {
  assertDeletableRole,
  assertRoleChangeRequested,
  decideCreateRole,
  decideDeleteRole,
  decideUpdateRole,
  existingRole,
} from '../../domain/catalog-rules.js';
import { newId } from '../../domain/ids.js';
import { CATALOG_WRITE_RULE, changeCatalog, currentCatalog, idempotentCatalogChange, type CatalogChange } from '../catalog.js';
import { assertIfMatch, etagOf } from '../etag.js';
import { withFreshReads } from '../fresh-reads.js';
import { jsonReply } from '../idempotency.js';
import { idempotencyParameter, IfMatch, json, routeFor } from '../openapi.js';
import { createdHeaders, etagHeader, problems, REFUSALS, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLE_ID } from '../schemas.js';
import {
  CATALOG_LIMITS_TEXT,
  CreateRoleBody,
  EXAMPLE_CATALOG,
  ROLE_EXAMPLES,
  RoleObject,
  RoleParams,
  UpdateRoleBody,
} from '../schemas-roles.js';
import { roleOf, roleViews, type RoleApiView } from '../views-roles.js';
import { onePage } from '../views.js';

/**
 * `/api/roles`: the org's roles (SPEC §6), the four built-in ones (`viewer`, `editor`,
 * `manager`, `admin`) and custom `rol_…` ones. Reading them is open to every key of the org
 * (members need to see what their roles are); changing them is an org-level write
 * (`authorizeOrgWrite`: a `global` key, or a `read-write` key of an org owner/admin, never a
 * pinned key). Every change is one conditional put of the org's catalog item, audited and
 * published (`RoleCreated`, `RoleUpdated`, `RoleDeleted`).
 */
const route = routeFor('Roles and permissions');

const READ_RULE = 'Any API key of the organization may read roles.';

/** A role with its version as ETag. */
function roleResponse(c: Context<AppEnv>, role: RoleApiView) {
  return c.json(role, 200, { ETag: etagOf(role) });
}

const listRoute = route.onePage(RoleObject, 'Every role of the organization', {
  operationId: 'listRoles',
  examples: ROLE_EXAMPLES.roles,
  summary: 'List the roles: built-in ones (weakest first), then custom ones in creation order',
  description: `${READ_RULE} At most ${MAX_CATALOG_SIZE.roles} roles: always one page, \`nextCursor\` is null, and a \`limit\` or \`cursor\` (or any query parameter) is a 400.`,
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => c.json(onePage(roleViews(await currentCatalog(c))), 200);

const getRoute = route.get('/{roleId}', {
  operationId: 'getRole',
  summary: 'Get a role',
  description: `${READ_RULE} A built-in role (by its name) or one of the org's custom \`rol_…\` roles; anything else is 404.`,
  request: { params: RoleParams },
  responses: { 200: { description: 'The role', headers: etagHeader, content: json(RoleObject, ROLE_EXAMPLES.role) }, ...problems(404) },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { roleId } = c.req.valid('param');
  const catalog = await currentCatalog(c);
  existingRole(catalog, roleId);
  return roleResponse(c, roleOf(catalog, roleId)!);
};

const createRoleRoute = route.post('/', {
  operationId: 'createRole',
  parameters: [idempotencyParameter],
  summary: 'Create a custom role',
  description:
    `${CATALOG_WRITE_RULE} Its \`_id\` is a new \`rol_…\` ID. Every permission must be in the catalog (400 otherwise: create it first with ` +
    `\`POST /api/permissions\`). ${CATALOG_LIMITS_TEXT}`,
  request: { body: { required: true, content: json(CreateRoleBody, ROLE_EXAMPLES.createRole) } },
  responses: {
    201: { description: 'Created', headers: createdHeaders, content: json(RoleObject, ROLE_EXAMPLES.role) },
    ...problems(refusal(() => assertRolePermissions(EXAMPLE_CATALOG, null, ['content:archive'])), REFUSALS.orgWrite),
  },
});

const createRole: RouteHandler<typeof createRoleRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  // Chosen once per request, so a retry on fresh reads creates the same role.
  const roleId = newId('role');
  const decide = (before: Catalog): CatalogChange => ({
    ...decideCreateRole(before, roleId, body, new Date().toISOString()),
    action: 'RoleCreated',
    createdRoleId: roleId,
  });
  const created = (catalog: Catalog) => {
    const role = roleOf(catalog, roleId)!;
    return jsonReply(201, role, { ETag: etagOf(role), Location: `/api/roles/${roleId}` });
  };
  return idempotentCatalogChange(c, decide, created);
};

const updateRoute = route.patch('/{roleId}', {
  operationId: 'updateRole',
  summary: "Change a role's name, description or permissions",
  description:
    `${CATALOG_WRITE_RULE} Honours \`If-Match\` (412 when stale). Built-in roles keep their name, description and system permissions ` +
    '(400 otherwise) but may gain or lose custom permissions; `admin` always holds every permission of the catalog. ' +
    `The change binds at once: the next membership write is checked against it. ${CATALOG_LIMITS_TEXT}`,
  request: { params: RoleParams, headers: IfMatch, body: { required: true, content: json(UpdateRoleBody, ROLE_EXAMPLES.updateRole) } },
  responses: {
    200: { description: 'Updated', headers: etagHeader, content: json(RoleObject, ROLE_EXAMPLES.updatedRole) },
    ...problems(
      refusal(() => decideUpdateRole(EXAMPLE_CATALOG, 'viewer', { name: 'Reader' }, ROLE_EXAMPLES.role.createdAt!)),
      REFUSALS.orgWrite,
      404,
      412,
    ),
  },
});

const update: RouteHandler<typeof updateRoute, AppEnv> = async (c) => {
  const { roleId } = c.req.valid('param');
  const body = c.req.valid('json');
  assertRoleChangeRequested(body);
  const ifMatch = c.req.header('If-Match');
  const { store } = c.var.services;
  const decide = (before: Catalog): CatalogChange | null => {
    assertIfMatch(ifMatch, existingRole(before, roleId).version);
    const decision = decideUpdateRole(before, roleId, body, new Date().toISOString());
    return decision && { ...decision, action: 'RoleUpdated' };
  };
  const catalog = await withFreshReads(c, (principal) => changeCatalog(store, principal, decide));
  return roleResponse(c, roleOf(catalog, roleId)!);
};

const removeRoute = route.delete('/{roleId}', {
  operationId: 'deleteRole',
  summary: 'Delete a custom role',
  description:
    `${CATALOG_WRITE_RULE} Honours \`If-Match\`. 409 \`role_in_use\` with \`holders\` (the memberships holding it, in every project) while any does: ` +
    'change or remove them first. Built-in roles cannot be deleted (409 `conflict`). No membership can gain the role while it is being deleted.',
  request: { params: RoleParams, headers: IfMatch },
  responses: {
    204: { description: 'Deleted' },
    ...problems(
      REFUSALS.orgWrite,
      404,
      refusal(() => decideDeleteRole(EXAMPLE_CATALOG, EXAMPLE_ID.role, 3)),
      refusal(() => assertDeletableRole(EXAMPLE_CATALOG, 'viewer')),
      412,
    ),
  },
});

const remove: RouteHandler<typeof removeRoute, AppEnv> = async (c) => {
  const { roleId } = c.req.valid('param');
  const ifMatch = c.req.header('If-Match');
  const { store } = c.var.services;
  const decide = async (before: Catalog): Promise<CatalogChange> => {
    assertDeletableRole(before, roleId);
    assertIfMatch(ifMatch, existingRole(before, roleId).version);
    // Counted at a grants version: an assignment committing meanwhile makes the delete stale, and it counts again.
    const { holders, grantsVersion } = await store.roleHolders(roleId);
    return { ...decideDeleteRole(before, roleId, holders), action: 'RoleDeleted', deletedRole: { roleId, grantsVersion } };
  };
  await withFreshReads(c, (principal) => changeCatalog(store, principal, decide));
  return c.body(null, 204);
};

export const roleRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(getRoute, get)
  .openapi(createRoleRoute, createRole)
  .openapi(updateRoute, update)
  .openapi(removeRoute, remove);
