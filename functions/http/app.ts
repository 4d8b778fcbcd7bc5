import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { errors } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { createAuthenticator } from './auth.js';
import { newRouter, type AppEnv, type Services } from './context.js';
import { mountDocs } from './docs.js';
import { createObservability } from './observability.js';
import { problemResponse, toDomainError } from './problem.js';
import { keyRoutes } from './routes/keys.js';
import { projectUserRoutes } from './routes/project-users.js';
import { projectRoutes } from './routes/projects.js';
import { userRoutes } from './routes/users.js';

export const MAX_BODY_BYTES = 64 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createApp(deps: { store: Store; config: Config }) {
  const observability = createObservability(deps.config);
  const services: Services = {
    ...deps,
    auth: createAuthenticator(deps.store, { cacheSeconds: deps.config.keyCacheSeconds }),
  };

  /** X-Request-Id on every response (the client's, if sane), and one log line + metrics per request. */
  const trace = createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    const given = c.req.header('X-Request-Id');
    const lambdaRequestId = (c.env as { event?: { requestContext?: { requestId?: string } } } | undefined)?.event?.requestContext
      ?.requestId;
    const requestId = given && CLIENT_REQUEST_ID.test(given) ? given : (lambdaRequestId ?? randomUUID());
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    observability.request({
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      path: c.req.path,
      status: c.res.status,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      keyId: c.get('principal')?.key.keyId ?? null,
    });
  });

  const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method === 'POST' || c.req.method === 'PATCH' || c.req.method === 'PUT') {
      const contentType = c.req.header('Content-Type')?.split(';')[0]?.trim() ?? '';
      if (!JSON_MEDIA_TYPE.test(contentType)) throw errors.unsupportedMediaType();
    }
    await next();
  });

  const authenticate = createMiddleware<AppEnv>(async (c, next) => {
    c.set('principal', await services.auth.authenticate(c.req.header('Authorization')));
    await next();
  });

  const app = newRouter();
  app.onError((error, c) => {
    const problem = toDomainError(error);
    if (problem.status >= 500 && problem.status !== 503) {
      observability.error('Unhandled error', { requestId: c.get('requestId'), error: String((error as Error)?.stack ?? error) });
    }
    return problemResponse(c, problem);
  });
  app.notFound((c) => problemResponse(c, errors.notFound()));

  app.use('*', trace);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      tags: ['Operations'],
      summary: 'Liveness (no authentication, no DynamoDB call)',
      responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  app.use('/api/*', authenticate);
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw errors.payloadTooLarge(MAX_BODY_BYTES);
      },
    }),
  );
  app.use('/api/*', requireJsonBody);

  const routes = app
    .route('/api', projectUserRoutes(services))
    .route('/api', projectRoutes(services))
    .route('/api', userRoutes(services))
    .route('/api', keyRoutes(services));

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

  return routes;
}
