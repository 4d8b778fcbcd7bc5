/** What every AWS client of the service shares: the region, and how it reaches a local stand-in. */

/** The region from the environment (`AWS_REGION`, as Lambda sets it), else `us-east-1`. */
export function regionOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/** A local stand-in (DynamoDB Local, a test's fake AWS) accepts any credentials: these fixed ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * An AWS client's endpoint: an override points it at a local stand-in, with `LOCAL_CREDENTIALS`;
 * without one, on AWS, the default chain supplies real credentials.
 */
export function localEndpoint(endpoint: string | undefined) {
  return endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : { endpoint };
}
