import { randomBytes } from 'node:crypto';
import { regionOf } from './aws.js';
import { readSecretString } from './secrets.js';
import type { CursorSecret } from './store/cursor.js';

/**
 * Environment, read once at load. A missing required variable fails the cold start loudly rather
 * than the first request obscurely.
 */
export interface Config {
  tableName: string;
  region: string;
  /** DynamoDB endpoint override (DynamoDB Local); unset on AWS. */
  dynamoEndpoint: string | undefined;
  /**
   * Seals (encrypts and authenticates) pagination cursors, so a cursor is unreadable and an edited one rejected. On Lambda: the Secrets Manager secret
   * at `CURSOR_SECRET_ARN`, as a function that reads it (`loadConfig`): the store calls it once at
   * load, beside the first request, and again only after a failed read. Locally: `CURSOR_SECRET`,
   * or a random secret per process. Never derived from a name.
   */
  cursorSecret: CursorSecret;
  /** How long a resolved API key may be trusted from memory by reads (capped at 5 s). */
  keyCacheSeconds: number;
  /** `json` (one JSON object per line, the default on Lambda) or `pretty` (the default locally). */
  logFormat: 'json' | 'pretty';
  /** DEBUG, INFO, WARN, ERROR or SILENT. */
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** CloudWatch EMF metrics on stdout: on by default on Lambda, off locally. */
  metricsEnabled: boolean;
}

/**
 * SPEC §1: reads may rest on a per-instance key cache for at most 5 s (writes never do: their
 * transaction checks the key's item). The cache exists because a key's two items would otherwise
 * be read before every request; 5 s bounds how long a revoked key can still read on an instance
 * that cached it before the revocation.
 */
export const KEY_CACHE_MAX_SECONDS = 5;

/** The stack generates 64 characters; a shorter secret is a mistake, refused at load. */
export const MIN_CURSOR_SECRET_LENGTH = 32;

function checkedCursorSecret(value: string, source: string): string {
  if (value.length < MIN_CURSOR_SECRET_LENGTH) throw new Error(`${source} must be at least ${MIN_CURSOR_SECRET_LENGTH} characters`);
  return value;
}

let localCursorSecret: string | undefined;

function cursorSecretFromEnv(env: NodeJS.ProcessEnv, onLambda: boolean): string {
  if (env.CURSOR_SECRET_ARN) {
    throw new Error('CURSOR_SECRET_ARN is read from Secrets Manager: load the configuration with loadConfig()');
  }
  if (env.CURSOR_SECRET) return checkedCursorSecret(env.CURSOR_SECRET, 'CURSOR_SECRET');
  if (onLambda) {
    throw new Error('Missing CURSOR_SECRET_ARN: on Lambda the cursor secret comes from Secrets Manager (the stack sets it)');
  }
  // Clearly local (`npm start`, scripts, tests): one random secret per process, shared by every
  // app in it; its cursors end with the process.
  return (localCursorSecret ??= randomBytes(32).toString('base64url'));
}


function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

/**
 * The configuration from the environment alone. With `CURSOR_SECRET_ARN` set, use `loadConfig`,
 * which passes the function that reads the secret in `resolved`.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, resolved: { cursorSecret?: Config['cursorSecret'] } = {}): Config {
  const tableName = required(env, 'TABLE_NAME');
  const keyCacheSeconds = Number(env.KEY_CACHE_SECONDS ?? KEY_CACHE_MAX_SECONDS);
  if (!Number.isFinite(keyCacheSeconds) || keyCacheSeconds < 0 || keyCacheSeconds > KEY_CACHE_MAX_SECONDS) {
    throw new Error(`KEY_CACHE_SECONDS must be a number between 0 and ${KEY_CACHE_MAX_SECONDS}`);
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
    region: regionOf(env),
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    cursorSecret: resolved.cursorSecret ?? cursorSecretFromEnv(env, onLambda),
    keyCacheSeconds,
  };
}

/**
 * `readConfig`, with what the environment only points at: with `CURSOR_SECRET_ARN`, a function
 * that reads the cursor secret in one Secrets Manager `GetSecretValue` call. The store calls it at
 * load without waiting for it, so on a cold Lambda the call overlaps the first request's own reads
 * instead of coming before them (one sequential round trip to another service fewer); the API
 * answers no request and sends no write without it (app.ts `requireCursorSecret`), and a failed
 * read is a 503 with the reason logged, read again by the next request. A missing or contradictory
 * setting still fails the cold start. `SECRETS_MANAGER_ENDPOINT` points the client at a local
 * stand-in (tests).
 */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const arn = env.CURSOR_SECRET_ARN;
  if (!arn) return readConfig(env);
  if (env.CURSOR_SECRET) throw new Error('Set CURSOR_SECRET or CURSOR_SECRET_ARN, not both');
  const region = regionOf(env);
  const endpoint = env.SECRETS_MANAGER_ENDPOINT || undefined;
  const readCursorSecret = async () => {
    let secret: string;
    try {
      secret = await readSecretString(arn, { region, endpoint });
    } catch (error) {
      throw new Error(`Cannot read the cursor secret ${arn} from Secrets Manager: ${(error as Error).message}`, { cause: error });
    }
    return checkedCursorSecret(secret, 'The secret at CURSOR_SECRET_ARN');
  };
  return readConfig(env, { cursorSecret: readCursorSecret });
}
