/**
 * Cold-start baseline for `npm run bench`: the smallest useful Lambda of this shape — one Hono
 * route doing one `GetCommand` through the same SDK (Document client) and the same bundling
 * (`esbuildOptions` from infra/bundling.ts) as the API. No auth, no validation, no logging.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

const endpoint = process.env.DYNAMODB_ENDPOINT || undefined;
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
    ...(endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  }),
);
const TableName = process.env.TABLE_NAME!;

const app = new Hono().get('/api/projects/:projectId/users/:projectUserId', async (c) => {
  const out = await client.send(
    new GetCommand({
      TableName,
      Key: { PK: `PROJECT#${c.req.param('projectId')}`, SK: `PU#${c.req.param('projectUserId')}` },
    }),
  );
  return out.Item ? c.json(out.Item, 200) : c.json({ status: 404 }, 404);
});

export const handler = handle(app);
