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
  return {
    tableName,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    cursorSecret: env.CURSOR_SECRET || `project-users-cursor:${tableName}`,
    keyCacheSeconds,
  };
}
