/**
 * `npm start`: DynamoDB Local (persisting to .data/, or `--in-memory`), the table, a bootstrap
 * org with a printed `global` key on first start, and the API on http://localhost:3000.
 *
 * It only ever uses a DynamoDB Local it started itself, on 127.0.0.1:DYNAMODB_LOCAL_PORT (8000):
 * if anything else holds that port it refuses, writing nothing. DYNAMODB_ENDPOINT instead names an
 * engine the user runs on purpose; then none is started.
 */
import { serve } from '@hono/node-server';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PortInUseError, startLocalDynamo, type LocalDynamo } from './dynamodb-local.js';
import { LOCAL_CREDENTIALS, LocalSetupError, localAdminCommand, localDynamoPort, localRegion, localTableName } from './local-defaults.js';

const { values: args } = parseArgs({
  options: { 'in-memory': { type: 'boolean', default: false }, 'data-dir': { type: 'string', default: '.data' } },
});

const port = Number(process.env.PORT ?? 3000);
// How another shell reaches this table with the admin CLI (before the engine's URL is set below).
const listOrgs = localAdminCommand(['list-orgs']);
process.env.TABLE_NAME = localTableName();
// Lambda runs Node 22 (the stack's runtime); the SDK's Node 20 notice is noise locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_REGION = localRegion();

/** How to run a second copy beside one on these ports: the next ports, and data of its own. */
const secondCopyCommand = (dynamoPort: number) =>
  `DYNAMODB_LOCAL_PORT=${dynamoPort === 65535 ? 8001 : dynamoPort + 1} PORT=${port + 1} npm start -- --in-memory`;

function portTakenMessage(dynamoPort: number): string {
  return (
    `Port ${dynamoPort} (DYNAMODB_LOCAL_PORT) is already in use on this machine, so \`npm start\` did not start ` +
    `and wrote nothing: it only uses a DynamoDB Local it starts itself, and whatever listens on ${dynamoPort} ` +
    `(another \`npm start\`, another project's engine, any other program) is not that. Stop that program, or ` +
    `choose other ports for a second copy: \`${secondCopyCommand(dynamoPort)}\` ` +
    `(and the same DYNAMODB_LOCAL_PORT for \`npm run admin\`). To use an engine you run yourself on purpose, ` +
    `set DYNAMODB_ENDPOINT to its URL instead.`
  );
}

/** Whether something already listens on the API's port (checked before anything is started or written). */
function apiPortTaken(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, () => probe.close(() => resolve(false)));
  });
}

/**
 * One `npm start` per data folder: a second engine on the same files reads them but fails every
 * write (503). The folder holds the PID of the copy using it; a PID no longer running is stale.
 */
function claimDataDir(dataDir: string): () => void {
  const lock = join(dataDir, 'npm-start.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    let running = false;
    try {
      running = Number.isInteger(pid) && pid > 0 && pid !== process.pid && process.kill(pid, 0);
    } catch {
      running = false;
    }
    if (running) {
      throw new LocalSetupError(
        `${dataDir}/ is used by another \`npm start\` (process ${pid}), so this one did not start and wrote nothing: ` +
          'two engines on the same files would fail every write. Stop that one, or run a second copy on its own data: ' +
          `\`${secondCopyCommand(localDynamoPort())}\` (or \`-- --data-dir <another folder>\`). ` +
          `If no such copy runs, delete ${lock}.`,
      );
    }
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

let releaseDataDir = () => {};
let dynamo: LocalDynamo | null = null;
try {
  if (await apiPortTaken()) {
    throw new LocalSetupError(
      `Port ${port} (PORT) is already in use on this machine, so \`npm start\` did not start and wrote nothing. ` +
        `Stop that program, or choose another port: \`PORT=${port + 1} npm start\`.`,
    );
  }
  if (!process.env.DYNAMODB_ENDPOINT && !args['in-memory']) releaseDataDir = claimDataDir(args['data-dir']);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
if (!process.env.DYNAMODB_ENDPOINT) {
  try {
    // A fixed port, so `npm run admin` finds the same engine while the server runs.
    const dynamoPort = localDynamoPort();
    try {
      dynamo = await startLocalDynamo({ port: dynamoPort, dataDir: args['in-memory'] ? null : args['data-dir'] });
    } catch (error) {
      if (error instanceof PortInUseError) throw new LocalSetupError(portTakenMessage(dynamoPort));
      throw error;
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    releaseDataDir();
    process.exit(1);
  }
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  console.log(`DynamoDB Local: ${dynamo.endpoint} (${args['in-memory'] ? 'in memory' : `data in ${args['data-dir']}/`})`);
} else {
  console.log(`DynamoDB: ${process.env.DYNAMODB_ENDPOINT} (from DYNAMODB_ENDPOINT; npm start did not start one)`);
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
  credentials: LOCAL_CREDENTIALS,
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
  console.log(`(Shown this once. Lost it? \`${listOrgs}\` prints a command that makes a new one.)`);
} else {
  console.log(
    `Existing data reused; its API key was printed on the first start only. Lost it? \`${listOrgs}\` lists ` +
      'the organization, its owner and their keys, with the create-key command for a new one.',
  );
}

const server = serve({ fetch: app.fetch, port }, (info) => {
  console.log(`Project Users API listening on http://localhost:${info.port}`);
  console.log(`API docs (paste the key under Authentication → Bearer Token): http://localhost:${info.port}/docs`);
});

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  server.close();
  await dynamo?.stop();
  releaseDataDir();
  process.exit(code);
}
// Taken between the check at start and now: said plainly, and the engine stopped.
server.on('error', (error) => {
  console.error(`The API could not listen on port ${port}: ${error.message}`);
  void stop(1);
});
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
