import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KEY_CACHE_MAX_SECONDS, readConfig, type Config } from '../../functions/config.js';
import { createApp } from '../../functions/http/app.js';
import { createDocumentClient } from '../../functions/store/client.js';
import { ensureTable } from '../../functions/store/schema.js';
import { createStore, type Store } from '../../functions/store/store.js';
import { startLocalDynamo, type LocalDynamo } from '../../scripts/dynamodb-local.js';
import { adminOps } from '../../scripts/admin-ops.js';

export const TABLE_NAME = 'project-users-bench';
export const REGION = 'us-east-1';

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
  const raw = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(raw, TABLE_NAME);
  const env = (endpoint: string) => ({
    TABLE_NAME,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: REGION,
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

/** An app over its own store (its own SDK client and key cache), as Lambda builds it. */
export function appFor(config: Config, client = createDocumentClient(config)) {
  const store = createStore(config, client);
  return { app: createApp({ store, config }), store, client };
}

export type BenchApp = ReturnType<typeof appFor>;

export async function request(app: BenchApp['app'], method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(path, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function expectStatus(
  what: string,
  reply: Promise<{ status: number; text: string; json: any }>,
  status: number,
): Promise<any> {
  const r = await reply;
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

/** An organization (owner + global key) and a project created through the API. */
export async function orgWithProject(store: Store, app: BenchApp['app'], name: string) {
  const boot = await adminOps(store).bootstrap({ orgName: name, ownerName: 'Owner' });
  const key = boot.secret;
  const project = await expectStatus('create project', request(app, 'POST', '/api/projects', key, { name }), 201);
  return { orgId: boot.org.orgId, owner: boot.owner, key, projectId: project._id as string, ownerPu: project.ownerProjectUserId as string };
}
