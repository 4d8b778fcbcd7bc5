/**
 * The API as a plain HTTP server for the throughput runs of `npm run bench`: the same app the
 * Lambda entry wires from the environment, bundled with the stack's esbuild options and run by
 * `node` (no tsx), so its memory is the function's. Tells the parent its port over IPC, and
 * profiles its CPU when the parent asks.
 */
import { serve } from '@hono/node-server';
import { app } from '../functions/app.js';
import { keepIdleConnections } from './lib/load.js';
import { serveProfileRequests } from './lib/window-profile.js';

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send?.({ port: info.port });
});
keepIdleConnections(server);
// The bench profiles its measured windows only (never start-up or warm-up).
serveProfileRequests();
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
