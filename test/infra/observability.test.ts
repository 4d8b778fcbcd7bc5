import { handle } from 'hono/aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STAGE_ENV, type RequestRecord } from '../../functions/http/observability.js';
import { testApp } from '../support/app.js';
import { FRONT_DOORS, invoke, lambdaContext, type LambdaHandler } from '../support/aws-events.js';

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

describe('request log lines on Lambda', () => {
  it("carry API Gateway's and Lambda's request IDs, whatever X-Request-Id the client sends: they join the access log", async () => {
    // As functions/api.ts builds it, with the JSON log the functions write on Lambda.
    const handler = handle(testApp({ logFormat: 'json', logLevel: 'INFO', metricsEnabled: false }).app) as unknown as LambdaHandler;
    const door = FRONT_DOORS[0]!; // the HTTP API
    const request = { method: 'GET', path: '/health', headers: { 'X-Request-Id': 'chosen-by-the-client' } };
    const apiRequestId = (door.toEvent(request) as { requestContext: { requestId: string } }).requestContext.requestId;
    expect(apiRequestId).toMatch(/\S/);
    let status = 0;
    const lines = await stdoutLines(async () => {
      status = (await invoke(handler, door, request)).status;
    });
    expect(status).toBe(200);
    const entry = lines.find((l) => l.message === 'request');
    expect(entry).toMatchObject({
      // The access log's `lambdaRequestId` ($context.integration.requestId) ...
      function_request_id: lambdaContext.awsRequestId,
      // ... and its `requestId` ($context.requestId).
      apiRequestId,
      // The answered X-Request-Id stays the client's, logged as such.
      requestId: 'chosen-by-the-client',
      route: '/health',
      status: 200,
    });
  });
});
