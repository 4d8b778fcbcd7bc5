import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { startLocalDynamo } from '../../scripts/dynamodb-local.js';
import { DEFAULT_LOCAL_REGION, LOCAL_CREDENTIALS } from '../../scripts/local-defaults.js';
import { ensureTable } from '../../functions/store/schema.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    tableName: string;
  }
}

/** One DynamoDB Local for the whole run, in memory, killed in teardown whatever the outcome. */
export default async function setup(project: TestProject) {
  const dynamo = await startLocalDynamo({ dataDir: null });
  const tableName = 'project-users-test';
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: DEFAULT_LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    await dynamo.stop();
    throw error;
  } finally {
    client.destroy();
  }
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('tableName', tableName);
  return async () => {
    await dynamo.stop();
  };
}
