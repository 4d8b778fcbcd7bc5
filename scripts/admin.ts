/**
 * `npm run admin -- <command> [options]`: operator commands against the local table (default,
 * the DynamoDB Local that `npm start` runs on port 8000) or a deployed one (`--table`, `--region`,
 * and no `--endpoint`).
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

const USAGE = `Usage: npm run admin -- <command> [--table T] [--region R] [--endpoint URL]
Commands:
  bootstrap       --org-name N --owner-name N [--owner-email E]   new org + owner + global key
  create-user     --org ORG --name N [--email E] [--org-role admin|member] [--kind human|api]
  create-project  --org ORG --owner USR --name N
  create-key      --org ORG --user USR --scope read|read-write|global [--project PRJ] [--name N] [--expires-at ISO]
  revoke-key      --key KEY
Without --table the local table (project-users-local on http://127.0.0.1:8000) is used.`;

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

const local = values.table === undefined;
const config = readConfig({
  ...process.env,
  TABLE_NAME: values.table ?? process.env.TABLE_NAME ?? 'project-users-local',
  AWS_REGION: values.region ?? process.env.AWS_REGION ?? 'us-east-1',
  DYNAMODB_ENDPOINT: values.endpoint ?? (local ? (process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8000') : ''),
});
const store = createStore(config, createDocumentClient(config));
const ops = adminOps(store);

async function run(): Promise<unknown> {
  switch (command) {
    case 'bootstrap': {
      if (config.dynamoEndpoint) {
        const raw = new DynamoDBClient({ region: config.region, endpoint: config.dynamoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
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
    default:
      console.error(`Unknown command ${command}\n\n${USAGE}`);
      process.exit(2);
  }
}

try {
  console.log(JSON.stringify(await run(), null, 2));
} catch (error) {
  console.error(error instanceof DomainError ? `${error.status} ${error.title}: ${error.detail}` : String(error));
  process.exit(1);
}
