import { type RouteHandler } from '@hono/zod-openapi';
import { assertPermissionKey } from '../../domain/catalog.js';
import { decideCreatePermission, decideDeletePermission } from '../../domain/catalog-rules.js';
import { errors } from '../../domain/errors.js';
import type { Catalog } from '../../domain/catalog.js';
import type { Principal } from '../../domain/model.js';
import { authorizeOrgWrite } from '../../domain/permissions.js';
import { orgAuthority } from '../authority.js';
import { actorOf, orgCallerOf } from '../caller.js';
import { withFreshReads } from '../fresh-reads.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { idempotencyParameter, json, problems, routeFor } from '../openapi.js';
import { newRouter, type AppEnv } from '../router.js';
import { CATALOG_LIMITS_TEXT, CatalogPermission, CreatePermissionBody, onePageOf, PermissionParams } from '../schemas-roles.js';
import { permissionView, permissionViews } from '../views-roles.js';

/**
 * `/api/permissions`: the org's permission catalog (SPEC §6), the system permissions and the
 * org's custom `resource:action` ones. Reading it is open to every key of the org (members need
 * to know what roles grant); changing it is an org-level write (`authorizeOrgWrite`: a `global`
 * key, or a `read-write` key of an org owner/admin, never a pinned key).
 */
const route = routeFor('Roles and permissions');

const READ_RULE = 'Any API key of the organization may read the catalog.';
const WRITE_RULE = 'Needs a `global` key, or a `read-write` key of an organization owner or admin (never a key pinned to a project).';

const listRoute = route({
  method: 'get',
  path: '/',
  summary: 'List the permission catalog: system permissions, then the custom ones',
  description: `${READ_RULE} The catalog is small (at most 105 entries), so it is always one page: \`nextCursor\` is null and no \`limit\`/\`cursor\` is taken.`,
  responses: { 200: { description: 'The whole catalog', content: json(onePageOf(CatalogPermission)) }, ...problems() },
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const principal = c.get('principal');
  // Consistent: whoever just changed the catalog sees the change (one GetItem).
  const catalog = await c.var.services.store.getCatalog(principal.key.orgId, { consistent: true });
  return c.json({ data: permissionViews(catalog), nextCursor: null }, 200);
};

const getRoute = route({
  method: 'get',
  path: '/{key}',
  summary: 'Get a permission of the catalog',
  description: READ_RULE,
  request: { params: PermissionParams },
  responses: { 200: { description: 'The permission', content: json(CatalogPermission) }, ...problems(404) },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { key } = c.req.valid('param');
  const catalog = await c.var.services.store.getCatalog(c.get('principal').key.orgId, { consistent: true });
  const view = permissionView(catalog, key);
  if (!view) throw errors.notFound();
  return c.json(view, 200);
};

const createPermissionRoute = route({
  method: 'post',
  path: '/',
  parameters: [idempotencyParameter],
  summary: 'Create a custom permission',
  description:
    `${WRITE_RULE} The key is \`resource:action\` (\`^[a-z][a-z0-9-]{0,31}:[a-z][a-z0-9-]{0,31}$\`); the resources ` +
    '`project`, `members`, `roles`, `keys` and `org` are reserved for system permissions (400). 409 `conflict` if the org has it already. ' +
    CATALOG_LIMITS_TEXT,
  request: { body: { required: true, content: json(CreatePermissionBody) } },
  responses: {
    201: { description: 'Created', headers: { Location: { schema: { type: 'string' as const } } }, content: json(CatalogPermission) },
    ...problems(403, 409, 413, 415, 422),
  },
});

const createPermission: RouteHandler<typeof createPermissionRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const { store } = c.var.services;
  const created = (catalog: Catalog) => jsonReply(201, permissionView(catalog, body.key)!, { Location: `/api/permissions/${body.key}` });
  const write = async (principal: Principal, idempotency: IdempotencyScope) => {
    authorizeOrgWrite(orgCallerOf(principal));
    assertPermissionKey(body.key);
    const orgId = principal.key.orgId;
    const before = await store.getCatalog(orgId, { consistent: true });
    const decision = decideCreatePermission(before, body, new Date().toISOString());
    return store.writeCatalog({
      orgId,
      before,
      after: decision.after,
      change: { action: 'PermissionCreated', audit: decision.audit },
      authority: orgAuthority(principal),
      actor: actorOf(principal),
      idempotency: idempotency.write(created),
    });
  };
  return idempotentWrite(c, write, created);
};

const removeRoute = route({
  method: 'delete',
  path: '/{key}',
  summary: 'Delete a custom permission',
  description:
    `${WRITE_RULE} 409 \`permission_in_use\` (with \`roleIds\`) while a role includes it: remove it from those roles first. ` +
    'System permissions cannot be deleted (409 `conflict`); an unknown permission is 404.',
  request: { params: PermissionParams },
  responses: { 204: { description: 'Deleted' }, ...problems(403, 404, 409) },
});

const remove: RouteHandler<typeof removeRoute, AppEnv> = async (c) => {
  const { key } = c.req.valid('param');
  const { store } = c.var.services;
  await withFreshReads(c, async (principal) => {
    authorizeOrgWrite(orgCallerOf(principal));
    const orgId = principal.key.orgId;
    const before = await store.getCatalog(orgId, { consistent: true });
    const decision = decideDeletePermission(before, key);
    await store.writeCatalog({
      orgId,
      before,
      after: decision.after,
      change: { action: 'PermissionDeleted', audit: decision.audit },
      authority: orgAuthority(principal),
      actor: actorOf(principal),
    });
  });
  return c.body(null, 204);
};

export const permissionRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(getRoute, get)
  .openapi(createPermissionRoute, createPermission)
  .openapi(removeRoute, remove);
