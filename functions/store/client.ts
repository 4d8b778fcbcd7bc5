import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.js';
import { localEndpoint } from '../aws.js';

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
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
