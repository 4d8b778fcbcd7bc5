import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../config.js';
import { errors } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { createAuthenticator } from './auth.js';
import { mountDocs } from './docs.js';
import { authenticate, limitBody, provide, requireJsonBody, trace } from './middleware.js';
import { createObservability } from './observability.js';
import { json } from './openapi.js';
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

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Operations'],
  summary: 'Liveness (no authentication, no DynamoDB call)',
  responses: { 200: { description: 'Alive', content: json(z.object({ status: z.literal('ok') })) } },
});

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
      observability.error('Unhandled error', { requestId: c.get('requestId'), error: String((error as Error)?.stack ?? error) });
    }
    return problemResponse(c, problem);
  });
  app.notFound((c) => problemResponse(c, errors.notFound()));

  app.use('*', provide(services), trace(observability));
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.use('/api/*', authenticate, limitBody, requireJsonBody);

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

/** `GET /openapi.json`, generated from the schemas the routes validate with, and `GET /docs`. */
function documentApi(app: ReturnType<typeof newRouter>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer puk_<keyId>_<secret>`',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Project Users API',
      version: '1.0.0',
      description:
        'Who may do what in which project. Errors are RFC 9457 `application/problem+json`. Every response carries `X-Request-Id`; POSTs honour `Idempotency-Key`.',
    },
  });
  mountDocs(app);
}
