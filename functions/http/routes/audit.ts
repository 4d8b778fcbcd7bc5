import type { RouteHandler } from '@hono/zod-openapi';
import { authorizeAuditRead } from '../../domain/membership-rules.js';
import { pageInProject } from '../caller.js';
import { routeFor } from '../openapi.js';
import { exampleCaller, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLES } from '../examples.js';
import { AuditEntry, AuditQuery, pageRequest, ProjectParams } from '../schemas.js';
import { auditView, pageOf } from '../views.js';

/** `/api/projects/{projectId}/audit`: a project's membership change log. */
const route = routeFor('Project users');

const listRoute = route.list(AuditEntry, 'A page of audit entries', {
  operationId: 'listAudit',
  example: EXAMPLES.auditEntry,
  summary: "The project's membership change log, newest first",
  description:
    'Callers whose effective permissions include `members:manage` (so not through a `read` key, which keeps only `…:read` permissions) and `global` keys. Filter by `projectUserId` and `action`; cursor-paginated like the users list. Entries are the events published to EventBridge, with the same IDs.',
  request: { params: ProjectParams, query: AuditQuery },
  problems: [refusal(() => authorizeAuditRead(exampleCaller.member(['editor']))), 404],
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const { projectId } = c.req.valid('param');
  const query = c.req.valid('query');
  const { caller, page } = await pageInProject(c, projectId, (store) =>
    store.listAudit(projectId, { ...pageRequest(query), projectUserId: query.projectUserId, action: query.action }),
  );
  authorizeAuditRead(caller);
  return c.json(pageOf(page.items, auditView, page.nextCursor), 200);
};

export const auditRoutes = newRouter().openapi(listRoute, list);
