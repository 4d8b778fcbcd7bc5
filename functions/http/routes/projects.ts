import type { RouteHandler } from '@hono/zod-openapi';
import { errors } from '../../domain/errors.js';
import { type Principal, type Project as ProjectRecord } from '../../domain/model.js';
import { authorizeOrgWrite, authorizeRead, mayRead } from '../../domain/permissions.js';
import { orgAuthority } from '../authority.js';
import { actorOf, memberCallerOf, orgCallerOf, projectCallerOf, visible } from '../caller.js';
import { etagOf } from '../etag.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { idempotencyParameter, json, routeFor } from '../openapi.js';
import { createdHeaders, etagHeader, exampleCaller, problems, REFUSALS, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLES } from '../examples.js';
import { CreateProjectBody, EXAMPLE_ID, PageQuery, pageRequest, Project, ProjectParams } from '../schemas.js';
import { pageOf, projectView } from '../views.js';
import { invalidCursor } from '../../store/cursor.js';

/** `/api/projects`: the projects of the caller's organization. */
const route = routeFor('Projects');

const listRoute = route.list(Project, 'A page of projects', {
  operationId: 'listProjects',
  summary: 'Projects the caller can see',
  description:
    'A `global` key sees every project of its org; other keys the projects their user is a live member of and may read (`project:read`: every built-in role has it). A key pinned to a project sees that project only (one page).',
  example: EXAMPLES.project,
  request: { query: PageQuery },
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const { limit, cursor } = pageRequest(c.req.valid('query'));
  const principal = c.get('principal');
  const { key, user } = principal;
  const { store } = c.var.services;
  // Listed: the projects the caller may read (SPEC §1: `project:read`), as GET /api/projects/:id
  // decides; the org's roles come beside the first read (cached), so a custom role counts too.
  if (key.projectId !== null) {
    // A pinned key sees its one project, if it can see it at all.
    const [context, catalog] = await Promise.all([store.projectContext(key.projectId, user.userId), store.getCatalog(key.orgId)]);
    const caller = projectCallerOf(principal, key.projectId, context.project, context.callerMembership, catalog);
    const readable = caller && mayRead(caller) ? [context.project!] : [];
    if (cursor) throw invalidCursor('A pinned key lists one page; this cursor is not valid.');
    return c.json(pageOf(readable, projectView, null), 200);
  }
  if (key.scope === 'global') {
    const page = await store.listOrgProjects(key.orgId, { limit, cursor });
    return c.json(pageOf(page.items, projectView, page.nextCursor), 200);
  }
  const [memberships, catalog] = await Promise.all([store.listMembershipsOfUser(user.userId, { limit, cursor }), store.getCatalog(key.orgId)]);
  const live = memberships.items.filter((m) => {
    const caller = memberCallerOf(principal, m, catalog);
    return caller !== null && mayRead(caller);
  });
  const projects = await store.getProjects(live.map((m) => m.projectId));
  const byId = new Map(projects.map((p) => [p.projectId, p]));
  const ordered = live.map((m) => byId.get(m.projectId)).filter((p) => p !== undefined);
  return c.json(pageOf(ordered, projectView, memberships.nextCursor), 200);
};

const getRoute = route.get('/{projectId}', {
  operationId: 'getProject',
  summary: 'Get a project',
  description:
    'Any caller that can see the project and holds `project:read`: a member (every built-in role has it), or a `global` key of its organization. ' +
    'Others get 404, as for a project that does not exist; a member whose custom roles lack `project:read` gets 403.',
  request: { params: ProjectParams },
  responses: { 200: { description: 'The project', headers: etagHeader, content: json(Project, EXAMPLES.project) }, ...problems(REFUSALS.noProjectRead, 404) },
});

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { projectId } = c.req.valid('param');
  const principal = c.get('principal');
  const { store } = c.var.services;
  // The org's roles beside the items (cached for up to KEY_CACHE_MAX_SECONDS): a custom role
  // decides project:read as a built-in one does, still in one round trip.
  const [context, catalog] = await Promise.all([store.projectContext(projectId, principal.user.userId), store.getCatalog(principal.key.orgId)]);
  authorizeRead(visible(projectCallerOf(principal, projectId, context.project, context.callerMembership, catalog)));
  return c.json(projectView(context.project!), 200, { ETag: etagOf(context.project!) });
};

const createProjectRoute = route.post('/', {
  operationId: 'createProject',
  parameters: [idempotencyParameter],
  summary: 'Create a project; the caller becomes its owner',
  description: "An org-level write: a `global` key, or a `read-write` key of an org owner or admin, never a key pinned to a project. The caller's org user becomes the owner.",
  request: { body: { required: true, content: json(CreateProjectBody, EXAMPLES.createProject) } },
  responses: {
    201: { description: 'Created', headers: createdHeaders, content: json(Project, EXAMPLES.project) },
    ...problems(
      REFUSALS.orgWrite,
      refusal(() => authorizeOrgWrite({ ...exampleCaller.org('admin'), pinnedProjectId: EXAMPLE_ID.project })),
    ),
  },
});

const created = ({ project }: { project: ProjectRecord }) =>
  jsonReply(201, projectView(project), { ETag: etagOf(project), Location: `/api/projects/${project.projectId}` });

const createProject: RouteHandler<typeof createProjectRoute, AppEnv> = async (c) => {
  const { name } = c.req.valid('json');
  const { store } = c.var.services;
  const write = (principal: Principal, idempotency: IdempotencyScope) => {
    authorizeOrgWrite(orgCallerOf(principal));
    return store.createProject({
      orgId: principal.key.orgId,
      name,
      ownerUserId: principal.user.userId,
      authority: orgAuthority(principal),
      actor: actorOf(principal),
      idempotency: idempotency.write(created),
    });
  };
  return idempotentWrite(c, write, created);
};

export const projectRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(getRoute, get)
  .openapi(createProjectRoute, createProject);
