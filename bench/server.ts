/**
 * The API as a plain HTTP server for the throughput runs of `npm run bench`: the same app the
 * Lambda entry wires from the environment, bundled with the stack's esbuild options and run by
 * `node` (no tsx), so its memory is the function's. Tells the parent its port over IPC.
 */
import { serve } from '@hono/node-server';
import { app } from '../functions/app.js';

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send?.({ port: info.port });
});
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
