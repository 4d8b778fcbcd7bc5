/**
 * `npm run admin -- <command> [options]`: operator commands against the local table (default,
 * the engine `npm start` uses, found with the same variables: DYNAMODB_ENDPOINT, else DynamoDB Local
 * on 127.0.0.1:DYNAMODB_LOCAL_PORT, 8000 by default) or a deployed one (`--table`, `--region`, and no
 * `--endpoint`).
 *
 * Every command takes its input through the API's own request schemas (functions/http/schemas*.ts)
 * and domain rules, and prints what the API would show (functions/http/views*.ts): a bad input is
 * refused before anything is read or written, with the flag it came from.
 */
// Lambda runs Node 22 (the stack's runtime); on Node 20 the AWS SDK would open every command's
// output with a multi-line support notice. Read when the first client is built, below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from '@hono/zod-openapi';
import { parseArgs } from 'node:util';
import { readConfig } from '../functions/config.js';
import { DomainError, PROBLEMS } from '../functions/domain/errors.js';
import type { Org } from '../functions/domain/model.js';
import { CreateKeyBody, CreateOrgUserBody, CreateProjectBody, Ids } from '../functions/http/schemas.js';
import { CreatePermissionBody, CreateRoleBody } from '../functions/http/schemas-roles.js';
import { apiKeyView, onePage, orgUserView, projectView } from '../functions/http/views.js';
import { createDocumentClient } from '../functions/store/client.js';
import { ensureTable } from '../functions/store/schema.js';
import { createStore } from '../functions/store/store.js';
import { adminOps } from './admin-ops.js';
import {
  DEFAULT_DYNAMODB_LOCAL_PORT,
  DEFAULT_LOCAL_TABLE,
  LOCAL_CREDENTIALS,
  localAdminCommand,
  localDynamoEndpoint,
  LOCAL_HOST,
  localRegion,
  localTableName,
  shellWord,
  type LocalEndpointSource,
} from './local-defaults.js';

const OPTIONS = {
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
} as const;
type Flag = Exclude<keyof typeof OPTIONS, 'help'>;
/** Where the table is: every command takes these. */
const LOCATION_FLAGS: readonly Flag[] = ['table', 'region', 'endpoint'];

/**
 * One command: the API fields its input is made of and the flag each comes from (also the only
 * flags it takes), those it requires, the schema that validates them (the API's), and what it does.
 */
interface Command<S extends z.ZodType = z.ZodType> {
  options: string;
  about?: string;
  fields: Record<string, Flag>;
  required: readonly Flag[];
  schema: S;
  run(input: z.output<S>): Promise<unknown>;
}
const command = <S extends z.ZodType>(definition: Command<S>) => definition as unknown as Command;

/** How the API shows an organization, were it to: its ID as `_id`, as every view does. */
const orgView = (org: Org) => ({ _id: org.orgId, name: org.name, createdAt: org.createdAt });

const COMMANDS: Record<string, Command> = {
  bootstrap: command({
    options: '--org-name N --owner-name N [--owner-email E]',
    about: 'a new org, its owner and a global key for the owner',
    fields: { orgName: 'org-name', name: 'owner-name', email: 'owner-email' },
    required: ['org-name', 'owner-name'],
    // The owner as `POST /api/users` takes a user; the org's name under the API's rule for names.
    schema: CreateOrgUserBody.pick({ name: true, email: true }).extend({ orgName: CreateProjectBody.shape.name }),
    async run(input) {
      if (config.dynamoEndpoint) {
        const raw = new DynamoDBClient({ region: config.region, endpoint: config.dynamoEndpoint, credentials: LOCAL_CREDENTIALS });
        await ensureTable(raw, config.tableName);
        raw.destroy();
      }
      const { org, owner, key, secret } = await ops.bootstrap({ orgName: input.orgName, ownerName: input.name, ownerEmail: input.email });
      return { org: orgView(org), owner: orgUserView(owner), key: apiKeyView(key), secret };
    },
  }),
  'create-user': command({
    options: '--org ORG --name N [--email E] [--org-role admin|member] [--kind human|api]',
    fields: { orgId: 'org', name: 'name', email: 'email', orgRole: 'org-role', kind: 'kind' },
    required: ['org', 'name'],
    schema: CreateOrgUserBody.extend({ orgId: Ids.org }),
    run: async (input) => orgUserView(await ops.createUser(input)),
  }),
  'create-project': command({
    options: '--org ORG --owner USR --name N',
    about: 'that user becomes its owner',
    fields: { orgId: 'org', ownerUserId: 'owner', name: 'name' },
    required: ['org', 'owner', 'name'],
    schema: CreateProjectBody.extend({ orgId: Ids.org, ownerUserId: Ids.user }),
    run: async (input) => projectView((await ops.createProject(input)).project),
  }),
  'create-key': command({
    options: '--org ORG --user USR --scope read|read-write|global [--project PRJ] [--name N] [--expires-at ISO]',
    fields: { orgId: 'org', userId: 'user', scope: 'scope', projectId: 'project', name: 'name', expiresAt: 'expires-at' },
    required: ['org', 'user', 'scope'],
    schema: CreateKeyBody.extend({ orgId: Ids.org }),
    async run(input) {
      const { key, secret } = await ops.createKey(input);
      return { key: apiKeyView(key), secret };
    },
  }),
  'revoke-key': command({
    options: '--key KEY',
    fields: { keyId: 'key' },
    required: ['key'],
    schema: z.strictObject({ keyId: Ids.key }),
    run: async (input) => apiKeyView(await ops.revokeKey(input.keyId)),
  }),
  'create-permission': command({
    options: '--org ORG --key resource:action [--description D]',
    fields: { orgId: 'org', key: 'key', description: 'description' },
    required: ['org', 'key'],
    schema: CreatePermissionBody.extend({ orgId: Ids.org }),
    run: (input) => ops.createPermission(input),
  }),
  'create-role': command({
    options: '--org ORG --name N --permissions a:b,c:d [--description D]',
    about: "--permissions '' for none",
    fields: { orgId: 'org', name: 'name', description: 'description', permissions: 'permissions' },
    required: ['org', 'name', 'permissions'],
    schema: CreateRoleBody.extend({ orgId: Ids.org }),
    run: (input) => ops.createRole(input),
  }),
  'list-roles': command({
    options: '--org ORG',
    about: 'built-in and custom roles, as GET /api/roles',
    fields: { orgId: 'org' },
    required: ['org'],
    schema: z.strictObject({ orgId: Ids.org }),
    run: async (input) => onePage(await ops.listRoles(input.orgId)),
  }),
  'list-orgs': command({
    options: '[--org ORG]',
    about: 'orgs, their owners and admins and their keys (no secrets), and a create-key command\n' +
      `${' '.repeat(22)}for each owner: the way back to a lost key.`,
    fields: { orgId: 'org' },
    required: [],
    schema: z.strictObject({ orgId: Ids.org.optional() }),
    async run(input) {
      const orgIds = input.orgId ? [input.orgId] : (await ops.listOrgs()).map((org) => org.orgId);
      const data = [];
      for (const orgId of orgIds) {
        const { org, users } = await ops.orgOverview(orgId);
        const owner = users.find(({ user }) => user.orgRole === 'owner')?.user;
        data.push({
          ...orgView(org),
          ownersAndAdmins: users.map(({ user, keys }) => ({ ...orgUserView(user), keys: keys.map(apiKeyView) })),
          createKey: owner ? adminCommand(['create-key', '--org', org.orgId, '--user', owner.userId, '--scope', 'global']) : null,
        });
      }
      return { data, nextCursor: null };
    },
  }),
};
/** Another name for list-orgs, for those who look for one. */
COMMANDS.whoami = COMMANDS['list-orgs']!;

const USAGE = `Usage: npm run admin -- <command> [options] [--table T] [--region R] [--endpoint URL]
Commands:
${Object.entries(COMMANDS)
  .filter(([name]) => name !== 'whoami')
  .map(([name, { options, about }]) => `  ${name.padEnd(17)} ${options}${about ? `\n${' '.repeat(22)}${about}` : ''}`)
  .join('\n')}
  whoami            the same as list-orgs
Inputs follow the API's rules (nothing is written otherwise); output is JSON, as the API shows it.
Without --table the local table (${DEFAULT_LOCAL_TABLE}) on the engine \`npm start\` runs is used:
DYNAMODB_ENDPOINT if set, else http://${LOCAL_HOST}:<DYNAMODB_LOCAL_PORT> (default ${DEFAULT_DYNAMODB_LOCAL_PORT}).`;

/** A setting or an input the user can fix: the message alone, no stack trace. */
function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: OPTIONS });
} catch (error) {
  // Node's own wording ("To specify a positional argument starting with a '-'…") is about its parser,
  // not this CLI: name the flag, and the command's usage when the command is known.
  const loose = parseArgs({ allowPositionals: true, options: OPTIONS, strict: false });
  const command = loose.positionals[0];
  const usage = command && COMMANDS[command] ? `Usage: npm run admin -- ${command} ${COMMANDS[command].options}` : USAGE;
  const code = (error as { code?: string }).code;
  const flag = /'(--?[^' ]+)/.exec((error as Error).message)?.[1];
  const what =
    command && !COMMANDS[command]
      ? `Unknown command ${command}`
      : code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag
      ? `${command && COMMANDS[command] ? command : 'npm run admin'} does not take ${flag}`
      : code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag
        ? `${flag} needs a value`
        : (error as Error).message;
  fail(`${what}\n${usage}`, 2);
}
const { values, positionals } = parsed;
const name = positionals[0];
if (!name || values.help) {
  console.log(USAGE);
  process.exit(name ? 0 : 2);
}
const chosen = COMMANDS[name];
if (!chosen) fail(`Unknown command ${name}\n\n${USAGE}`, 2);
const usageOf = `Usage: npm run admin -- ${name} ${chosen.options}`;
if (positionals.length > 1) fail(`${name} takes no arguments besides options (got ${positionals.slice(1).join(' ')})\n${usageOf}`, 2);

/** The flag a field of the API's request comes from (`body.expiresAt` → `--expires-at`). */
function flagOf(path: string): string | null {
  const field = path.replace(/^body\.?/, '').split('.')[0] ?? '';
  const flag = chosen!.fields[field];
  return flag ? `--${flag}` : null;
}
const HINTS: Partial<Record<Flag, string>> = { 'expires-at': 'an ISO 8601 date-time with a time zone, in the future, e.g. 2031-01-01T00:00:00Z' };

/** The API's requests a domain message may point to, as the commands that do the same here. */
const AS_COMMANDS: Record<string, string> = {
  'POST /api/permissions': '`npm run admin -- create-permission`',
  'POST /api/roles': '`npm run admin -- create-role`',
  'POST /api/users': '`npm run admin -- create-user`',
  'POST /api/keys': '`npm run admin -- create-key`',
  'POST /api/projects': '`npm run admin -- create-project`',
};
function cliWording(text: string): string {
  return text.replace(/POST \/api\/\w+/g, (request) => AS_COMMANDS[request] ?? request);
}

/** Input that breaks the API's rules: each flag and what is wrong with it; nothing was read or written. */
function invalid(problems: { path: string; message: string }[], detail?: string): never {
  const lines = problems.map(({ path, message }) => {
    const flag = flagOf(path);
    if (!flag) return `  ${message}`;
    const given = values[flag.slice(2) as Flag];
    const hint = HINTS[flag.slice(2) as Flag];
    return `  ${flag}${typeof given === 'string' ? ` ${shellWord(given)}` : ''}: ${message}${hint ? ` (expected ${hint})` : ''}`;
  });
  fail([`${name}: ${detail ? cliWording(detail) : 'invalid input'}; nothing was written.`, ...lines, usageOf].join('\n'), 2);
}

// Flags: only those of the command (an API request with an unknown field is a 400 too), and every required one.
const allowed = new Set<string>([...Object.values(chosen.fields), ...LOCATION_FLAGS, 'help']);
const foreign = Object.keys(values).filter((flag) => !allowed.has(flag));
if (foreign.length) fail(`${name} does not take ${foreign.map((f) => `--${f}`).join(', ')}\n${usageOf}`, 2);
const missing = chosen.required.filter((flag) => values[flag] === undefined);
if (missing.length) fail(`${name}: missing ${missing.map((f) => `--${f}`).join(', ')}\n${usageOf}`, 2);

// The API's request, field by field from the flags (a list flag is comma-separated), through the API's schema.
const request = Object.fromEntries(
  Object.entries(chosen.fields).map(([field, flag]) => {
    const value = values[flag];
    const list = flag === 'permissions' && typeof value === 'string';
    return [field, list ? value.split(',').map((p) => p.trim()).filter((p) => p !== '') : value];
  }),
);
const checked = chosen.schema.safeParse(request);
if (!checked.success) invalid(checked.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));

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

/** Another admin command on the same table as this one, ready to paste. */
function adminCommand(args: string[]): string {
  const location = [
    ...(values.table !== undefined ? ['--table', values.table] : []),
    ...(values.table !== undefined && values.endpoint === undefined ? ['--region', config.region] : []),
    ...(values.endpoint !== undefined ? ['--endpoint', values.endpoint] : []),
  ];
  // What this run took from the environment (as `npm start` does), where it differs from the defaults.
  const env = values.table !== undefined ? {} : values.endpoint !== undefined ? { TABLE_NAME: process.env.TABLE_NAME } : process.env;
  return localAdminCommand([...args, ...location], env);
}

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
  const where = {
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
  return `Cannot reach DynamoDB at ${endpoint} (${where}): ${reason}.\n${hint} Any other engine: --endpoint URL (or DYNAMODB_ENDPOINT=URL); a deployed table: --table T --region R.`;
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

/**
 * A domain error as the operator should read it. The API's fixed texts speak of API keys the CLI
 * does not use; the admin operations name what they cannot find themselves (admin-ops.ts `noSuch`).
 */
function cliMessage(error: DomainError): string {
  if (error.code === 'not_found' && error.detail === PROBLEMS[404].codes.not_found.detail) return 'not found';
  if (error.code === 'unauthenticated') return 'a user it rests on changed or is being deleted meanwhile; try again';
  return cliWording(error.detail);
}


if (config.dynamoEndpoint) {
  const reason = await probe(config.dynamoEndpoint);
  if (reason) fail(unreachable(config.dynamoEndpoint, reason));
}

try {
  console.log(JSON.stringify(await chosen.run(checked.data), null, 2));
} catch (error) {
  const lost = config.dynamoEndpoint ? connectionFailure(error) : null;
  if (lost) fail(unreachable(config.dynamoEndpoint!, lost));
  if (error instanceof DomainError && error.code === 'validation_failed') {
    invalid((error.extra.errors as { path: string; message: string }[] | undefined) ?? [], error.detail.replace(/\.$/, ''));
  }
  fail(`${name}: ${error instanceof DomainError ? cliMessage(error) : String(error)}`);
}
