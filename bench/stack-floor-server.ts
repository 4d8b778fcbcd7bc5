/**
 * The stack floor (bench/stack-floor-handler.ts: the limit's one `GetCommand` behind one
 * `@hono/zod-openapi` route with Powertools) as an HTTP server, like bench/server.ts: what an HTTP
 * server on these libraries reaches on this machine before any of the project's code runs.
 */
import { serve } from '@hono/node-server';
import { app } from './stack-floor-handler.js';
import { keepIdleConnections } from './lib/load.js';
import { serveProfileRequests } from './lib/window-profile.js';

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send?.({ port: info.port });
});
keepIdleConnections(server);
serveProfileRequests();
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
