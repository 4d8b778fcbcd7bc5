import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../scripts/dynamodb-local.js';

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
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 120_000);
});

describe('npm run admin', () => {
  const admin = async (...args: string[]) => {
    const { stdout } = await run(tsx, ['scripts/admin.ts', ...args, '--table', inject('tableName'), '--endpoint', inject('dynamoEndpoint')], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    return JSON.parse(stdout);
  };

  it('bootstrap, create-user, create-project, create-key, revoke-key against a table', async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI org', '--owner-name', 'Ops');
    expect(boot).toMatchObject({ orgId: expect.stringMatching(/^org_/), ownerUserId: expect.stringMatching(/^usr_/) });
    expect(boot.apiKey).toMatch(/^puk_key_/);

    const user = await admin('create-user', '--org', boot.orgId, '--name', 'Robot', '--kind', 'api', '--org-role', 'admin');
    expect(user).toMatchObject({ orgRole: 'admin', kind: 'api' });
    const project = await admin('create-project', '--org', boot.orgId, '--owner', user.userId, '--name', 'From CLI');
    expect(project.project).toMatchObject({ name: 'From CLI', ownerUserId: user.userId });
    const key = await admin('create-key', '--org', boot.orgId, '--user', user.userId, '--scope', 'read', '--project', project.project.projectId);
    expect(key.key).toMatchObject({ scope: 'read', projectId: project.project.projectId });
    expect(key.key).not.toHaveProperty('secretHash');
    const revoked = await admin('revoke-key', '--key', key.key.keyId);
    expect(revoked.revokedAt).toEqual(expect.any(String));

    await expect(admin('create-key', '--org', boot.orgId, '--user', user.userId, '--scope', 'bogus')).rejects.toThrow(/--scope must be/);
  }, 60_000);
});
