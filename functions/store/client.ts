import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.js';
import { localEndpoint } from '../aws.js';

/** The SDK's per-call log record (`@aws-sdk/core` `getLoggerPlugin`), which this client leaves out. */
export const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

/**
 * One Document client per store. Short timeouts and few attempts: a throttled or unreachable
 * table must become a prompt 503, not a Lambda timeout.
 */
export function createDocumentClient(config: Pick<Config, 'region' | 'dynamoEndpoint'>): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...localEndpoint(config.dynamoEndpoint),
    maxAttempts: 2,
    // Without throwOnRequestTimeout the SDK only logs a warning and waits on a stalled socket.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  // The SDK's logger middleware builds a log record of every call (walking the whole response
  // through the schema's sensitive-data filter) even for its no-op logger; nothing here reads it.
  // Measured in-process against DynamoDB Local: a 50-item Query 5.1 -> 3.9 ms CPU per call. Errors
  // still reach the store as exceptions.
  if (!client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE)) throw new Error(`the DynamoDB client has no ${SDK_LOGGER_MIDDLEWARE}`);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
