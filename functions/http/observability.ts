import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Config } from '../config.js';
import { escapeForbidden } from '../domain/text.js';

/** What is logged for every request: never a secret, only the key's ID. */
export interface RequestRecord {
  /** The X-Request-Id answered: the client's if it sent a sane one, so not a join key. */
  requestId: string;
  /** On API Gateway: its request ID, the access log's `requestId`, whatever the client sent. */
  apiRequestId?: string;
  method: string;
  route: string;
  path: string;
  status: number;
  latencyMs: number;
  keyId: string | null;
}

const SERVICE = 'project-users';

/**
 * The stage the stack deploys this function to (infra/stack.ts sets it), read once at load: a
 * dimension of every metric, so stages sharing an account and region never share a series.
 */
export const STAGE_ENV = 'STAGE';
const STAGE = process.env[STAGE_ENV] || 'local';

/** The Lambda invocation context (hono/aws-lambda passes it as `lambdaContext`). */
export type InvocationContext = Parameters<Logger['addContext']>[0];
const LEVELS = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3, SILENT: 4 } as const;

/**
 * Structured logs (Powertools Logger, JSON) and EMF metrics (Powertools Metrics) on Lambda;
 * one readable line per request locally. Built once per app.
 */
export function createObservability(config: Pick<Config, 'logFormat' | 'logLevel' | 'metricsEnabled'>) {
  const json = config.logFormat === 'json';
  const logger = json ? new Logger({ serviceName: SERVICE, logLevel: config.logLevel }) : null;
  const metrics = config.metricsEnabled
    ? new Metrics({ namespace: 'ProjectUsers', serviceName: SERVICE, defaultDimensions: { stage: STAGE } })
    : null;
  const enabled = (level: keyof typeof LEVELS) => LEVELS[level] >= LEVELS[config.logLevel];

  return {
    /**
     * At the start of each Lambda invocation: every line logged until the next one carries its
     * `function_request_id` (the access log's `lambdaRequestId`) and `cold_start`. Lambda runs one
     * invocation at a time per instance, so lines never mix invocations.
     */
    invocation(context: InvocationContext | undefined) {
      if (logger && context) logger.addContext(context);
    },
    request(record: RequestRecord) {
      if (logger) logger.info('request', { ...record });
      else if (enabled('INFO')) {
        const key = record.keyId ? ` key=${record.keyId}` : '';
        // The path is the client's: escaped, so that a `%0A` in it cannot start a forged line.
        console.log(`${new Date().toISOString().slice(11, 23)} ${record.method} ${escapeForbidden(record.path)} → ${record.status} ${record.latencyMs}ms${key} [${record.requestId}]`);
      }
      if (metrics) {
        // One EMF line per request, both metrics under the same dimensions.
        metrics.addDimensions({ route: `${record.method} ${record.route}`, statusClass: `${Math.floor(record.status / 100)}xx` });
        metrics.addMetric('Requests', MetricUnit.Count, 1);
        metrics.addMetric('Latency', MetricUnit.Milliseconds, record.latencyMs);
        metrics.publishStoredMetrics();
      }
    },
    error(message: string, details: Record<string, unknown>) {
      if (logger) logger.error(message, details);
      else if (enabled('ERROR')) console.error(`ERROR ${message}`, details);
    },
  };
}

export type Observability = ReturnType<typeof createObservability>;
