/**
 * `npm start`: DynamoDB Local (persisting to .data/, or `--in-memory`), the table, a bootstrap
 * org with a printed `global` key on first start, and the API on http://localhost:3000.
 */
import { serve } from '@hono/node-server';
import { parseArgs } from 'node:util';
import { startLocalDynamo, type LocalDynamo } from './dynamodb-local.js';

const { values: args } = parseArgs({
  options: { 'in-memory': { type: 'boolean', default: false }, 'data-dir': { type: 'string', default: '.data' } },
});

const port = Number(process.env.PORT ?? 3000);
process.env.TABLE_NAME ||= 'project-users-local';
// Lambda runs Node 22 (the stack's runtime); the SDK's Node 20 notice is noise locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_REGION ||= 'us-east-1';

let dynamo: LocalDynamo | null = null;
if (!process.env.DYNAMODB_ENDPOINT) {
  // A fixed port, so `npm run admin` finds the same engine while the server runs.
  dynamo = await startLocalDynamo({
    port: Number(process.env.DYNAMODB_LOCAL_PORT ?? 8000),
    dataDir: args['in-memory'] ? null : args['data-dir'],
  });
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  console.log(`DynamoDB Local: ${dynamo.endpoint} (${args['in-memory'] ? 'in memory' : `data in ${args['data-dir']}/`})`);
}

// Imported after the environment is set: the app reads its configuration once, at load.
const { app } = await import('../functions/app.js');
const { readConfig } = await import('../functions/config.js');
const { createStore } = await import('../functions/store/store.js');
const { createDocumentClient } = await import('../functions/store/client.js');
const { ensureTable } = await import('../functions/store/schema.js');
const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
const { adminOps } = await import('./admin-ops.js');

const config = readConfig();
const raw = new DynamoDBClient({
  region: config.region,
  endpoint: config.dynamoEndpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const created = await ensureTable(raw, config.tableName);
raw.destroy();
console.log(`Table ${config.tableName}: ${created}`);

const store = createStore(config, createDocumentClient(config));
if (!(await store.isBootstrapped())) {
  const result = await adminOps(store).bootstrap({ orgName: 'Local org', ownerName: 'Local admin' });
  await store.markBootstrapped(result.org.orgId);
  console.log(`Organization ${result.org.orgId}, owner ${result.owner.userId}`);
  console.log(`API key: ${result.secret}`);
} else {
  console.log('Existing data reused (no new key); create one with `npm run admin -- create-key ...`.');
}

const server = serve({ fetch: app.fetch, port }, (info) => {
  console.log(`Project Users API listening on http://localhost:${info.port}`);
  console.log(`API docs (paste the key under Authentication → Bearer Token): http://localhost:${info.port}/docs`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  await dynamo?.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
