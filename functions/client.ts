import { hc } from 'hono/client';
import type { AppType } from './app.js';

export type { AppType };

/**
 * A typed client for the API, generated from the same routes and schemas the server runs
 * (`hono/client`). Paths, params, bodies and response types are checked at compile time.
 *
 *   const api = createProjectUsersClient('https://api.example.com', process.env.PROJECT_USERS_KEY!);
 *   const res = await api.api.projects[':projectId'].users.$post({ param: { projectId }, json: { _id: userId } });
 */
export function createProjectUsersClient(baseUrl: string, apiKey: string, options: Parameters<typeof hc>[1] = {}) {
  return hc<AppType>(baseUrl, {
    ...options,
    headers: { ...(options.headers as Record<string, string> | undefined), Authorization: `Bearer ${apiKey}` },
  });
}
