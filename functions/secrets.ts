import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localEndpoint } from './aws.js';

/**
 * One secret's current string value (`AWSCURRENT`), read with the real Secrets Manager client: one
 * `GetSecretValue` call. The function `loadConfig` (functions/config.ts) hands over calls it once
 * per cold start, and again only after a failure. `endpoint` points the client at a local stand-in (tests).
 */
export async function readSecretString(secretId: string, options: { region: string; endpoint?: string }): Promise<string> {
  const client = new SecretsManagerClient({
    region: options.region,
    ...localEndpoint(options.endpoint),
    maxAttempts: 2,
    // Read beside a request, which waits at most CURSOR_SECRET_WAIT_MS for it (http/middleware.ts):
    // a stalled connection must fail with a reason and be read again, not hang.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
  });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof out.SecretString !== 'string') throw new Error('the secret has no string value');
    return out.SecretString;
  } finally {
    client.destroy();
  }
}
