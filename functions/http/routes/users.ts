import { z, type RouteHandler } from '@hono/zod-openapi';
import type { OrgUser, Principal } from '../../domain/model.js';
import { assertOrgUserDeleted, deletableOrgUser, liveOrgUser } from '../../domain/org-rules.js';
import { authorizeOrgRead, authorizeOrgWrite } from '../../domain/permissions.js';
import { deleteOrgUserCascade } from '../../store/delete-org-user.js';
import { orgAuthority } from '../authority.js';
import { actorOf, orgCallerOf } from '../caller.js';
import { etagOf } from '../etag.js';
import { withFreshReads } from '../fresh-reads.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { createdHeaders, etagHeader, idempotencyParameter, json, problems, routeFor } from '../openapi.js';
import { newRouter, type AppEnv } from '../router.js';
import { CreateOrgUserBody, Ids, OrgUser as OrgUserSchema, PageQuery, pageRequest } from '../schemas.js';
import { orgUserView, pageOf } from '../views.js';

/** `/api/users`: the users of the caller's organization. */
const route = routeFor('Organization users');
const UserParams = z.object({ userId: Ids.user });

const listRoute = route.list(OrgUserSchema, 'A page of org users', {
  summary: 'List the organization users (org owners and admins)',
  request: { query: PageQuery },
  problems: [403],
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const principal = c.get('principal');
  authorizeOrgRead(orgCallerOf(principal));
  const page = await c.var.services.store.listOrgUsers(principal.key.orgId, pageRequest(c.req.valid('query')));
  return c.json(pageOf(page.items, orgUserView, page.nextCursor), 200);
};

const getRoute = route.get('/{userId}', {
  summary: 'Get an organization user (org owners and admins, or the user itself)',
  request: { params: UserParams },
  responses: { 200: { description: 'The org user', headers: etagHeader, content: json(OrgUserSchema) }, ...problems(403, 404) },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { userId } = c.req.valid('param');
  const principal = c.get('principal');
  if (userId !== principal.user.userId) authorizeOrgRead(orgCallerOf(principal));
  const user = liveOrgUser(await c.var.services.store.getOrgUser(principal.key.orgId, userId));
  return c.json(orgUserView(user), 200, { ETag: etagOf(user) });
};

const createUserRoute = route.post('/', {
  parameters: [idempotencyParameter],
  summary: 'Create an organization user',
  request: { body: { required: true, content: json(CreateOrgUserBody) } },
  responses: {
    201: { description: 'Created', headers: createdHeaders, content: json(OrgUserSchema) },
    ...problems(403, 409, 413, 415, 422),
  },
});

const created = (user: OrgUser) =>
  jsonReply(201, orgUserView(user), { ETag: etagOf(user), Location: `/api/users/${user.userId}` });

const createUser: RouteHandler<typeof createUserRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const { store } = c.var.services;
  const write = (principal: Principal, idempotency: IdempotencyScope) => {
    authorizeOrgWrite(orgCallerOf(principal));
    return store.createOrgUser({
      orgId: principal.key.orgId,
      name: body.name,
      email: body.email ?? null,
      kind: body.kind ?? 'human',
      orgRole: body.orgRole ?? 'member',
      authority: orgAuthority(principal),
      actor: actorOf(principal),
      idempotency: idempotency.write(created),
    });
  };
  return idempotentWrite(c, write, created);
};

const removeRoute = route.delete('/{userId}', {
  summary: 'Delete an organization user and all its memberships',
  description:
    "Removes the user's memberships in every project and revokes its keys. Where it owns a project nothing is deleted there: the answer is 409 listing `blockedProjects`; transfer ownership and repeat.",
  request: { params: UserParams },
  responses: { 204: { description: 'Deleted' }, ...problems(403, 404, 409) },
});

const remove: RouteHandler<typeof removeRoute, AppEnv> = async (c) => {
  const { userId } = c.req.valid('param');
  const { store, auth } = c.var.services;
  const outcome = await withFreshReads(c, async (principal) => {
    authorizeOrgWrite(orgCallerOf(principal));
    const user = deletableOrgUser(await store.getOrgUser(principal.key.orgId, userId, true));
    return deleteOrgUserCascade(store, user, actorOf(principal), () =>
      store.markOrgUserDeleting({ user, authority: orgAuthority(principal), actor: actorOf(principal) }),
    );
  });
  auth.forgetUser(userId);
  assertOrgUserDeleted(outcome);
  return c.body(null, 204);
};

export const userRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(getRoute, get)
  .openapi(createUserRoute, createUser)
  .openapi(removeRoute, remove);
