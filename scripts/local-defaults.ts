/**
 * What `npm start` and `npm run admin` assume about the local engine, defined once so the two always
 * agree: the admin CLI finds the DynamoDB Local that `npm start` runs with the same variables.
 *
 * - DYNAMODB_ENDPOINT: an engine the user chose deliberately (used as is; `npm start` starts none).
 * - DYNAMODB_LOCAL_PORT: otherwise, the port of the DynamoDB Local that `npm start` starts on 127.0.0.1.
 */

/** DynamoDB Local only ever listens on this address (see scripts/DynamoDBLocalLoopback.java). */
export const LOCAL_HOST = '127.0.0.1';
export const DEFAULT_DYNAMODB_LOCAL_PORT = 8000;
export const DEFAULT_LOCAL_TABLE = 'project-users-local';
export const DEFAULT_LOCAL_REGION = 'us-east-1';
/** DynamoDB Local accepts any credentials; fixed ones keep the AWS credential chain out of local runs. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A setting the user can fix; callers print `message` alone, without a stack trace. */
export class LocalSetupError extends Error {
  override name = 'LocalSetupError';
}

export function localEndpointFor(port: number): string {
  return `http://${LOCAL_HOST}:${port}`;
}

/** DYNAMODB_LOCAL_PORT, or 8000 when unset or empty. */
export function localDynamoPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DYNAMODB_LOCAL_PORT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_DYNAMODB_LOCAL_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port < 1 || port > 65535) {
    throw new LocalSetupError(`DYNAMODB_LOCAL_PORT must be a port number between 1 and 65535 (it is "${raw}").`);
  }
  return port;
}

export type LocalEndpointSource = 'DYNAMODB_ENDPOINT' | 'DYNAMODB_LOCAL_PORT' | 'default';

/** The engine `npm start` uses, and so the one `npm run admin` looks for: where it is and why. */
export function localDynamoEndpoint(env: NodeJS.ProcessEnv = process.env): { endpoint: string; source: LocalEndpointSource } {
  if (env.DYNAMODB_ENDPOINT) return { endpoint: env.DYNAMODB_ENDPOINT, source: 'DYNAMODB_ENDPOINT' };
  const port = localDynamoPort(env);
  return { endpoint: localEndpointFor(port), source: env.DYNAMODB_LOCAL_PORT?.trim() ? 'DYNAMODB_LOCAL_PORT' : 'default' };
}

export function localTableName(env: NodeJS.ProcessEnv = process.env): string {
  return env.TABLE_NAME || DEFAULT_LOCAL_TABLE;
}

export function localRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULT_LOCAL_REGION;
}

/** A word as a POSIX shell reads it back: bare when plainly safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The local settings of this process that differ from the defaults, as `NAME=value ` prefixes:
 * what another shell needs for `npm run admin` to find the same engine and table. Never throws (a
 * bad DYNAMODB_LOCAL_PORT is reported where it is used).
 */
export function localEnvPrefix(env: NodeJS.ProcessEnv = process.env): string {
  const settings: string[] = [];
  const port = env.DYNAMODB_LOCAL_PORT?.trim();
  if (env.DYNAMODB_ENDPOINT) settings.push(`DYNAMODB_ENDPOINT=${shellWord(env.DYNAMODB_ENDPOINT)}`);
  else if (port && port !== String(DEFAULT_DYNAMODB_LOCAL_PORT)) settings.push(`DYNAMODB_LOCAL_PORT=${shellWord(port)}`);
  if (env.TABLE_NAME && env.TABLE_NAME !== DEFAULT_LOCAL_TABLE) settings.push(`TABLE_NAME=${shellWord(env.TABLE_NAME)}`);
  return settings.map((setting) => `${setting} `).join('');
}

/** `npm run admin -- <args>` as one pastes it into another shell, with the local settings it needs. */
export function localAdminCommand(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return `${localEnvPrefix(env)}npm run admin -- ${args.map(shellWord).join(' ')}`;
}
