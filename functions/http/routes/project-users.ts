import { z, type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { assertChangeRequested, decideAdd, decideRemove, decideUpdate, expiredMembershipAwaitsRemoval, liveMember } from '../../domain/membership-rules.js';
import { isExpired, type Principal, type ProjectUser as ProjectUserRecord } from '../../domain/model.js';
import type { Catalog } from '../../domain/catalog.js';
import {
  assertKnownRoles,
  assertWriteScope,
  authorizeAdd,
  authorizeRead,
  authorizeRemove,
  authorizeUpdate,
  effectiveGrants,
} from '../../domain/permissions.js';
import { errors } from '../../domain/errors.js';
import { projectAuthority } from '../authority.js';
import { actorOf, pageInProject, readContext, visible, writeContext } from '../caller.js';
import { assertIfMatch, etagOf } from '../etag.js';
import { withFreshReads } from '../fresh-reads.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { idempotencyParameter, IfMatch, json, routeFor } from '../openapi.js';
import { createdHeaders, etagHeader, exampleCaller, exampleMember, problems, REFUSALS, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLES } from '../examples.js';
import {
  AddProjectUserBody,
  EXAMPLE_ID,
  Ids,
  Me,
  pageRequest,
  ProjectParams,
  ProjectUser,
  ProjectUsersQuery,
  UpdateProjectUserBody,
} from '../schemas.js';
import { apiKeyView, orgUserView, pageOf, projectUserView } from '../views.js';

/** `/api/projects/{projectId}/users`: the members of one project. */
const route = routeFor('Project users');
// The example ID is the example project user's, so a route's example path and its example answer agree.
const ProjectUserParams = z.object({ projectId: Ids.project, projectUserId: Ids.projectUser.openapi({ example: EXAMPLE_ID.otherProjectUser }) });

/** What the document shows these routes refuse, as the rules word it. */
const refused = {
  notManager: refusal(() => authorizeRemove(exampleCaller.member(['editor']), exampleMember(['viewer']))),
  grantAbove: refusal(() => authorizeAdd(exampleCaller.member(['manager']), EXAMPLE_ID.otherUser, ['admin'])),
  unknownRole: refusal(() => assertKnownRoles([EXAMPLE_ID.role])),
  ownRoles: refusal(() =>
    authorizeUpdate(exampleCaller.member(['admin']), { ...exampleMember(['admin']), userId: EXAMPLE_ID.user }, { roles: ['viewer'] }),
  ),
};

/** A project user, with its version as ETag. */
function projectUserResponse(c: Context<AppEnv>, pu: ProjectUserRecord, catalog: Catalog) {
  const view = projectUserView(pu, catalog);
  return c.json(view, 200, { ETag: etagOf(view) });
}

const listRoute = route.list(ProjectUser, 'A page of project users', {
  operationId: 'listProjectUsers',
  summary: 'List project users',
  description:
    'Any caller that can see the project (a member, whatever its role, or a `global` key). Cursor-paginated, in order of joining; filter by `role` and `tag`. Expired memberships are not listed.',
  example: EXAMPLES.projectUser,
  request: { params: ProjectParams, query: ProjectUsersQuery },
  problems: [REFUSALS.noProjectRead, 404],
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const { projectId } = c.req.valid('param');
  const query = c.req.valid('query');
  const { caller, page, catalog } = await pageInProject(c, projectId, (store) =>
    store.listProjectUsers(projectId, { ...pageRequest(query), role: query.role, tag: query.tag }),
  );
  authorizeRead(caller);
  const live = page.items.filter((member) => !isExpired(member));
  return c.json(pageOf(live, (pu) => projectUserView(pu, catalog), page.nextCursor), 200);
};

const meRoute = route.get('/me', {
  operationId: 'getMe',
  summary: 'The caller: its key, org user, membership and effective permissions',
  description:
    'Any caller that can see the project. `projectUser` is null when the caller has no membership here (a `global` key); ' +
    '`grants` names what grants each effective permission (`role:<id>`, `owner` or `global_key`). Through a `read` key only `…:read` permissions remain.',
  request: { params: ProjectParams },
  responses: { 200: { description: 'The caller', content: json(Me, EXAMPLES.me) }, ...problems(REFUSALS.noProjectRead, 404) },
});

const me: RouteHandler<typeof meRoute, AppEnv> = async (c) => {
  const { projectId } = c.req.valid('param');
  const principal = c.get('principal');
  const context = await readContext(c.var.services.store, principal, projectId, { withCaller: true });
  const caller = visible(context.caller);
  authorizeRead(caller);
  const membership = context.callerMembership;
  const grants = effectiveGrants(caller);
  return c.json(
    {
      type: 'apiKey' as const,
      key: apiKeyView(principal.key),
      user: orgUserView(principal.user),
      projectUser: membership && !isExpired(membership) ? projectUserView(membership, context.catalog) : null,
      permissions: [...grants.keys()],
      grants: [...grants].map(([permission, grantedBy]) => ({ permission, grantedBy })),
    },
    200,
  );
};

const getRoute = route.get('/{projectUserId}', {
  operationId: 'getProjectUser',
  summary: 'Get a project user',
  description: 'Any caller that can see the project. An expired membership is a 404, like one that does not exist.',
  request: { params: ProjectUserParams },
  responses: {
    200: { description: 'The project user', headers: etagHeader, content: json(ProjectUser, EXAMPLES.projectUser) },
    ...problems(REFUSALS.noProjectRead, 404),
  },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { projectId, projectUserId } = c.req.valid('param');
  const context = await readContext(c.var.services.store, c.get('principal'), projectId, { projectUserId });
  authorizeRead(visible(context.caller));
  return projectUserResponse(c, liveMember(context.projectUser), context.catalog);
};

const addRoute = route.post('/', {
  operationId: 'addProjectUser',
  parameters: [idempotencyParameter],
  summary: 'Add an org user to the project',
  description:
    'Needs `members:manage` (manager and above), and every permission of each role granted: managers grant at most `manager`; admins and the owner any role. ' +
    'A `read-write` key whose user is not a member may add itself, as `viewer` only and without tags. Roles default to `["viewer"]`; each must be a known role ID (409 `unknown_role`). ' +
    '`expiresAt`, if given, must be in the future.',
  request: { params: ProjectParams, body: { required: true, content: json(AddProjectUserBody, EXAMPLES.addProjectUser) } },
  responses: {
    201: { description: 'Added', headers: createdHeaders, content: json(ProjectUser, EXAMPLES.projectUser) },
    ...problems(
      refused.notManager,
      refused.grantAbove,
      refusal(() => authorizeAdd({ ...exampleCaller.member([]), membership: null }, EXAMPLE_ID.user, ['editor'])),
      404,
      errors.alreadyMember(),
      expiredMembershipAwaitsRemoval(EXAMPLE_ID.otherProjectUser),
      refused.unknownRole,
    ),
  },
});

function added(pu: ProjectUserRecord, catalog?: Catalog) {
  const view = projectUserView(pu, catalog);
  return jsonReply(201, view, { ETag: etagOf(view), Location: `/api/projects/${pu.projectId}/users/${pu.projectUserId}` });
}

const add: RouteHandler<typeof addRoute, AppEnv> = async (c) => {
  assertWriteScope(c.get('principal').key.scope);
  const { projectId } = c.req.valid('param');
  const body = c.req.valid('json');
  const { store } = c.var.services;
  const write = async (principal: Principal, idempotency: IdempotencyScope) => {
    const orgUser = { orgId: principal.key.orgId, userId: body._id };
    const context = await writeContext(store, principal, projectId, { memberUserId: body._id, orgUser });
    const { roles, tags } = decideAdd(
      context.caller,
      { userId: body._id, roles: body.roles, tags: body.tags },
      { orgUser: context.orgUser, existing: context.memberMembership },
    );
    return store.addProjectUser({
      project: context.project,
      userId: body._id,
      roles,
      tags,
      expiresAt: body.expiresAt ?? null,
      catalog: context.catalog,
      authority: projectAuthority(principal, context.callerMembership),
      actor: actorOf(principal),
      idempotency: idempotency.write((pu: ProjectUserRecord) => added(pu, context.catalog)),
    }).then((pu) => ({ pu, catalog: context.catalog }));
  };
  return idempotentWrite(c, write, ({ pu, catalog }) => added(pu, catalog));
};

const updateRoute = route.patch('/{projectUserId}', {
  operationId: 'updateProjectUser',
  summary: "Change a project user's roles, tags or expiry",
  description:
    'Needs `members:manage` and every permission the member holds; granting or revoking a role needs every permission of that role. ' +
    'No caller changes its own roles or expiry; the owner\'s roles and expiry never change (409: transfer ownership first), and only the owner (or a `global` key) changes its tags. ' +
    'Role IDs must be known (409 `unknown_role`); `expiresAt` must be in the future, or null for never. Honours `If-Match` (412 when stale). ' +
    'An expired membership (404 everywhere) can be restored only by a PATCH that sets `expiresAt` (a new time, or null).',
  request: {
    params: ProjectUserParams,
    headers: IfMatch,
    body: { required: true, content: json(UpdateProjectUserBody, EXAMPLES.updateProjectUser) },
  },
  responses: {
    200: { description: 'Updated', headers: etagHeader, content: json(ProjectUser, EXAMPLES.projectUser) },
    ...problems(
      refused.notManager,
      refused.ownRoles,
      404,
      refusal(() => authorizeUpdate(exampleCaller.member(['admin']), exampleMember(['admin'], true), { roles: ['viewer'] })),
      refused.unknownRole,
      412,
    ),
  },
});

const update: RouteHandler<typeof updateRoute, AppEnv> = async (c) => {
  assertWriteScope(c.get('principal').key.scope);
  const { projectId, projectUserId } = c.req.valid('param');
  const body = c.req.valid('json');
  assertChangeRequested(body);
  const ifMatch = c.req.header('If-Match');
  const { store } = c.var.services;
  const { updated, catalog } = await withFreshReads(c, async (principal) => {
    const context = await writeContext(store, principal, projectId, { projectUserId });
    const { target, change } = decideUpdate(context.caller, context.projectUser, body);
    assertIfMatch(ifMatch, target.version);
    if (change === null) return { updated: target, catalog: context.catalog };
    const after = await store.updateProjectUser({
      project: context.project,
      before: target,
      change,
      ifMatch: ifMatch !== undefined,
      catalog: context.catalog,
      authority: projectAuthority(principal, context.callerMembership),
      actor: actorOf(principal),
    });
    return { updated: after, catalog: context.catalog };
  });
  return projectUserResponse(c, updated, catalog);
};

const removeRoute = route.delete('/{projectUserId}', {
  operationId: 'removeProjectUser',
  summary: 'Remove a project user',
  description:
    'Needs `members:manage` and every permission the member holds. The owner cannot be removed (409: transfer ownership first). Honours `If-Match` (412 when stale).',
  request: { params: ProjectUserParams, headers: IfMatch },
  responses: {
    204: { description: 'Removed' },
    ...problems(
      refused.notManager,
      404,
      refusal(() => authorizeRemove(exampleCaller.member(['admin']), exampleMember(['admin'], true))),
      412,
    ),
  },
});

const remove: RouteHandler<typeof removeRoute, AppEnv> = async (c) => {
  assertWriteScope(c.get('principal').key.scope);
  const { projectId, projectUserId } = c.req.valid('param');
  const ifMatch = c.req.header('If-Match');
  const { store } = c.var.services;
  await withFreshReads(c, async (principal) => {
    const context = await writeContext(store, principal, projectId, { projectUserId });
    const target = decideRemove(context.caller, context.projectUser);
    assertIfMatch(ifMatch, target.version);
    await store.removeProjectUser({
      target,
      ifMatch: ifMatch !== undefined,
      catalog: context.catalog,
      authority: projectAuthority(principal, context.callerMembership),
      actor: actorOf(principal),
    });
  });
  return c.body(null, 204);
};

/** `/me` is registered before `/{projectUserId}`, which would otherwise take it. */
export const projectUserRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(meRoute, me)
  .openapi(getRoute, get)
  .openapi(addRoute, add)
  .openapi(updateRoute, update)
  .openapi(removeRoute, remove);
