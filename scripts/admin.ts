/**
 * `npm run admin -- <command> [options]`: operator commands against the local table (default,
 * the engine `npm start` uses, found with the same variables: DYNAMODB_ENDPOINT, else DynamoDB Local
 * on 127.0.0.1:DYNAMODB_LOCAL_PORT, 8000 by default) or a deployed one (`--table`, `--region`, and no
 * `--endpoint`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { readConfig } from '../functions/config.js';
import { DomainError } from '../functions/domain/errors.js';
import { KEY_SCOPES, type KeyScope } from '../functions/domain/permissions.js';
import { createDocumentClient } from '../functions/store/client.js';
import { ensureTable } from '../functions/store/schema.js';
import { createStore } from '../functions/store/store.js';
import { adminOps } from './admin-ops.js';
import {
  DEFAULT_DYNAMODB_LOCAL_PORT,
  DEFAULT_LOCAL_TABLE,
  LOCAL_CREDENTIALS,
  localDynamoEndpoint,
  LOCAL_HOST,
  localRegion,
  localTableName,
  type LocalEndpointSource,
} from './local-defaults.js';

const USAGE = `Usage: npm run admin -- <command> [--table T] [--region R] [--endpoint URL]
Commands:
  bootstrap       --org-name N --owner-name N [--owner-email E]   new org + owner + global key
  create-user     --org ORG --name N [--email E] [--org-role admin|member] [--kind human|api]
  create-project  --org ORG --owner USR --name N
  create-key      --org ORG --user USR --scope read|read-write|global [--project PRJ] [--name N] [--expires-at ISO]
  revoke-key      --key KEY
  create-permission --org ORG --key resource:action [--description D]
  create-role     --org ORG --name N --permissions a:b,c:d [--description D]   (--permissions '' for none)
  list-roles      --org ORG                                          built-in and custom roles, as GET /api/roles
Without --table the local table (${DEFAULT_LOCAL_TABLE}) on the engine \`npm start\` runs is used:
DYNAMODB_ENDPOINT if set, else http://${LOCAL_HOST}:<DYNAMODB_LOCAL_PORT> (default ${DEFAULT_DYNAMODB_LOCAL_PORT}).`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    table: { type: 'string' },
    region: { type: 'string' },
    endpoint: { type: 'string' },
    'org-name': { type: 'string' },
    'owner-name': { type: 'string' },
    'owner-email': { type: 'string' },
    org: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    'org-role': { type: 'string' },
    kind: { type: 'string' },
    owner: { type: 'string' },
    user: { type: 'string' },
    scope: { type: 'string' },
    project: { type: 'string' },
    'expires-at': { type: 'string' },
    key: { type: 'string' },
    description: { type: 'string' },
    permissions: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function need(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') {
    console.error(`Missing --${name}\n\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

const command = positionals[0];
if (!command || values.help) {
  console.log(USAGE);
  process.exit(command ? 0 : 2);
}

/** A setting or an engine the user can fix: the message alone, no stack trace. */
function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

const local = values.table === undefined;
let endpointSource: LocalEndpointSource | '--endpoint' = '--endpoint';
let config: ReturnType<typeof readConfig>;
try {
  let endpoint = values.endpoint;
  if (endpoint === undefined && local) ({ endpoint, source: endpointSource } = localDynamoEndpoint());
  config = readConfig({
    ...process.env,
    TABLE_NAME: values.table ?? localTableName(),
    AWS_REGION: values.region ?? localRegion(),
    DYNAMODB_ENDPOINT: endpoint ?? '',
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error), 2);
}
const store = createStore(config, createDocumentClient(config));
const ops = adminOps(store);

/** Why a request could not reach the engine, or null if the error is something else. */
function connectionFailure(error: unknown): string | null {
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, name } = e as { code?: string; name?: string };
    if (name === 'TimeoutError' || name === 'AbortError') return 'no answer within a few seconds';
    if (code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
    if (code && /^(ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|UND_ERR_\w+)$/.test(code)) return code;
  }
  return null;
}

function unreachable(endpoint: string, reason: string): string {
  const chosen = {
    '--endpoint': 'given with --endpoint',
    DYNAMODB_ENDPOINT: 'from DYNAMODB_ENDPOINT',
    DYNAMODB_LOCAL_PORT: "`npm start`'s DynamoDB Local on DYNAMODB_LOCAL_PORT",
    default: `\`npm start\`'s DynamoDB Local on the default port ${DEFAULT_DYNAMODB_LOCAL_PORT}`,
  }[endpointSource];
  const localEngine = `http://${LOCAL_HOST}:<DYNAMODB_LOCAL_PORT> (default ${DEFAULT_DYNAMODB_LOCAL_PORT})`;
  const hint =
    endpointSource === '--endpoint' || endpointSource === 'DYNAMODB_ENDPOINT'
      ? `Is the engine at that URL running? Without --endpoint or DYNAMODB_ENDPOINT, the admin CLI uses the DynamoDB Local \`npm start\` runs, at ${localEngine}.`
      : `Is \`npm start\` running? The admin CLI looks where \`npm start\` runs DynamoDB Local, ${localEngine}: ` +
        `give both the same DYNAMODB_LOCAL_PORT (e.g. \`DYNAMODB_LOCAL_PORT=8001 npm run admin -- ...\`).`;
  return `Cannot reach DynamoDB at ${endpoint} (${chosen}): ${reason}.\n${hint} Any other engine: --endpoint URL (or DYNAMODB_ENDPOINT=URL); a deployed table: --table T --region R.`;
}

/** Any HTTP answer means something listens (DynamoDB answers 400 to a bare GET). */
async function probe(endpoint: string): Promise<string | null> {
  try {
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(3_000) });
    await response.body?.cancel();
    return null;
  } catch (error) {
    if (error instanceof TypeError && !(error as { cause?: unknown }).cause) return `not a usable URL (${error.message})`;
    return connectionFailure(error) ?? String(error);
  }
}

async function run(): Promise<unknown> {
  switch (command) {
    case 'bootstrap': {
      if (config.dynamoEndpoint) {
        const raw = new DynamoDBClient({ region: config.region, endpoint: config.dynamoEndpoint, credentials: LOCAL_CREDENTIALS });
        await ensureTable(raw, config.tableName);
        raw.destroy();
      }
      const result = await ops.bootstrap({
        orgName: need('org-name'),
        ownerName: need('owner-name'),
        ownerEmail: values['owner-email'],
      });
      return { orgId: result.org.orgId, ownerUserId: result.owner.userId, keyId: result.key.keyId, apiKey: result.secret };
    }
    case 'create-user': {
      const orgRole = values['org-role'] ?? 'member';
      const kind = values.kind ?? 'human';
      if (orgRole !== 'admin' && orgRole !== 'member') throw new Error('--org-role must be admin or member');
      if (kind !== 'human' && kind !== 'api') throw new Error('--kind must be human or api');
      return ops.createUser({ orgId: need('org'), name: need('name'), email: values.email, orgRole, kind });
    }
    case 'create-project': {
      const { project, owner } = await ops.createProject({ orgId: need('org'), ownerUserId: need('owner'), name: need('name') });
      return { project, ownerProjectUserId: owner.projectUserId };
    }
    case 'create-key': {
      const scope = need('scope');
      if (!(KEY_SCOPES as readonly string[]).includes(scope)) throw new Error(`--scope must be one of ${KEY_SCOPES.join(', ')}`);
      const { key, secret } = await ops.createKey({
        orgId: need('org'),
        userId: need('user'),
        scope: scope as KeyScope,
        projectId: values.project,
        name: values.name,
        expiresAt: values['expires-at'],
      });
      const { secretHash: _hidden, ...shown } = key;
      return { key: shown, apiKey: secret };
    }
    case 'revoke-key': {
      const { secretHash: _hidden, ...shown } = await ops.revokeKey(need('key'));
      return shown;
    }
    case 'create-permission':
      return ops.createPermission({ orgId: need('org'), key: need('key'), description: values.description });
    case 'create-role': {
      if (values.permissions === undefined) throw new Error('Missing --permissions (a comma-separated list; empty for none)');
      const permissions = values.permissions.split(',').map((p) => p.trim()).filter((p) => p !== '');
      return ops.createRole({ orgId: need('org'), name: need('name'), description: values.description, permissions });
    }
    case 'list-roles':
      return ops.listRoles(need('org'));
    default:
      console.error(`Unknown command ${command}\n\n${USAGE}`);
      process.exit(2);
  }
}

if (config.dynamoEndpoint) {
  const reason = await probe(config.dynamoEndpoint);
  if (reason) fail(unreachable(config.dynamoEndpoint, reason));
}

try {
  console.log(JSON.stringify(await run(), null, 2));
} catch (error) {
  const lost = config.dynamoEndpoint ? connectionFailure(error) : null;
  if (lost) fail(unreachable(config.dynamoEndpoint!, lost));
  console.error(error instanceof DomainError ? `${error.status} ${error.title}: ${error.detail}` : String(error));
  process.exit(1);
}
