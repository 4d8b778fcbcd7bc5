import { z, type RouteHandler } from '@hono/zod-openapi';
import type { OrgUser, Principal } from '../../domain/model.js';
import { assertOrgUserDeleted, deletableOrgUser, emailTaken, liveOrgUser } from '../../domain/org-rules.js';
import { authorizeOrgRead, authorizeOrgWrite } from '../../domain/permissions.js';
import { deleteOrgUserCascade } from '../../store/delete-org-user.js';
import { orgAuthority } from '../authority.js';
import { actorOf, orgCallerOf } from '../caller.js';
import { assertIfMatch, etagOf } from '../etag.js';
import { withFreshReads } from '../fresh-reads.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { idempotencyParameter, IfMatch, json, routeFor } from '../openapi.js';
import { createdHeaders, etagHeader, exampleCaller, problems, REFUSALS, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLES } from '../examples.js';
import { CreateOrgUserBody, EXAMPLE_ID, Ids, OrgUser as OrgUserSchema, PageQuery, pageRequest } from '../schemas.js';
import { orgUserView, pageOf } from '../views.js';

/** `/api/users`: the users of the caller's organization. */
const route = routeFor('Organization users');
// The example ID is the example org user's, so a route's example path and its example answer agree.
const UserParams = z.object({ userId: Ids.user.openapi({ example: EXAMPLE_ID.otherUser }) });

/** A member's key reading the directory. */
const directoryRefused = refusal(() => authorizeOrgRead(exampleCaller.org('member')));

const listRoute = route.list(OrgUserSchema, 'A page of org users', {
  operationId: 'listUsers',
  summary: 'List the organization users (org owners and admins)',
  description: 'The directory is for org owners and admins, through any key scope, and `global` keys. Cursor-paginated. A user being deleted is not listed.',
  request: { query: PageQuery },
  example: EXAMPLES.orgUser,
  problems: [directoryRefused],
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const principal = c.get('principal');
  authorizeOrgRead(orgCallerOf(principal));
  const page = await c.var.services.store.listOrgUsers(principal.key.orgId, pageRequest(c.req.valid('query')));
  // A user being deleted is gone from the directory, as GET /api/users/:id (404) says.
  return c.json(pageOf(page.items.filter((user) => !user.deletingAt), orgUserView, page.nextCursor), 200);
};

const getRoute = route.get('/{userId}', {
  operationId: 'getUser',
  summary: 'Get an organization user (org owners and admins, or the user itself)',
  description: "Any key reads its own user; another user needs org owner/admin rights or a `global` key. A user being deleted is 404.",
  request: { params: UserParams },
  responses: {
    200: { description: 'The org user', headers: etagHeader, content: json(OrgUserSchema, EXAMPLES.orgUser) },
    ...problems(directoryRefused, 404),
  },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { userId } = c.req.valid('param');
  const principal = c.get('principal');
  if (userId !== principal.user.userId) authorizeOrgRead(orgCallerOf(principal));
  const user = liveOrgUser(await c.var.services.store.getOrgUser(principal.key.orgId, userId));
  return c.json(orgUserView(user), 200, { ETag: etagOf(user) });
};

const createUserRoute = route.post('/', {
  operationId: 'createUser',
  parameters: [idempotencyParameter],
  summary: 'Create an organization user',
  description:
    'An org-level write: a `global` key, or a `read-write` key of an org owner or admin. `kind` defaults to `human`, `orgRole` to `member` (an organization has one owner, made with it). ' +
    'An e-mail is unique in the organization (409).',
  request: { body: { required: true, content: json(CreateOrgUserBody, EXAMPLES.createOrgUser) } },
  responses: {
    201: { description: 'Created', headers: createdHeaders, content: json(OrgUserSchema, EXAMPLES.orgUser) },
    ...problems(REFUSALS.orgWrite, emailTaken()),
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
  operationId: 'deleteUser',
  summary: 'Delete an organization user and all its memberships',
  description:
    "An org-level write. Removes the user's memberships in every project and revokes its keys. Where it owns a project nothing is deleted there: the answer is 409 listing `blockedProjects`; transfer ownership and repeat. Honours `If-Match` (412 when stale). " +
    'The organization owner cannot be deleted (409).',
  request: { params: UserParams, headers: IfMatch },
  responses: {
    204: { description: 'Deleted' },
    ...problems(
      REFUSALS.orgWrite,
      404,
      refusal(() => assertOrgUserDeleted({ deleted: false, blockedProjects: [EXAMPLE_ID.project] })),
      refusal(() =>
        deletableOrgUser({ userId: EXAMPLE_ID.user, orgId: EXAMPLE_ID.org, name: 'Owner', email: null, kind: 'human', orgRole: 'owner', createdAt: EXAMPLES.orgUser.createdAt, version: 1 }),
      ),
      412,
    ),
  },
});

const remove: RouteHandler<typeof removeRoute, AppEnv> = async (c) => {
  const { userId } = c.req.valid('param');
  const ifMatch = c.req.header('If-Match');
  const { store, auth } = c.var.services;
  const outcome = await withFreshReads(c, async (principal) => {
    authorizeOrgWrite(orgCallerOf(principal));
    const user = deletableOrgUser(await store.getOrgUser(principal.key.orgId, userId, true));
    assertIfMatch(ifMatch, user.version);
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
