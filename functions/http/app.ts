import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Config } from '../config.js';
import { errors } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { createAuthenticator } from './auth.js';
import { newRouter, type AppEnv, type Services } from './context.js';
import { problemResponse, toDomainError } from './problem.js';
import { keyRoutes } from './routes/keys.js';
import { projectUserRoutes } from './routes/project-users.js';
import { projectRoutes } from './routes/projects.js';
import { userRoutes } from './routes/users.js';

export const MAX_BODY_BYTES = 64 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

export function createApp(deps: { store: Store; config: Config }) {
  const services: Services = {
    ...deps,
    auth: createAuthenticator(deps.store, { cacheSeconds: deps.config.keyCacheSeconds }),
  };

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
  app.onError((error, c) => problemResponse(c, toDomainError(error)));
  app.notFound((c) => problemResponse(c, errors.notFound()));

  app.get('/health', (c) => c.json({ status: 'ok' }));

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

  return routes;
}
