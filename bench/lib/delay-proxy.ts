import { Agent, createServer, request as httpRequest } from 'node:http';

/**
 * A proxy on 127.0.0.1 in front of DynamoDB Local that holds every request for a fixed delay
 * before forwarding it (a stand-in for the network round trip to DynamoDB), and records each
 * call: its operation (`X-Amz-Target`), when it arrived and when its answer was sent.
 */
export interface ProxyCall {
  op: string;
  label: string;
  start: number;
  end: number;
}

export interface DelayProxy {
  endpoint: string;
  /** Added before forwarding each request, ms. */
  delayMs: number;
  /** Tag for the calls that arrive from now on (the route being measured). */
  label: string;
  /** When set, a request it answers a promise for is forwarded only once that settles (a test's race). */
  gate: ((op: string, body: string) => Promise<void> | undefined) | null;
  calls: ProxyCall[];
  close(): Promise<void>;
}

export async function startDelayProxy(upstream: string): Promise<DelayProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy: DelayProxy = { endpoint: '', delayMs: 0, label: '', gate: null, calls: [], close: async () => {} };

  const server = createServer((req, res) => {
    const start = performance.now();
    const label = proxy.label;
    const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = () => {
        const upstreamReq = httpRequest(
          {
            hostname: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: target.host },
            agent,
          },
          (upstreamRes) => {
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            upstreamRes.pipe(res);
            upstreamRes.on('end', () => proxy.calls.push({ op, label, start, end: performance.now() }));
          },
        );
        upstreamReq.on('error', () => res.destroy());
        upstreamReq.end(Buffer.concat(chunks));
      };
      const wait = proxy.delayMs - (performance.now() - start);
      const delayed = () => (wait > 0 ? setTimeout(forward, wait) : forward());
      const held = proxy.gate?.(op, Buffer.concat(chunks).toString('utf8'));
      if (held) void held.then(delayed, delayed);
      else delayed();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}

/**
 * Sequential depth of a set of calls: the longest chain in which each call starts after the
 * previous one's answer — the number of round trips a caller waits for, one after another.
 */
export function sequentialDepth(calls: readonly ProxyCall[]): number {
  const sorted = [...calls].sort((a, b) => a.end - b.end);
  const depth: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let best = 0;
    for (let j = 0; j < i; j++) if (sorted[j]!.end <= sorted[i]!.start) best = Math.max(best, depth[j]!);
    depth.push(best + 1);
  }
  return Math.max(0, ...depth);
}
