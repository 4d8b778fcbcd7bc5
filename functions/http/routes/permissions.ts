import { type RouteHandler } from '@hono/zod-openapi';
import { assertCanAddPermission, assertPermissionKey, MAX_CATALOG_SIZE } from '../../domain/catalog.js';
import { decideCreatePermission, decideDeletePermission } from '../../domain/catalog-rules.js';
import { errors } from '../../domain/errors.js';
import type { Catalog } from '../../domain/catalog.js';
import { CATALOG_WRITE_RULE, changeCatalog, currentCatalog, idempotentCatalogChange, type CatalogChange } from '../catalog.js';
import { assertIfMatch, etagOf } from '../etag.js';
import { withFreshReads } from '../fresh-reads.js';
import { jsonReply } from '../idempotency.js';
import { idempotencyParameter, IfMatch, json, routeFor } from '../openapi.js';
import { createdHeaders, etagHeader, problems, REFUSALS, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import {
  CATALOG_LIMITS_TEXT,
  CatalogPermission,
  CreatePermissionBody,
  EXAMPLE_CATALOG,
  PERMISSION_KEY_TEXT,
  PermissionParams,
  ROLE_EXAMPLES,
} from '../schemas-roles.js';
import { permissionView, permissionViews } from '../views-roles.js';
import { onePage } from '../views.js';

/**
 * `/api/permissions`: the org's permission catalog (SPEC §6), the system permissions and the
 * org's custom `resource:action` ones. Reading it is open to every key of the org (members need
 * to know what roles grant); changing it is an org-level write (`authorizeOrgWrite`: a `global`
 * key, or a `read-write` key of an org owner/admin, never a pinned key).
 */
const route = routeFor('Roles and permissions');

const READ_RULE = 'Any API key of the organization may read the catalog.';

const listRoute = route.onePage(CatalogPermission, 'The whole catalog', {
  operationId: 'listPermissions',
  examples: ROLE_EXAMPLES.permissions,
  summary: 'List the permission catalog: system permissions, then the custom ones',
  description: `${READ_RULE} The catalog is small (at most ${MAX_CATALOG_SIZE.permissions} entries), so it is always one page: \`nextCursor\` is null, and a \`limit\` or \`cursor\` (or any query parameter) is a 400.`,
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => c.json(onePage(permissionViews(await currentCatalog(c))), 200);

const getRoute = route.get('/{key}', {
  operationId: 'getPermission',
  summary: 'Get a permission of the catalog',
  description: `${READ_RULE} A system permission or one of the org's custom ones; anything else is 404.`,
  request: { params: PermissionParams },
  responses: { 200: { description: 'The permission', headers: etagHeader, content: json(CatalogPermission, ROLE_EXAMPLES.permission) }, ...problems(404) },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { key } = c.req.valid('param');
  const catalog = await currentCatalog(c);
  const view = permissionView(catalog, key);
  if (!view) throw errors.notFound();
  return c.json(view, 200, { ETag: etagOf(view) });
};

const createPermissionRoute = route.post('/', {
  operationId: 'createPermission',
  parameters: [idempotencyParameter],
  summary: 'Create a custom permission',
  description:
    `${CATALOG_WRITE_RULE} ${PERMISSION_KEY_TEXT} 409 \`conflict\` if the org has it already. ${CATALOG_LIMITS_TEXT}`,
  request: { body: { required: true, content: json(CreatePermissionBody, ROLE_EXAMPLES.createPermission) } },
  responses: {
    201: { description: 'Created', headers: createdHeaders, content: json(CatalogPermission, ROLE_EXAMPLES.permission) },
    ...problems(
      refusal(() => assertPermissionKey('project:publish')),
      REFUSALS.orgWrite,
      refusal(() => assertCanAddPermission(EXAMPLE_CATALOG, 'content:publish')),
    ),
  },
});

const createPermission: RouteHandler<typeof createPermissionRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const decide = (before: Catalog): CatalogChange => {
    assertPermissionKey(body.key);
    return { ...decideCreatePermission(before, body, new Date().toISOString()), action: 'PermissionCreated' };
  };
  const created = (catalog: Catalog) => {
    const view = permissionView(catalog, body.key)!;
    return jsonReply(201, view, { Location: `/api/permissions/${body.key}`, ETag: etagOf(view) });
  };
  return idempotentCatalogChange(c, decide, created);
};

const removeRoute = route.delete('/{key}', {
  operationId: 'deletePermission',
  summary: 'Delete a custom permission',
  description:
    `${CATALOG_WRITE_RULE} 409 \`permission_in_use\` (with \`roleIds\`) while a role includes it: remove it from those roles first. ` +
    'System permissions cannot be deleted (409 `conflict`); an unknown permission is 404. Honours `If-Match` with the permission\'s `ETag` (412 when stale).',
  request: { params: PermissionParams, headers: IfMatch },
  responses: {
    204: { description: 'Deleted' },
    ...problems(
      REFUSALS.orgWrite,
      404,
      refusal(() => decideDeletePermission(EXAMPLE_CATALOG, 'content:publish')),
      refusal(() => decideDeletePermission(EXAMPLE_CATALOG, 'project:read')),
      412,
    ),
  },
});

const remove: RouteHandler<typeof removeRoute, AppEnv> = async (c) => {
  const { key } = c.req.valid('param');
  const ifMatch = c.req.header('If-Match');
  const { store } = c.var.services;
  await withFreshReads(c, (principal) =>
    changeCatalog(store, principal, (before) => {
      const decision = decideDeletePermission(before, key);
      // The catalog's version is the transaction's condition, so the tag checked here still holds at the write.
      assertIfMatch(ifMatch, etagOf(permissionView(before, key)!));
      return { ...decision, action: 'PermissionDeleted' };
    }),
  );
  return c.body(null, 204);
};

export const permissionRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(getRoute, get)
  .openapi(createPermissionRoute, createPermission)
  .openapi(removeRoute, remove);
