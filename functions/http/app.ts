import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../config.js';
import { errors } from '../domain/errors.js';
import { readableStack } from '../stack-trace.js';
import type { Store } from '../store/store.js';
import { rejectUnsupportedMethods, unknownPathIsNotFound } from './allowed-methods.js';
import { createAuthenticator } from './auth.js';
import { mountDocs } from './docs.js';
import { authenticate, limitBody, provide, requireCursorSecret, requireJsonBody, requireWellFormedQuery, trace } from './middleware.js';
import { createObservability } from './observability.js';
import { documented, json, TAGS } from './openapi.js';
import { HEADERS } from './openapi-responses.js';
import { problemResponse, toDomainError } from './problem.js';
import { newRouter, type Services } from './router.js';
import { auditRoutes } from './routes/audit.js';
import { checkRoutes } from './routes/check.js';
import { keyRoutes } from './routes/keys.js';
import { ownerRoutes } from './routes/owner.js';
import { permissionRoutes } from './routes/permissions.js';
import { projectUserRoutes } from './routes/project-users.js';
import { projectRoutes } from './routes/projects.js';
import { roleRoutes } from './routes/roles.js';
import { userRoutes } from './routes/users.js';

const health = createRoute(
  documented(
    {
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      tags: ['Operations'],
      security: [],
      summary: 'Liveness (no authentication, no DynamoDB call)',
      description:
        'Answers 200 while the function runs, without an API key and without reading DynamoDB, so it stays 200 while the table is unreachable (the API answers 503 then).',
      responses: {
        200: { description: 'Alive', content: json(z.object({ status: z.literal('ok') }).openapi('Health'), { status: 'ok' }) },
      },
    },
    { usesStore: false },
  ),
);

/** The API: one router per resource, each mounted at its own prefix; errors mapped once, here. */
export function createApp(deps: { store: Store; config: Config }) {
  const observability = createObservability(deps.config);
  const services: Services = {
    ...deps,
    auth: createAuthenticator(deps.store, { cacheSeconds: deps.config.keyCacheSeconds }),
  };

  const app = newRouter();
  app.onError((error, c) => {
    const problem = toDomainError(error);
    if (problem.status >= 500 && problem.status !== 503) {
      observability.error('Unhandled error', { requestId: c.get('requestId'), error: readableStack(error) });
    }
    return problemResponse(c, problem);
  });
  app.notFound((c) => problemResponse(c, errors.notFound()));

  app.use('*', provide(services), trace(observability), rejectUnsupportedMethods(app));
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.use('/api/*', requireCursorSecret(observability), authenticate, unknownPathIsNotFound, limitBody, requireJsonBody, requireWellFormedQuery);

  const routes = app
    .route('/api/projects/:projectId/users', projectUserRoutes)
    .route('/api/projects/:projectId/owner', ownerRoutes)
    .route('/api/projects/:projectId/audit', auditRoutes)
    .route('/api/projects/:projectId/check', checkRoutes)
    .route('/api/projects', projectRoutes)
    .route('/api/users', userRoutes)
    .route('/api/keys', keyRoutes)
    .route('/api/permissions', permissionRoutes)
    .route('/api/roles', roleRoutes);

  documentApi(app);
  return routes;
}

/**
 * package.json is private and names no license: all rights reserved until its owners choose one.
 * OpenAPI 3.1's SPDX `identifier` (a constant, as hono's config type is OpenAPI 3.0's License).
 */
const LICENSE = { name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' };

/** `GET /openapi.json`, generated from the schemas the routes validate with, and `GET /docs`. */
function documentApi(app: ReturnType<typeof newRouter>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer puk_<keyId>_<secret>`',
  });
  for (const [name, header] of Object.entries(HEADERS)) app.openAPIRegistry.registerComponent('headers', name, header);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Project Users API',
      version: '1.0.0',
      description:
        'Who may do what in which project. Errors are RFC 9457 `application/problem+json` (but API Gateway\'s own 429). ' +
        'Every response of the API carries `X-Request-Id`; POSTs that write honour `Idempotency-Key`; single resources carry an `ETag` that PATCH and DELETE take as `If-Match`.',
      license: LICENSE,
      contact: { name: 'Project Users API maintainers' },
    },
    servers: [
      {
        url: '/',
        description: 'The server this document is served from: the stage URL of the API Gateway HTTP API (stack output `ApiUrl`), or the local server of `npm start`',
      },
    ],
    tags: [...TAGS],
  });
  mountDocs(app);
}
