import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../domain/errors.js';
import type { OrgUser } from '../../domain/model.js';
import { authorizeOrgRead, authorizeOrgWrite } from '../../domain/permissions.js';
import { deleteOrgUserCascade } from '../../store/delete-org-user.js';
import type { StoredResponse } from '../../store/store.js';
import {
  actorOf,
  respondIdempotently,
  etagOf,
  newRouter,
  orgAuthority,
  orgCallerOf,
  orgUserView,
  withFreshReads,
  type Services,
} from '../context.js';
import { etagHeader, idempotencyParameter, problems, security } from '../openapi.js';
import { CreateOrgUserBody, Ids, listOf, OrgUser as OrgUserSchema, PageQuery } from '../schemas.js';

const tags = ['Organization users'];
const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });
const UserParams = z.object({ userId: Ids.user });

export function userRoutes(services: Services) {
  const { store } = services;
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/users',
        tags,
        security,
        summary: 'List the organization users (org owners and admins)',
        request: { query: PageQuery },
        responses: { 200: { description: 'A page of org users', content: json(listOf(OrgUserSchema)) }, ...problems(403) },
      }),
      async (c) => {
        const { limit = 50, cursor } = c.req.valid('query');
        const principal = c.get('principal');
        authorizeOrgRead(orgCallerOf(principal));
        const page = await store.listOrgUsers(principal.key.orgId, { limit, cursor });
        return c.json({ data: page.items.map(orgUserView), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/users/{userId}',
        tags,
        security,
        summary: 'Get an organization user (org owners and admins, or the user itself)',
        request: { params: UserParams },
        responses: { 200: { description: 'The org user', headers: etagHeader, content: json(OrgUserSchema) }, ...problems(403, 404) },
      }),
      async (c) => {
        const { userId } = c.req.valid('param');
        const principal = c.get('principal');
        if (userId !== principal.user.userId) authorizeOrgRead(orgCallerOf(principal));
        const user = await store.getOrgUser(principal.key.orgId, userId);
        if (!user || user.deletingAt) throw errors.notFound();
        return c.json(orgUserView(user), 200, { ETag: etagOf(user) });
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/users',
        tags,
        security,
        parameters: [idempotencyParameter],
        summary: 'Create an organization user',
        request: { body: { required: true, content: json(CreateOrgUserBody) } },
        responses: {
          201: { description: 'Created', headers: { ...etagHeader, Location: { schema: { type: 'string' } } }, content: json(OrgUserSchema) },
          ...problems(403, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const created = (user: OrgUser): StoredResponse => ({
          status: 201,
          body: orgUserView(user),
          headers: { ETag: etagOf(user), Location: `/api/users/${user.userId}` },
        });
        const response = await respondIdempotently(c, services, async (idempotency) => {
          const user = await withFreshReads(c, services, async (principal) => {
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
          });
          return created(user);
        });
        return response as never;
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/users/{userId}',
        tags,
        security,
        summary: 'Delete an organization user and all its memberships',
        description:
          "Removes the user's memberships in every project and revokes its keys. Where it owns a project nothing is deleted there: the answer is 409 listing `blockedProjects`; transfer ownership and repeat.",
        request: { params: UserParams },
        responses: { 204: { description: 'Deleted' }, ...problems(403, 404, 409) },
      }),
      async (c) => {
        const { userId } = c.req.valid('param');
        const outcome = await withFreshReads(c, services, async (principal) => {
          authorizeOrgWrite(orgCallerOf(principal));
          const user = await store.getOrgUser(principal.key.orgId, userId, true);
          if (!user) throw errors.notFound();
          if (user.orgRole === 'owner') throw errors.conflict('The organization owner cannot be deleted.');
          return deleteOrgUserCascade(store, user, actorOf(principal), () =>
            store.markOrgUserDeleting({ user, authority: orgAuthority(principal), actor: actorOf(principal) }),
          );
        });
        services.auth.forgetUser(userId);
        if (!outcome.deleted) {
          throw errors.ownerProtected(
            'The user owns projects; its other memberships were removed. Transfer ownership of these projects, then delete again.',
            { blockedProjects: outcome.blockedProjects },
          );
        }
        return c.body(null, 204);
      },
    );
}
