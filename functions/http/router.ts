import { OpenAPIHono } from '@hono/zod-openapi';
import type { Config } from '../config.js';
import type { Principal } from '../domain/model.js';
import type { Store } from '../store/store.js';
import type { Authenticator } from './auth.js';
import { fromZodError } from './problem.js';

/** What every handler works with, per app: `createApp` puts it in `c.var.services`. */
export interface Services {
  store: Store;
  config: Config;
  auth: Authenticator;
}

export type AppEnv = { Variables: { principal: Principal; requestId: string; services: Services } };

/** Every router validates the same way: a failed schema is a 400 problem with field errors. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw fromZodError(result.error, result.target === 'json' ? 'body' : result.target);
    },
  });
}
