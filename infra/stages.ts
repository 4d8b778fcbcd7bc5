import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { KEY_CACHE_MAX_SECONDS } from '../functions/config.js';

/**
 * Per-stage settings, in one typed place. Adding a stage is adding one entry to `STAGES`;
 * `npx cdk synth|deploy -c stage=<name>` selects it and `npm run synth` synthesizes every entry.
 */
export interface StageConfig {
  /**
   * Where to deploy. Omitted: an environment-agnostic stack that deploys to the account and region
   * of the CLI's credentials (and synthesizes offline with no account at all).
   */
  readonly env?: { readonly account?: string; readonly region?: string };
  readonly table: {
    /** Prod: CloudFormation refuses to delete the table, and the stack keeps it when removed. */
    readonly deletionProtection: boolean;
    /** `retain` keeps the table (and log groups) when the stack is deleted; `destroy` deletes them. */
    readonly removal: 'retain' | 'destroy';
  };
  readonly api: {
    readonly memoryMb: number;
    /** Stay well below API Gateway's 30 s integration timeout. */
    readonly timeoutSeconds: number;
    /** Steady-state requests per second and burst, for the whole HTTP API stage. */
    readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
    /** Browser origins allowed by CORS; omitted: no CORS (server-to-server callers only). */
    readonly cors?: { readonly allowOrigins: readonly string[]; readonly maxAgeSeconds: number };
    /** How long reads may trust a resolved API key from memory (0 to KEY_CACHE_MAX_SECONDS = 5 s). */
    readonly keyCacheSeconds: number;
  };
  /** Retention of every log group of the stage (function logs and API access logs). */
  readonly logRetention: RetentionDays;
  /** X-Ray active tracing on the functions. */
  readonly tracing: boolean;
  readonly alarms: {
    /**
     * Optional: subscribes this e-mail to the stage's alarm topic (which exists in every stage and
     * receives every alarm and its recovery; its ARN is the `AlarmTopicArn` output).
     */
    readonly email?: string;
    /** 5xx responses as a percentage of requests, over 5 minutes. */
    readonly serverErrorRatePercent: number;
    /** p99 of API Gateway `Latency`, in milliseconds, over 5 minutes. */
    readonly p99LatencyMs: number;
    /**
     * Errors of each function (API, events publisher, OrgUserDeleted consumer) in 5 minutes:
     * uncaught exceptions and timeouts, not 4xx/5xx answers or records the publisher holds.
     */
    readonly functionErrors: number;
    /** Throttled function invocations in 5 minutes. */
    readonly functionThrottles: number;
    /** DynamoDB throttled requests in 5 minutes. */
    readonly dynamoThrottles: number;
  };
}

const cors = { allowOrigins: ['*'], maxAgeSeconds: 600 } as const;

export const STAGES = {
  dev: {
    table: { deletionProtection: false, removal: 'destroy' },
    api: {
      memoryMb: 512,
      timeoutSeconds: 10,
      throttle: { rateLimit: 20, burstLimit: 40 },
      cors,
      keyCacheSeconds: KEY_CACHE_MAX_SECONDS,
    },
    logRetention: RetentionDays.ONE_WEEK,
    tracing: false,
    alarms: {
      serverErrorRatePercent: 5,
      p99LatencyMs: 3_000,
      functionErrors: 5,
      functionThrottles: 5,
      dynamoThrottles: 5,
    },
  },
  staging: {
    table: { deletionProtection: false, removal: 'destroy' },
    api: {
      memoryMb: 1024,
      timeoutSeconds: 10,
      throttle: { rateLimit: 50, burstLimit: 100 },
      cors,
      keyCacheSeconds: KEY_CACHE_MAX_SECONDS,
    },
    logRetention: RetentionDays.ONE_MONTH,
    tracing: true,
    alarms: {
      serverErrorRatePercent: 2,
      p99LatencyMs: 2_000,
      functionErrors: 1,
      functionThrottles: 1,
      dynamoThrottles: 1,
    },
  },
  prod: {
    table: { deletionProtection: true, removal: 'retain' },
    api: {
      memoryMb: 1024,
      timeoutSeconds: 10,
      throttle: { rateLimit: 200, burstLimit: 400 },
      // No CORS until a browser client exists: callers are tools, CI jobs and automations.
      keyCacheSeconds: KEY_CACHE_MAX_SECONDS,
    },
    logRetention: RetentionDays.THREE_MONTHS,
    tracing: true,
    alarms: {
      serverErrorRatePercent: 1,
      p99LatencyMs: 1_500,
      functionErrors: 1,
      functionThrottles: 1,
      dynamoThrottles: 1,
    },
  },
} as const satisfies Record<string, StageConfig>;

export type StageName = keyof typeof STAGES;

export const STAGE_NAMES = Object.keys(STAGES) as StageName[];

export function isStageName(value: unknown): value is StageName {
  return typeof value === 'string' && Object.hasOwn(STAGES, value);
}

/** The stage named by `-c stage=<name>`, or an error that lists the valid ones. */
export function resolveStage(value: unknown): StageName {
  if (isStageName(value)) return value;
  const valid = STAGE_NAMES.join(', ');
  const got = value === undefined || value === '' ? 'no stage given' : `unknown stage ${JSON.stringify(value)}`;
  throw new Error(`${got}. Select one with -c stage=<name>; valid stages: ${valid}.`);
}

export function stageConfig(stage: StageName): StageConfig {
  return STAGES[stage];
}

/** `ProjectUsers-<stage>`: the CloudFormation stack name of a stage. */
export function stackName(stage: StageName): string {
  return `ProjectUsers-${stage}`;
}
