import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../domain/errors.js';
import {
  membershipPermissions,
  assertKnownRoles,
  assertWriteScope,
  authorizeAdd,
  authorizeRead,
  authorizeRemove,
  authorizeTransfer,
  authorizeUpdate,
  effectivePermissions,
  normalizeTags,
  type ProjectCaller,
} from '../../domain/permissions.js';
import { isExpired, type Project as ProjectRecord, type ProjectUser as ProjectUserRecord } from '../../domain/model.js';
import type { StoredResponse } from '../../store/store.js';
import {
  actorOf,
  auditView,
  respondIdempotently,
  apiKeyView,
  etagOf,
  ifMatchSatisfied,
  newRouter,
  orgUserView,
  projectAuthority,
  projectCallerOf,
  readContext,
  projectUserView,
  projectView,
  withFreshReads,
  type Services,
} from '../context.js';
import { etagHeader, idempotencyParameter, problems, security } from '../openapi.js';
import {
  AddProjectUserBody,
  AuditEntry,
  AuditQuery,
  Ids,
  listOf,
  Me,
  Project,
  ProjectUser,
  ProjectUsersQuery,
  TransferOwnershipBody,
  UpdateProjectUserBody,
} from '../schemas.js';

const tags = ['Project users'];
const ProjectParams = z.object({ projectId: Ids.project });
const ProjectUserParams = z.object({ projectId: Ids.project, projectUserId: Ids.projectUser });
const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });
const IfMatch = z.object({
  'if-match': z.string().optional().openapi({ description: 'The `version` (ETag) the change applies to; 412 if stale' }),
});

function visible(caller: ProjectCaller | null): ProjectCaller {
  if (!caller) throw errors.notFound();
  return caller;
}

/** An expired member is gone for every reader, even before DynamoDB TTL removes it. */
function present<T extends ProjectUserRecord>(member: T | null): T {
  if (!member || isExpired(member)) throw errors.notFound();
  return member;
}

export function projectUserRoutes(services: Services) {
  const { store } = services;
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/projects/{projectId}/users',
        tags,
        security,
        summary: 'List project users',
        description: 'Cursor-paginated, in order of joining; filter by `role` and `tag`.',
        request: { params: ProjectParams, query: ProjectUsersQuery },
        responses: { 200: { description: 'A page of project users', content: json(listOf(ProjectUser)) }, ...problems(404) },
      }),
      async (c) => {
        const { projectId } = c.req.valid('param');
        const query = c.req.valid('query');
        const principal = c.get('principal');
        // The caller's access and the page are fetched in parallel: one round trip.
        const [context, page] = await Promise.all([
          readContext(services, principal, projectId),
          store.listProjectUsers(projectId, { limit: query.limit ?? 50, cursor: query.cursor, role: query.role, tag: query.tag }),
        ]);
        authorizeRead(visible(context.caller));
        const live = page.items.filter((member) => !isExpired(member));
        return c.json({ data: live.map(projectUserView), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/projects/{projectId}/users/me',
        tags,
        security,
        summary: 'The caller: its key, org user, membership and effective permissions',
        request: { params: ProjectParams },
        responses: { 200: { description: 'The caller', content: json(Me) }, ...problems(404) },
      }),
      async (c) => {
        const { projectId } = c.req.valid('param');
        const principal = c.get('principal');
        const context = await readContext(services, principal, projectId, { withCaller: true });
        const caller = visible(context.caller);
        authorizeRead(caller);
        const membership = context.callerMembership;
        return c.json(
          {
            type: 'apiKey' as const,
            key: apiKeyView(principal.key),
            user: orgUserView(principal.user),
            projectUser: membership && !isExpired(membership) ? projectUserView(membership) : null,
            permissions: effectivePermissions(caller),
          },
          200,
        );
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/projects/{projectId}/users/{projectUserId}',
        tags,
        security,
        summary: 'Get a project user',
        request: { params: ProjectUserParams },
        responses: {
          200: { description: 'The project user', headers: etagHeader, content: json(ProjectUser) },
          ...problems(404),
        },
      }),
      async (c) => {
        const { projectId, projectUserId } = c.req.valid('param');
        const principal = c.get('principal');
        const context = await readContext(services, principal, projectId, { projectUserId });
        authorizeRead(visible(context.caller));
        const view = projectUserView(present(context.projectUser));
        return c.json(view, 200, { ETag: etagOf(view) });
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/projects/{projectId}/users',
        tags,
        security,
        parameters: [idempotencyParameter],
        summary: 'Add an org user to the project',
        description:
          'Managers grant at most `manager`; admins and the owner any role. A `read-write` key whose user is not a member may add itself as `viewer`. Roles default to `["viewer"]`.',
        request: { params: ProjectParams, body: { required: true, content: json(AddProjectUserBody) } },
        responses: {
          201: { description: 'Added', headers: { ...etagHeader, Location: { schema: { type: 'string' } } }, content: json(ProjectUser) },
          ...problems(403, 404, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        assertWriteScope(c.get('principal').key.scope);
        const { projectId } = c.req.valid('param');
        const body = c.req.valid('json');
        const created = (pu: ProjectUserRecord): StoredResponse => {
          const view = projectUserView(pu);
          return {
            status: 201,
            body: view,
            headers: { ETag: etagOf(view), Location: `/api/projects/${projectId}/users/${pu.projectUserId}` },
          };
        };
        const response = await respondIdempotently(c, services, async (idempotency) => {
          const added = await withFreshReads(c, services, async (principal) => {
            const orgId = principal.key.orgId;
            const context = await store.projectContext(
              projectId,
              principal.user.userId,
              { memberUserId: body._id, orgUser: { orgId, userId: body._id } },
              true,
            );
            const caller = visible(projectCallerOf(principal, projectId, context.project, context.callerMembership));
            const roles = assertKnownRoles(body.roles ?? ['viewer']);
            authorizeAdd(caller, body._id, roles);
            if (!context.orgUser || context.orgUser.deletingAt) throw errors.notFound();
            if (context.memberMembership && !isExpired(context.memberMembership)) throw errors.alreadyMember();
            if (context.memberMembership) {
              throw errors.conflict(
                'This user has an expired membership awaiting removal by TTL; PATCH its expiresAt (a new time or null) to restore it.',
                { projectUserId: context.memberMembership.projectUserId },
              );
            }
            return store.addProjectUser({
              project: context.project!,
              userId: body._id,
              roles,
              tags: normalizeTags(body.tags ?? []),
              expiresAt: body.expiresAt ?? null,
              authority: projectAuthority(principal, context.callerMembership),
              actor: actorOf(principal),
              idempotency: idempotency.write(created),
            });
          });
          return created(added);
        });
        return response as never;
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/projects/{projectId}/users/{projectUserId}',
        tags,
        security,
        summary: "Change a project user's roles or tags",
        description: 'An expired membership (404 everywhere) can be restored only by a PATCH that sets `expiresAt` (a new time, or null).',
        request: {
          params: ProjectUserParams,
          headers: IfMatch,
          body: { required: true, content: json(UpdateProjectUserBody) },
        },
        responses: {
          200: { description: 'Updated', headers: etagHeader, content: json(ProjectUser) },
          ...problems(403, 404, 409, 412, 413, 415),
        },
      }),
      async (c) => {
        assertWriteScope(c.get('principal').key.scope);
        const { projectId, projectUserId } = c.req.valid('param');
        const body = c.req.valid('json');
        if (body.roles === undefined && body.tags === undefined && body.expiresAt === undefined) {
          throw errors.validation('Nothing to change: send roles, tags or expiresAt.', [
            { path: 'body', message: 'expected at least one of roles, tags, expiresAt' },
          ]);
        }
        const ifMatch = c.req.header('If-Match');
        const updated = await withFreshReads(c, services, async (principal) => {
          const context = await store.projectContext(projectId, principal.user.userId, { projectUserId }, true);
          const caller = visible(projectCallerOf(principal, projectId, context.project, context.callerMembership));
          authorizeRead(caller);
          // An expired member is hidden from everything but the one change that restores it: a new expiry.
          const target = body.expiresAt === undefined ? present(context.projectUser) : context.projectUser;
          if (!target) throw errors.notFound();
          authorizeUpdate(caller, target, {});
          const roles = body.roles === undefined ? undefined : assertKnownRoles(body.roles);
          authorizeUpdate(caller, target, { roles, expiresAt: body.expiresAt, tags: body.tags });
          if (!ifMatchSatisfied(ifMatch, target.version)) throw errors.preconditionFailed();
          const tags = body.tags === undefined ? undefined : normalizeTags(body.tags);
          const unchanged =
            (roles === undefined || sameSet(roles, target.roles)) &&
            (tags === undefined || sameSet(tags, target.tags)) &&
            (body.expiresAt === undefined || body.expiresAt === (target.expiresAt ?? null));
          if (unchanged) return target;
          return store.updateProjectUser({
            project: context.project!,
            before: target,
            change: { roles, tags, expiresAt: body.expiresAt },
            ifMatch: ifMatch !== undefined,
            authority: projectAuthority(principal, context.callerMembership),
            actor: actorOf(principal),
          });
        });
        const view = projectUserView(updated);
        return c.json(view, 200, { ETag: etagOf(view) });
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/projects/{projectId}/users/{projectUserId}',
        tags,
        security,
        summary: 'Remove a project user',
        request: { params: ProjectUserParams, headers: IfMatch },
        responses: { 204: { description: 'Removed' }, ...problems(403, 404, 409, 412) },
      }),
      async (c) => {
        assertWriteScope(c.get('principal').key.scope);
        const { projectId, projectUserId } = c.req.valid('param');
        const ifMatch = c.req.header('If-Match');
        await withFreshReads(c, services, async (principal) => {
          const context = await store.projectContext(projectId, principal.user.userId, { projectUserId }, true);
          const caller = visible(projectCallerOf(principal, projectId, context.project, context.callerMembership));
          authorizeRead(caller);
          const target = present(context.projectUser);
          authorizeRemove(caller, target);
          if (!ifMatchSatisfied(ifMatch, target.version)) throw errors.preconditionFailed();
          await store.removeProjectUser({
            target,
            ifMatch: ifMatch !== undefined,
            authority: projectAuthority(principal, context.callerMembership),
            actor: actorOf(principal),
          });
        });
        return c.body(null, 204);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/projects/{projectId}/owner',
        tags,
        security,
        parameters: [idempotencyParameter],
        summary: 'Transfer ownership to another project user',
        description: 'Only the owner (or a `global` key). The previous owner stays a member with the `admin` role added.',
        request: { params: ProjectParams, body: { required: true, content: json(TransferOwnershipBody) } },
        responses: {
          200: { description: 'The project with its new owner', headers: etagHeader, content: json(Project) },
          ...problems(403, 404, 409, 413, 415, 422),
        },
      }),
      async (c) => {
        assertWriteScope(c.get('principal').key.scope);
        const { projectId } = c.req.valid('param');
        const { projectUserId } = c.req.valid('json');
        const transferred = (project: ProjectRecord): StoredResponse => ({
          status: 200,
          body: projectView(project),
          headers: { ETag: etagOf(project) },
        });
        const response = await respondIdempotently(c, services, async (idempotency) => {
          const project = await withFreshReads(c, services, async (principal) => {
            const context = await store.projectContext(projectId, principal.user.userId, { projectUserId }, true);
            const caller = visible(projectCallerOf(principal, projectId, context.project, context.callerMembership));
            authorizeTransfer(caller);
            const current = context.project!;
            const newOwner = present(context.projectUser);
            if (newOwner.isOwner) return current;
            // Projects written before `ownerRoles` existed need the old owner read first.
            let oldOwner: ProjectUserRecord | undefined;
            if (!current.ownerRoles) {
              oldOwner =
                context.callerMembership?.projectUserId === current.ownerProjectUserId
                  ? context.callerMembership
                  : ((await store.projectContext(projectId, current.ownerUserId, {}, true)).callerMembership ?? undefined);
              if (!oldOwner) throw errors.conflict('The project owner could not be read; retry the request.');
            }
            const result = await store.transferOwnership({
              project: current,
              oldOwner,
              newOwner,
              authority: projectAuthority(principal, context.callerMembership),
              actor: actorOf(principal),
              idempotency: idempotency.write((r) => transferred(r.project)),
            });
            return result.project;
          });
          return transferred(project);
        });
        return response as never;
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/projects/{projectId}/audit',
        tags,
        security,
        summary: "The project's membership change log, newest first",
        description:
          'Managers and above (any key scope: reading it changes nothing) and `global` keys. Filter by `projectUserId` and `action`; cursor-paginated like the users list. Entries are the events published to EventBridge, with the same IDs.',
        request: { params: ProjectParams, query: AuditQuery },
        responses: { 200: { description: 'A page of audit entries', content: json(listOf(AuditEntry)) }, ...problems(403, 404) },
      }),
      async (c) => {
        const { projectId } = c.req.valid('param');
        const query = c.req.valid('query');
        const principal = c.get('principal');
        const [context, page] = await Promise.all([
          readContext(services, principal, projectId),
          store.listAudit(projectId, { limit: query.limit ?? 50, cursor: query.cursor, projectUserId: query.projectUserId, action: query.action }),
        ]);
        const caller = visible(context.caller);
        authorizeRead(caller);
        const canAudit =
          caller.scope === 'global' || (caller.membership !== null && membershipPermissions(caller.membership).includes('members:manage'));
        if (!canAudit) throw errors.forbidden('The audit log is visible to managers and above.');
        return c.json({ data: page.items.map(auditView), nextCursor: page.nextCursor }, 200);
      },
    );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}
