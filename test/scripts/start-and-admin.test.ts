import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../scripts/dynamodb-local.js';
import { partitions } from '../../functions/store/keys.js';
import { partitionItems } from '../support/table.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const tsx = join(root, 'node_modules/.bin/tsx');
const dataDir = mkdtempSync(join(tmpdir(), 'project-users-start-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Runs `npm start`'s script to its exit (one that refuses to start); its exit code and output. */
async function refusedStart(port: number, dynamoPort: number, args: string[]) {
  return run(tsx, ['scripts/start.ts', ...args], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DYNAMODB_LOCAL_PORT: String(dynamoPort), DYNAMODB_ENDPOINT: '', TABLE_NAME: '' },
    timeout: 45_000,
  }).then(
    () => ({ code: 0, output: '' }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
  );
}

/** Runs `npm start`'s script until it listens; returns its output so far and a stop function. */
async function start(port: number, dynamoPort: number) {
  const child = spawn(tsx, ['scripts/start.ts', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DYNAMODB_LOCAL_PORT: String(dynamoPort), DYNAMODB_ENDPOINT: '', TABLE_NAME: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start timed out:\n${output}`)), 45_000);
    child.stdout.on('data', () => {
      if (output.includes('listening on')) (clearTimeout(timer), resolve());
    });
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`start exited ${code}:\n${output}`))));
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGINT');
    });
  return { output: () => output, stop };
}

describe('npm start', () => {
  it('bootstraps once, serves the API, stops both processes on Ctrl-C, and reuses the data', async () => {
    const port = await freePort();
    const dynamoPort = await freePort();

    const first = await start(port, dynamoPort);
    const key = /API key: (puk_\S+)/.exec(first.output())?.[1];
    expect(key).toMatch(/^puk_key_/);
    const keyId = key!.split('_').slice(1, 3).join('_');
    const [, orgId, ownerId] = /Organization (org_\w+), owner (usr_\w+)/.exec(first.output()) ?? [];
    expect(orgId).toBeDefined();
    expect(first.output()).toContain('list-orgs'); // where to look when the key is lost
    expect(first.output()).toContain(`http://localhost:${port}`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const created = await fetch(`http://127.0.0.1:${port}/api/projects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Survives restarts' }),
    });
    expect(created.status).toBe(201);
    expect(await first.stop()).toBe(0);
    expect(await portOpen(dynamoPort)).toBe(false);
    expect(await portOpen(port)).toBe(false);

    const second = await start(port, dynamoPort);
    try {
      expect(second.output()).not.toContain('API key:');
      const listed = await fetch(`http://127.0.0.1:${port}/api/projects`, { headers: { Authorization: `Bearer ${key}` } });
      expect(listed.status).toBe(200);
      const body = (await listed.json()) as { data: { name: string }[] };
      expect(body.data.map((p) => p.name)).toEqual(['Survives restarts']);

      // Lost the key: the restart names the command that finds the org and its owner, and that
      // command prints a create-key command that works as pasted (no dead end).
      const listOrgs = `DYNAMODB_LOCAL_PORT=${dynamoPort} npm run admin -- list-orgs`;
      expect(second.output()).toContain(listOrgs);
      const env: NodeJS.ProcessEnv = { ...process.env, DYNAMODB_LOCAL_PORT: String(dynamoPort), DYNAMODB_ENDPOINT: '', TABLE_NAME: '' };
      // No SDK notice either: the CLI silences it itself.
      delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
      const orgs = await run(tsx, ['scripts/admin.ts', 'list-orgs'], { cwd: root, env });
      expect(orgs.stderr).toBe('');
      const [org, ...others] = JSON.parse(orgs.stdout).data;
      expect(others).toEqual([]);
      expect(org).toMatchObject({ _id: orgId, name: 'Local org' });
      expect(org.ownersAndAdmins).toEqual([
        expect.objectContaining({ _id: ownerId, orgRole: 'owner', keys: [expect.objectContaining({ _id: keyId, scope: 'global', revokedAt: null })] }),
      ]);
      expect(orgs.stdout).not.toContain(key!.slice(`puk_${keyId}_`.length));
      expect(orgs.stdout).not.toMatch(/puk_|secretHash/);

      const pasted = org.createKey as string;
      expect(pasted).toMatch(new RegExp(`^DYNAMODB_LOCAL_PORT=${dynamoPort} npm run admin -- create-key --org ${orgId} --user ${ownerId} --scope global`));
      expect(pasted).not.toMatch(/['"\\]/); // nothing to unquote: the words split on spaces
      const created = await run(tsx, ['scripts/admin.ts', ...pasted.split(' -- ')[1]!.split(' ')], { cwd: root, env });
      const newKey = JSON.parse(created.stdout).secret as string;
      const withNewKey = await fetch(`http://127.0.0.1:${port}/api/projects`, { headers: { Authorization: `Bearer ${newKey}` } });
      expect(withNewKey.status).toBe(200);

      // A second copy on the same data folder (its engine would fail every write) and one whose API
      // port is taken: each says why, starts no engine, writes nothing, and exits 1.
      const otherEngine = await freePort();
      const sameData = await refusedStart(await freePort(), otherEngine, ['--data-dir', dataDir]);
      expect(sameData.code).toBe(1);
      expect(sameData.output).toMatch(/is used by another `npm start`.*--in-memory/s);
      const portTaken = await refusedStart(port, otherEngine, ['--in-memory']);
      expect(portTaken.code).toBe(1);
      expect(portTaken.output).toContain(`Port ${port} (PORT) is already in use`);
      expect(portTaken.output).not.toContain('API key:');
      expect(await portOpen(otherEngine)).toBe(false);
      // The running copy still writes.
      const stillWrites = await fetch(`http://127.0.0.1:${port}/api/projects`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Still writable' }),
      });
      expect(stillWrites.status).toBe(201);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 150_000);
});

describe('npm run admin', () => {
  /** The CLI against the tests' table: its exit code and output, whatever they are. */
  const adminRun = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(tsx, ['scripts/admin.ts', ...args, '--table', inject('tableName'), '--endpoint', inject('dynamoEndpoint')], {
        cwd: root,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
      return { code: code ?? -1, stdout: stdout ?? '', stderr: stderr ?? String(error) };
    }
  };
  /** Its parsed JSON; rejects with its stderr (after checking it exited non-zero, printing nothing on stdout). */
  const admin = async (...args: string[]) => {
    const result = await adminRun(...args);
    if (result.code === 0) return JSON.parse(result.stdout);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
    throw new Error(result.stderr);
  };
  const timestamp = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
  const auditActions = async (orgId: string) => (await partitionItems(partitions.org(orgId), 'AUDIT#')).map((a) => a.action as string);

  it('bootstrap, create-user, create-project, create-key, revoke-key print what the API shows (its views)', async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI org', '--owner-name', 'Ops');
    const orgId = boot.org._id;
    expect(boot).toEqual({
      org: { _id: expect.stringMatching(/^org_/), name: 'CLI org', createdAt: timestamp },
      owner: { _id: expect.stringMatching(/^usr_/), orgId, name: 'Ops', email: null, kind: 'human', orgRole: 'owner', createdAt: timestamp },
      key: {
        _id: expect.stringMatching(/^key_/),
        userId: boot.owner._id,
        scope: 'global',
        projectId: null,
        name: 'bootstrap',
        createdAt: timestamp,
        expiresAt: null,
        revokedAt: null,
      },
      secret: expect.stringMatching(/^puk_key_/),
    });

    const user = await admin('create-user', '--org', orgId, '--name', 'Robot', '--kind', 'api', '--org-role', 'admin');
    expect(user).toEqual({ _id: expect.stringMatching(/^usr_/), orgId, name: 'Robot', email: null, kind: 'api', orgRole: 'admin', createdAt: timestamp });
    const project = await admin('create-project', '--org', orgId, '--owner', user._id, '--name', 'From CLI');
    expect(project).toEqual({
      _id: expect.stringMatching(/^prj_/),
      orgId,
      name: 'From CLI',
      ownerProjectUserId: expect.stringMatching(/^pu_/),
      createdAt: timestamp,
      updatedAt: timestamp,
    });
    const key = await admin('create-key', '--org', orgId, '--user', user._id, '--scope', 'read', '--project', project._id);
    expect(key).toEqual({
      key: { _id: expect.stringMatching(/^key_/), userId: user._id, scope: 'read', projectId: project._id, name: null, createdAt: timestamp, expiresAt: null, revokedAt: null },
      secret: expect.stringMatching(/^puk_key_/),
    });
    const revoked = await admin('revoke-key', '--key', key.key._id);
    expect(revoked).toEqual({ ...key.key, revokedAt: timestamp });
  }, 120_000);

  it("applies the API's validation and rules to every input, exiting non-zero and writing nothing", async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI rules', '--owner-name', 'Ops');
    const orgId = boot.org._id;
    const owner = boot.owner._id;
    const member = (await admin('create-user', '--org', orgId, '--name', 'Member'))._id;
    const before = await auditActions(orgId);
    expect(before).toEqual(['OrgUserCreated', 'ApiKeyCreated', 'OrgUserCreated']);

    const key = ['create-key', '--org', orgId, '--user', owner];
    const user = ['create-user', '--org', orgId, '--name', 'Eve'];
    const refused: [string[], RegExp][] = [
      // A key that would be dead on arrival: the API answers 400, so does the CLI.
      [[...key, '--scope', 'read', '--expires-at', '2020-01-01T00:00:00Z'], /--expires-at.*must be in the future/],
      [[...key, '--scope', 'read', '--expires-at', '2020-01-01'], /--expires-at.*ISO 8601/],
      [[...key, '--scope', 'bogus'], /--scope.*read.*read-write.*global/],
      [['create-key', '--org', orgId, '--user', member, '--scope', 'global'], /Global keys belong to organization owners and admins/],
      [['create-key', '--org', orgId, '--user', 'bogus', '--scope', 'read'], /--user.*usr_/],
      [['create-key', '--org', 'bogus', '--user', owner, '--scope', 'read'], /--org.*org_/],
      [[...key, '--scope', 'read', '--project', 'bogus'], /--project.*prj_/],
      [[...key, '--scope', 'read', '--name', ' '], /--name/],
      [[...key], /create-key: missing --scope/],
      [[...user, '--org-role', 'owner'], /--org-role.*admin.*member/],
      [[...user, '--kind', 'robot'], /--kind.*human.*api/],
      [[...user, '--email', 'not-an-email'], /--email/],
      [[...user, '--scope', 'read'], /create-user does not take --scope/],
      [['create-user', '--org', orgId, '--name', ''], /--name/],
      [['create-project', '--org', orgId, '--owner', owner, '--name', '   '], /--name/],
      [['create-project', '--org', orgId, '--owner', 'usr_x', '--name', 'P'], /--owner.*usr_/],
      [['revoke-key', '--key', 'bogus'], /--key.*key_/],
      [['bootstrap', '--org-name', ' ', '--owner-name', 'Ops'], /--org-name/],
      [['bootstrap', '--org-name', 'X', '--owner-name', 'Ops', '--owner-email', 'nope'], /--owner-email/],
      [['nosuch-command'], /Unknown command nosuch-command/],
      // Named with the command's own usage, not Node's parser text ("To specify a positional argument…").
      [['create-user', '--org', orgId, '--nosuch-flag', 'x'], /create-user does not take --nosuch-flag\nUsage: npm run admin -- create-user --org ORG --name N/],
      [['create-user', '--name', 'N', '--org'], /--org needs a value\nUsage: npm run admin -- create-user /],
    ];
    // A few at a time: each is a process of its own.
    for (let i = 0; i < refused.length; i += 4) {
      await Promise.all(
        refused.slice(i, i + 4).map(([args, message]) => expect(admin(...args), args.join(' ')).rejects.toThrow(message)),
      );
    }

    expect(await auditActions(orgId)).toEqual(before);
  }, 180_000);

  it('words errors for the CLI, which uses no API key', async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI errors', '--owner-name', 'Ops');
    const orgId = boot.org._id;
    const ghost = (prefix: string) => `${prefix}_0000000000zzzzzzzzzzzzzzzz`;
    const attempts: [string[], RegExp][] = [
      [['create-key', '--org', orgId, '--user', ghost('usr'), '--scope', 'read'], new RegExp(`no such org user ${ghost('usr')} in ${orgId}`)],
      [['create-key', '--org', orgId, '--user', boot.owner._id, '--scope', 'read', '--project', ghost('prj')], new RegExp(`no such project ${ghost('prj')} in ${orgId}`)],
      [['create-user', '--org', ghost('org'), '--name', 'N'], new RegExp(`no such organization ${ghost('org')}`)],
      [['create-project', '--org', orgId, '--owner', ghost('usr'), '--name', 'P'], new RegExp(`no such org user ${ghost('usr')} in ${orgId}`)],
      [['revoke-key', '--key', ghost('key')], new RegExp(`no such API key ${ghost('key')}`)],
    ];
    for (const [args, message] of attempts) {
      const error = await admin(...args).then(
        () => null,
        (e: Error) => e.message,
      );
      expect(error, args.join(' ')).toMatch(message);
      expect(error, args.join(' ')).not.toMatch(/visible|API key:|Bearer/);
    }
  }, 120_000);

  it('list-orgs --org: the owner and admins with their keys and a create-key command, never a secret', async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI list', '--owner-name', 'Ops');
    const orgId = boot.org._id;
    const robot = await admin('create-user', '--org', orgId, '--name', 'Robot', '--org-role', 'admin', '--kind', 'api');
    await admin('create-user', '--org', orgId, '--name', 'Member');
    const robotKey = await admin('create-key', '--org', orgId, '--user', robot._id, '--scope', 'read-write', '--name', 'ci', '--expires-at', '2099-01-01T00:00:00Z');

    const result = await adminRun('list-orgs', '--org', orgId);
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout);
    expect(listed).toEqual({
      data: [
        {
          _id: orgId,
          name: 'CLI list',
          createdAt: timestamp,
          ownersAndAdmins: [
            { ...boot.owner, keys: [boot.key] },
            { ...robot, keys: [robotKey.key] },
          ],
          createKey: expect.stringContaining(`npm run admin -- create-key --org ${orgId} --user ${boot.owner._id} --scope global`),
        },
      ],
      nextCursor: null,
    });
    for (const secret of [boot.secret, robotKey.secret]) expect(result.stdout).not.toContain(secret.split('_').at(-1));
    expect(result.stdout).not.toMatch(/puk_|secretHash|version|ownerRoles/);
    // The pasted command names the same table and engine as this run.
    expect(listed.data[0].createKey).toContain(`--table ${inject('tableName')}`);
    expect(listed.data[0].createKey).toContain(`--endpoint ${inject('dynamoEndpoint')}`);
    await expect(admin('list-orgs', '--org', 'org_0000000000zzzzzzzzzzzzzzzz')).rejects.toThrow(/no such organization org_0000000000zzzzzzzzzzzzzzzz/);
  }, 120_000);
});
