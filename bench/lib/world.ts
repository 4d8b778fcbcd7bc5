import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KEY_CACHE_MAX_SECONDS, readConfig, type Config } from '../../functions/config.js';
import { createApp } from '../../functions/http/app.js';
import { createDocumentClient } from '../../functions/store/client.js';
import { ensureTable } from '../../functions/store/schema.js';
import { createStore } from '../../functions/store/store.js';
import { adminOps } from '../../scripts/admin-ops.js';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/dynamodb-local.js';
import { DEFAULT_LOCAL_REGION, LOCAL_CREDENTIALS } from '../../scripts/local-defaults.js';
import { call, newOrg, type CallOptions, type TestApp } from '../../test/support/app.js';

export const TABLE_NAME = 'project-users-bench';

/** One in-memory DynamoDB Local for the whole bench, with the table built from the stack's definition. */
export interface World {
  dynamo: LocalDynamo;
  raw: DynamoDBClient;
  config: Config;
  /** Environment for child processes running a bundle (the Lambda defaults: JSON logs, EMF metrics). */
  childEnv(endpoint?: string): NodeJS.ProcessEnv;
  /** Config for an in-process app or store talking to `endpoint` (default: DynamoDB Local directly). */
  configFor(endpoint?: string): Config;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const dynamo = await startLocalDynamo({ dataDir: null });
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: DEFAULT_LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await ensureTable(raw, TABLE_NAME);
  const env = (endpoint: string) => ({
    TABLE_NAME,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: DEFAULT_LOCAL_REGION,
    KEY_CACHE_SECONDS: String(KEY_CACHE_MAX_SECONDS),
    LOG_LEVEL: 'SILENT',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const configFor = (endpoint = dynamo.endpoint) => readConfig(env(endpoint));
  return {
    dynamo,
    raw,
    config: configFor(),
    configFor,
    childEnv: (endpoint = dynamo.endpoint) => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...env(endpoint),
      // What Lambda turns on by default (AWS_LAMBDA_FUNCTION_NAME is set there): every feature runs.
      LOG_FORMAT: 'json',
      METRICS: 'on',
    }),
    async stop() {
      raw.destroy();
      await dynamo.stop();
    },
  };
}

/**
 * An app over its own store (its own SDK client and key cache), as Lambda builds it: the tests'
 * `TestApp` (test/support/app.ts), so the bench drives it with the tests' `call` and `newOrg`, plus
 * the SDK client, which the bench instruments and closes.
 */
export type BenchApp = TestApp & { client: ReturnType<typeof createDocumentClient> };

export function appFor(config: Config, client = createDocumentClient(config)): BenchApp {
  const store = createStore(config, client);
  return { app: createApp({ store, config }), store, config, ops: adminOps(store), client };
}

/** The tests' `call`, failing the bench run on any other status; resolves to the response body. */
export async function expectStatus<T = any>(what: string, t: TestApp, method: string, path: string, status: number, options: CallOptions = {}): Promise<T> {
  const res = await call<T>(t, method, path, options);
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
  return res.body;
}

/** An organization (owner + global key, the tests' `newOrg`) and a project created through the API. */
export async function orgWithProject(t: TestApp, name: string) {
  const org = await newOrg(t, name);
  const project = await org.project(name);
  return { ...org, projectId: project._id, ownerPu: project.ownerProjectUserId };
}
