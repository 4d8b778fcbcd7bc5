/**
 * The DynamoDB client of the cold-start reference handlers (bench/baseline-handler.ts,
 * bench/stack-floor-handler.ts): a plain Document client from the environment, with the same
 * timeouts as the store's, and none of the project's code.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const endpoint = process.env.DYNAMODB_ENDPOINT || undefined;
export const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
    ...(endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  }),
);
export const TableName = process.env.TABLE_NAME!;
