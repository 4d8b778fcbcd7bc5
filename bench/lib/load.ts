import type { ServerType } from '@hono/node-server';
import { Agent, request, type Server } from 'node:http';

/**
 * The bench's load: `workers` loops, each sending its next request when the last one is answered
 * (closed loop), for `seconds`. The same loop drives the SDK alone (bench/limit.ts) and the API
 * over HTTP (bench/sections/throughput.ts), so both sides of a throughput ratio are measured alike.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

export async function closedLoop(workers: number, seconds: number, send: () => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const ok = await send().catch(() => false);
      if (ok) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

/** How long the bench servers keep an idle connection: longer than anything between two runs. */
const KEEP_ALIVE_MS = 10 * 60_000;

/**
 * For a bench server: the load client keeps its connections between measured runs (`httpLoad`
 * below), and Node's default of 5 s would close them while the SDK-alone run between two goes on.
 */
export function keepIdleConnections(server: ServerType) {
  (server as Server).keepAliveTimeout = KEEP_ALIVE_MS;
}

/**
 * An HTTP client that keeps its connections: one per worker, opened by the first (unmeasured) run
 * and reused by every later one. A fresh set per measured run would measure connection set-up:
 * a Node.js server accepts one new connection per event-loop turn (libuv ≥ 1.45, libuv/libuv#3696),
 * so under load the last of 50 new connections waited seconds in the accept queue (seen in a trial:
 * the listen socket's backlog held 50 and drained one per ~100 ms; the first request of the last
 * connection took 3.3 s). A Lambda instance has no listening socket, and the limit's own start-up
 * is left out of its measure too.
 */
export function httpLoad(baseUrl: string, connections: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const url = new URL(baseUrl);
  const get = (path: string, headers: Record<string, string>) =>
    new Promise<boolean>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode < 300));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return {
    run: (path: string, headers: Record<string, string>, seconds: number) => closedLoop(connections, seconds, () => get(path, headers)),
    /** Connections open now (they must stay open between runs: the bench servers keep them for minutes). */
    openConnections: () => Object.values(agent.freeSockets).reduce((n, sockets) => n + (sockets?.length ?? 0), 0),
    close: () => agent.destroy(),
  };
}
