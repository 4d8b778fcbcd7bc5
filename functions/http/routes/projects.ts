import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../domain/errors.js';
import { authorizeOrgWrite, authorizeRead } from '../../domain/permissions.js';
import { isExpired, type Project as ProjectRecord } from '../../domain/model.js';
import type { StoredResponse } from '../../store/store.js';
import {
  actorOf,
  respondIdempotently,
  etagOf,
  newRouter,
  orgAuthority,
  orgCallerOf,
  projectCallerOf,
  projectView,
  withFreshReads,
  type Services,
} from '../context.js';
import { etagHeader, idempotencyParameter, problems, security } from '../openapi.js';
import { CreateProjectBody, Ids, listOf, PageQuery, Project } from '../schemas.js';

const tags = ['Projects'];
const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });

export function projectRoutes(services: Services) {
  const { store } = services;
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/projects',
        tags,
        security,
        summary: 'Projects the caller can see',
        description: 'A `global` key sees every project of its org; other keys the projects their user is a member of.',
        request: { query: PageQuery },
        responses: { 200: { description: 'A page of projects', content: json(listOf(Project)) }, ...problems() },
      }),
      async (c) => {
        const { limit = 50, cursor } = c.req.valid('query');
        const { key, user } = c.get('principal');
        if (key.projectId !== null) {
          // A pinned key sees its one project, if it can see it at all.
          const context = await store.projectContext(key.projectId, user.userId);
          const caller = projectCallerOf(c.get('principal'), key.projectId, context.project, context.callerMembership);
          const visibleProject = caller && (caller.scope === 'global' || caller.membership) ? [context.project!] : [];
          if (cursor) throw errors.validation('A pinned key lists one page; this cursor is not valid.', [{ path: 'query.cursor', message: 'invalid cursor' }]);
          return c.json({ data: visibleProject.map(projectView), nextCursor: null }, 200);
        }
        if (key.scope === 'global') {
          const page = await store.listOrgProjects(key.orgId, { limit, cursor });
          return c.json({ data: page.items.map(projectView), nextCursor: page.nextCursor }, 200);
        }
        const memberships = await store.listMembershipsOfUser(user.userId, { limit, cursor });
        const live = memberships.items.filter((m) => !isExpired(m));
        const projects = await store.getProjects(live.map((m) => m.projectId));
        const byId = new Map(projects.map((p) => [p.projectId, p]));
        const ordered = live.map((m) => byId.get(m.projectId)).filter((p) => p !== undefined);
        return c.json({ data: ordered.map(projectView), nextCursor: memberships.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/projects/{projectId}',
        tags,
        security,
        summary: 'Get a project',
        request: { params: z.object({ projectId: Ids.project }) },
        responses: { 200: { description: 'The project', headers: etagHeader, content: json(Project) }, ...problems(404) },
      }),
      async (c) => {
        const { projectId } = c.req.valid('param');
        const principal = c.get('principal');
        const context = await store.projectContext(projectId, principal.user.userId);
        const caller = projectCallerOf(principal, projectId, context.project, context.callerMembership);
        if (!caller) throw errors.notFound();
        authorizeRead(caller);
        return c.json(projectView(context.project!), 200, { ETag: etagOf(context.project!) });
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/projects',
        tags,
        security,
        parameters: [idempotencyParameter],
        summary: 'Create a project; the caller becomes its owner',
        description: 'Needs a `global` key, or a `read-write` key of an org owner or admin.',
        request: { body: { required: true, content: json(CreateProjectBody) } },
        responses: {
          201: { description: 'Created', headers: { ...etagHeader, Location: { schema: { type: 'string' } } }, content: json(Project) },
          ...problems(403, 413, 415, 422),
        },
      }),
      async (c) => {
        const { name } = c.req.valid('json');
        const created = (project: ProjectRecord): StoredResponse => ({
          status: 201,
          body: projectView(project),
          headers: { ETag: etagOf(project), Location: `/api/projects/${project.projectId}` },
        });
        const response = await respondIdempotently(c, services, async (idempotency) => {
          const { project } = await withFreshReads(c, services, async (principal) => {
            authorizeOrgWrite(orgCallerOf(principal));
            return store.createProject({
              orgId: principal.key.orgId,
              name,
              ownerUserId: principal.user.userId,
              authority: orgAuthority(principal),
              actor: actorOf(principal),
              idempotency: idempotency.write((r) => created(r.project)),
            });
          });
          return created(project);
        });
        return response as never;
      },
    );
}
