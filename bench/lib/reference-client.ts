/**
 * The DynamoDB client of the cold-start reference handlers (bench/baseline-handler.ts,
 * bench/stack-floor-handler.ts): a plain Document client from the environment, with the same
 * timeouts as the store's, and none of the project's code but its local defaults.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LOCAL_REGION, LOCAL_CREDENTIALS } from '../../scripts/local-defaults.js';

const endpoint = process.env.DYNAMODB_ENDPOINT || undefined;
export const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: process.env.AWS_REGION ?? DEFAULT_LOCAL_REGION,
    endpoint,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
    ...(endpoint ? { credentials: LOCAL_CREDENTIALS } : {}),
  }),
);
export const TableName = process.env.TABLE_NAME!;
