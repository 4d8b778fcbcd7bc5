import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { partitions } from '../../functions/store/keys.js';
import { partitionItems } from '../support/table.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const tsx = join(root, 'node_modules/.bin/tsx');

/** `npm run admin -- …` against the tests' table; resolves with its parsed JSON, rejects with its stderr. */
async function admin(...args: string[]) {
  try {
    const { stdout } = await run(tsx, ['scripts/admin.ts', ...args, '--table', inject('tableName'), '--endpoint', inject('dynamoEndpoint')], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    return JSON.parse(stdout);
  } catch (error) {
    throw new Error(String((error as { stderr?: string }).stderr ?? error));
  }
}

describe('npm run admin: roles and permissions (SPEC §6)', () => {
  it('create-permission, create-role, list-roles, under the API rules, audited as the operator', async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI roles', '--owner-name', 'Ops');
    const orgId = boot.org._id;

    const permission = await admin('create-permission', '--org', orgId, '--key', 'content:publish', '--description', 'Publish content');
    expect(permission).toEqual({ key: 'content:publish', description: 'Publish content', builtIn: false, createdAt: expect.any(String) });

    const role = await admin('create-role', '--org', orgId, '--name', 'Publisher', '--permissions', 'content:publish, project:read');
    expect(role).toEqual({
      _id: expect.stringMatching(/^rol_[0-9a-z]{26}$/),
      name: 'Publisher',
      description: null,
      permissions: ['project:read', 'content:publish'],
      builtIn: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      version: 1,
    });

    const { data: roles, nextCursor } = await admin('list-roles', '--org', orgId);
    expect(nextCursor).toBeNull();
    expect(roles.map((r: { _id: string }) => r._id)).toEqual(['viewer', 'editor', 'manager', 'admin', role._id]);
    expect(roles[4]).toEqual(role);
    expect(roles[3].permissions).toContain('content:publish');

    // The same validation as the API: reserved resource, duplicate, unknown permission, unknown org.
    await expect(admin('create-permission', '--org', orgId, '--key', 'project:archive')).rejects.toThrow(/reserved/);
    await expect(admin('create-permission', '--org', orgId, '--key', 'content:publish')).rejects.toThrow(/already exists/);
    await expect(admin('create-role', '--org', orgId, '--name', 'Bad', '--permissions', 'nosuch:thing')).rejects.toThrow(/--permissions.*nosuch:thing/);
    await expect(admin('create-role', '--org', orgId, '--name', 'Bad')).rejects.toThrow(/--permissions/);
    await expect(admin('list-roles', '--org', 'org_0000000000zzzzzzzzzzzzzzzz')).rejects.toThrow(/no such organization org_0000000000zzzzzzzzzzzzzzzz/);

    const audit = (await partitionItems(partitions.org(orgId), 'AUDIT#')).filter((a) => /^(Role|Permission)/.test(a.action));
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['PermissionCreated', { keyId: null, userId: 'operator' }],
      ['RoleCreated', { keyId: null, userId: 'operator' }],
    ]);
  }, 90_000);

  it('create-project, create-key and revoke-key are audited as the operator, not as the user they are about', async () => {
    const boot = await admin('bootstrap', '--org-name', 'CLI actor', '--owner-name', 'Ops');
    const orgId = boot.org._id;
    const user = await admin('create-user', '--org', orgId, '--name', 'Member');
    const project = await admin('create-project', '--org', orgId, '--owner', user._id, '--name', 'Made by ops');
    const { key } = await admin('create-key', '--org', orgId, '--user', user._id, '--scope', 'read');
    await admin('revoke-key', '--key', key._id);

    const operator = { keyId: null, userId: 'operator' };
    const orgAudit = await partitionItems(partitions.org(orgId), 'AUDIT#');
    const about = (action: string) => orgAudit.filter((a) => a.action === action && a.userId === user._id).map((a) => a.actor);
    expect([about('ApiKeyCreated'), about('ApiKeyRevoked')]).toEqual([[operator], [operator]]);
    const projectAudit = await partitionItems(partitions.project(project._id), 'AUDIT#');
    expect(projectAudit.map((a) => [a.action, a.actor])).toEqual([['ProjectCreated', operator]]);
  }, 90_000);
});
