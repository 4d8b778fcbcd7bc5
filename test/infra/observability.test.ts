import { afterEach, describe, expect, it, vi } from 'vitest';
import { STAGE_ENV, type RequestRecord } from '../../functions/http/observability.js';

/**
 * What the deployed API function writes to CloudWatch, as an operator queries it: EMF metrics
 * (stage by stage) and the request log lines (joined to the HTTP API's access log).
 */

/** The JSON lines written to stdout while `run` runs. */
async function stdoutLines(run: () => unknown | Promise<unknown>): Promise<Array<Record<string, any>>> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

const record: RequestRecord = {
  requestId: 'r-1',
  method: 'GET',
  route: '/api/projects',
  path: '/api/projects',
  status: 200,
  latencyMs: 12,
  keyId: 'key_1',
};

describe('custom metrics (EMF)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  /** The module as a function loads it, with STAGE as the stack sets it (read once at load). */
  async function loadWithStage(stage: string) {
    vi.stubEnv(STAGE_ENV, stage);
    vi.resetModules();
    return import('../../functions/http/observability.js');
  }

  it("carry the function's stage as a dimension: two stages in one account are two series", async () => {
    const series = [];
    for (const stage of ['staging', 'prod']) {
      const { createObservability } = await loadWithStage(stage);
      const observability = createObservability({ logFormat: 'json', logLevel: 'SILENT', metricsEnabled: true });
      const emf = (await stdoutLines(() => observability.request(record))).filter((l) => l._aws);
      expect(emf).toHaveLength(1);
      const [{ Namespace, Dimensions, Metrics }] = emf[0]!._aws.CloudWatchMetrics;
      expect(Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual(['Latency', 'Requests']);
      // Every dimension set of the line has the stage, and the line gives its value.
      expect(Dimensions.length).toBeGreaterThan(0);
      for (const set of Dimensions as string[][]) expect(set).toContain('stage');
      expect(emf[0]!.stage).toBe(stage);
      const dims = Object.fromEntries((Dimensions[0] as string[]).map((d) => [d, emf[0]![d]]));
      series.push(JSON.stringify({ Namespace, dims }));
    }
    expect(new Set(series).size).toBe(2);
  });
});
