/**
 * Environment, read once at load. A missing required variable fails the cold start loudly rather
 * than the first request obscurely.
 */
export interface Config {
  tableName: string;
  region: string;
  /** DynamoDB endpoint override (DynamoDB Local); unset on AWS. */
  dynamoEndpoint: string | undefined;
  /** Signs pagination cursors so a forged cursor is rejected. */
  cursorSecret: string;
  /** How long a resolved API key may be trusted from memory (capped at 30 s). */
  keyCacheSeconds: number;
  /** `json` (one JSON object per line, the default on Lambda) or `pretty` (the default locally). */
  logFormat: 'json' | 'pretty';
  /** DEBUG, INFO, WARN, ERROR or SILENT. */
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** CloudWatch EMF metrics on stdout: on by default on Lambda, off locally. */
  metricsEnabled: boolean;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = required(env, 'TABLE_NAME');
  const keyCacheSeconds = Number(env.KEY_CACHE_SECONDS ?? 30);
  if (!Number.isFinite(keyCacheSeconds) || keyCacheSeconds < 0 || keyCacheSeconds > 30) {
    throw new Error('KEY_CACHE_SECONDS must be a number between 0 and 30');
  }
  const onLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  const logFormat = env.LOG_FORMAT ?? (onLambda ? 'json' : 'pretty');
  if (logFormat !== 'json' && logFormat !== 'pretty') throw new Error('LOG_FORMAT must be json or pretty');
  const logLevel = (env.LOG_LEVEL ?? 'INFO').toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'].includes(logLevel)) {
    throw new Error('LOG_LEVEL must be DEBUG, INFO, WARN, ERROR or SILENT');
  }
  return {
    logFormat,
    logLevel: logLevel as Config['logLevel'],
    metricsEnabled: env.METRICS ? env.METRICS === 'on' : onLambda,
    tableName,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    cursorSecret: env.CURSOR_SECRET || `project-users-cursor:${tableName}`,
    keyCacheSeconds,
  };
}
