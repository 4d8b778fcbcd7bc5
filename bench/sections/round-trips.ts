import { startDelayProxy, sequentialDepth, type ProxyCall } from '../lib/delay-proxy.js';
import { createCatalogScenarios, createColdKeyScenarios, createScenarios } from '../lib/scenarios.js';
import { fmt, markdownTable, median, pass, round } from '../lib/stats.js';
import { appFor, type World } from '../lib/world.js';

export interface RoundTripRow {
  route: string;
  kind: 'read' | 'write';
  informational?: string;
  calls: string;
  requests: number;
  depth: number;
  allowedRoundTrips: number;
  noDelayMs: number;
  delayedMs: number;
  boundMs: number;
  pass: boolean;
}

const summarizeCalls = (calls: ProxyCall[]) => {
  const counts = new Map<string, number>();
  for (const c of [...calls].sort((a, b) => a.start - b.start)) counts.set(c.op, (counts.get(c.op) ?? 0) + 1);
  return [...counts.entries()].map(([op, n]) => (n > 1 ? `${n}× ${op}` : op)).join(' + ');
};

/** The bench's cache window for the key-cached rows (the deployed one is KEY_CACHE_MAX_SECONDS). */
const WARM_KEY_CACHE_SECONDS = 3_600;

/**
 * Each route on a warm in-process app whose DynamoDB endpoint is the delay proxy, the caller's key
 * already cached: latency with 25 ms added to every DynamoDB request and with none, interleaved.
 * The proxy counts the requests and their sequential depth.
 */
export async function roundTrips(world: World, samples: number, delayMs: number) {
  const proxy = await startDelayProxy(world.dynamo.endpoint);
  try {
    const setup = appFor(world.config);
    // Key cached: a window longer than the run, so no sample renews it midway (the renewal is what
    // the "key not cached" rows measure; with the deployed 5 s, about one write in 12 counted it).
    const measured = appFor({ ...world.configFor(proxy.endpoint), keyCacheSeconds: WARM_KEY_CACHE_SECONDS });
    // Every request authenticates from the table, as the first request on a cold instance does.
    const uncached = appFor({ ...world.configFor(proxy.endpoint), keyCacheSeconds: 0 });
    const warmups = 2;
    const runs = warmups + 2 * samples;
    const scenarios = [
      ...(await createScenarios(setup, measured, runs, 'round trips')),
      // Roles and the check (SPEC §6, §7): here only, not in the capacity table.
      ...(await createCatalogScenarios(setup, measured, runs, 'round trips')),
      ...(await createColdKeyScenarios(setup, uncached, 'round trips')),
    ];
    const rows: RoundTripRow[] = [];
    for (const scenario of scenarios) {
      proxy.delayMs = 0;
      for (let i = 0; i < warmups; i++) await scenario.run();
      const timings: Record<number, number[]> = { [delayMs]: [], 0: [] };
      const delayedCalls: ProxyCall[][] = [];
      for (let i = 0; i < samples; i++) {
        for (const delay of i % 2 ? [0, delayMs] : [delayMs, 0]) {
          proxy.delayMs = delay;
          proxy.calls = [];
          const t0 = performance.now();
          await scenario.run();
          timings[delay]!.push(performance.now() - t0);
          if (delay === delayMs) delayedCalls.push(proxy.calls);
        }
      }
      const depth = Math.max(...delayedCalls.map(sequentialDepth));
      const requests = Math.max(...delayedCalls.map((c) => c.length));
      const noDelayMs = round(median(timings[0]!));
      const delayedMs = round(median(timings[delayMs]!));
      const boundMs = round((scenario.allowedRoundTrips + 0.3) * delayMs + noDelayMs);
      rows.push({
        route: scenario.name,
        kind: scenario.kind,
        informational: scenario.informational,
        calls: summarizeCalls(delayedCalls[0]!),
        requests,
        depth,
        allowedRoundTrips: scenario.allowedRoundTrips,
        noDelayMs,
        delayedMs,
        boundMs,
        // Reads: their round trips (1; 2 for a check of a presented key) and the latency bound, as the
        // target states; writes: at most two sequential requests (their latency is shown against the
        // same kind of bound, for reference).
        pass: depth <= scenario.allowedRoundTrips && (scenario.kind === 'write' || delayedMs < boundMs),
      });
    }
    measured.client.destroy();
    uncached.client.destroy();
    setup.client.destroy();
    const markdown = markdownTable(
      ['route', 'DynamoDB requests', 'n', 'sequential', 'no delay (ms)', `+${delayMs} ms/request (ms)`, 'bound (ms)', 'target'],
      rows.map((r) => [
        `\`${r.route}\``,
        r.calls,
        r.requests,
        `${r.depth} (≤ ${r.allowedRoundTrips})`,
        fmt(r.noDelayMs),
        fmt(r.delayedMs),
        `< ${fmt(r.boundMs)}`,
        r.informational ? `${pass(r.pass)} (${r.informational})` : pass(r.pass),
      ]),
      'llrrrrrl',
    );
    return { rows, markdown };
  } finally {
    await proxy.close();
  }
}
