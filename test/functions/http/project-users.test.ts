import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../functions/domain/permissions.js';
import { checkTable } from '../../../scripts/invariants/index.js';
import { keys } from '../../../functions/store/keys.js';
import { call, newOrg, testApp } from '../../support/app.js';
import { localDynamoClient } from '../../support/table.js';

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;

beforeAll(async () => {
  org = await newOrg(t);
});

const users = (projectId: string) => `/api/projects/${projectId}/users`;

describe('project users: success paths', () => {
  it('adds, gets, lists, updates and removes a project user with the spec shape', async () => {
    const project = await org.project('Shape');
    const userId = await org.user();

    const added = await call(t, 'POST', users(project._id), {
      key: org.adminKey,
      body: { _id: userId, roles: ['editor', 'viewer', 'editor'], tags: ['eu', 'eu', 'ci'] },
    });
    expect(added.status).toBe(201);
    expect(Object.keys(added.body).sort()).toEqual(
      ['_id', 'projectId', 'userId', 'roles', 'tags', 'isOwner', 'expiresAt', 'permissions', 'createdAt', 'updatedAt', 'version'].sort(),
    );
    expect(added.body).toMatchObject({
      projectId: project._id,
      userId,
      roles: ['viewer', 'editor'],
      tags: ['eu', 'ci'],
      isOwner: false,
      permissions: ['project:read', 'project:write'],
      version: 1,
    });
    expect(added.body._id).toMatch(/^pu_[0-9a-z]{26}$/);
    expect(added.body._id).not.toBe(userId);
    expect(added.headers.get('Location')).toBe(`/api/projects/${project._id}/users/${added.body._id}`);
    expect(added.headers.get('ETag')).toBe('"1"');

    const got = await call(t, 'GET', `${users(project._id)}/${added.body._id}`, { key: org.adminKey });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(added.body);
    expect(got.headers.get('ETag')).toBe('"1"');

    const list = await call(t, 'GET', users(project._id), { key: org.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.data.map((u: { _id: string }) => u._id)).toEqual([project.ownerProjectUserId, added.body._id]);

    const patched = await call(t, 'PATCH', `${users(project._id)}/${added.body._id}`, {
      key: org.adminKey,
      body: { roles: ['manager'], tags: [] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ roles: ['manager'], tags: [], version: 2 });
    expect(patched.body.permissions).toContain('members:manage');
    expect(patched.headers.get('ETag')).toBe('"2"');

    const removed = await call(t, 'DELETE', `${users(project._id)}/${added.body._id}`, { key: org.adminKey });
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    const gone = await call(t, 'GET', `${users(project._id)}/${added.body._id}`, { key: org.adminKey });
    expect(gone.status).toBe(404);

    // Removed users can be added again, as a new project user.
    const again = await call(t, 'POST', users(project._id), { key: org.adminKey, body: { _id: userId } });
    expect(again.status).toBe(201);
    expect(again.body.roles).toEqual(['viewer']);
    expect(again.body._id).not.toBe(added.body._id);
  });

  it('me: the caller, its membership and its effective permissions', async () => {
    const project = await org.project('Me');
    const manager = await org.memberWithKey(project._id, ['manager']);
    const me = await call(t, 'GET', `${users(project._id)}/me`, { key: manager.key });
    expect(me.status).toBe(200);
    expect(me.body.type).toBe('apiKey');
    expect(me.body.key).toMatchObject({ userId: manager.userId, scope: 'read-write', projectId: null, revokedAt: null });
    expect(me.body.key).not.toHaveProperty('secretHash');
    expect(me.body.user).toMatchObject({ _id: manager.userId, orgRole: 'member' });
    expect(me.body.projectUser).toMatchObject({ _id: manager.projectUserId, roles: ['manager'] });
    expect(me.body.permissions).toEqual(['project:read', 'project:write', 'members:manage']);

    // A read key's effective permissions are read-only, whatever its role.
    const readKey = await org.key(manager.userId, 'read');
    const meRead = await call(t, 'GET', `${users(project._id)}/me`, { key: readKey });
    expect(meRead.body.permissions).toEqual(['project:read']);

    // A global key that is not a member: no projectUser, every permission.
    const adminUser = await org.user({ orgRole: 'admin' });
    const globalKey = await org.key(adminUser, 'global');
    const meGlobal = await call(t, 'GET', `${users(project._id)}/me`, { key: globalKey });
    expect(meGlobal.status).toBe(200);
    expect(meGlobal.body.projectUser).toBeNull();
    expect(meGlobal.body.permissions).toContain('project:transfer-ownership');
  });
});

describe('permission matrix by role', () => {
  // What each role may do to a fresh `viewer` target, and which roles it may grant.
  const cases: { role: Role; read: number; add: number; patch: number; remove: number; grantable: Role[] }[] = [
    { role: 'viewer', read: 200, add: 403, patch: 403, remove: 403, grantable: [] },
    { role: 'editor', read: 200, add: 403, patch: 403, remove: 403, grantable: [] },
    { role: 'manager', read: 200, add: 201, patch: 200, remove: 204, grantable: ['viewer', 'editor', 'manager'] },
    { role: 'admin', read: 200, add: 201, patch: 200, remove: 204, grantable: ['viewer', 'editor', 'manager', 'admin'] },
  ];

  for (const c of cases) {
    it(`${c.role}: read ${c.read}, add ${c.add}, update ${c.patch}, remove ${c.remove}, grants ${c.grantable.join('/') || 'nothing'}`, async () => {
      const project = await org.project(`Matrix ${c.role}`);
      const caller = await org.memberWithKey(project._id, [c.role]);

      expect((await call(t, 'GET', users(project._id), { key: caller.key })).status).toBe(c.read);
      const target = await org.member(project._id, await org.user(), ['viewer']);
      expect((await call(t, 'GET', `${users(project._id)}/${target._id}`, { key: caller.key })).status).toBe(c.read);

      const newcomer = await org.user();
      const add = await call(t, 'POST', users(project._id), { key: caller.key, body: { _id: newcomer, roles: ['viewer'] } });
      expect(add.status).toBe(c.add);

      const patch = await call(t, 'PATCH', `${users(project._id)}/${target._id}`, { key: caller.key, body: { tags: ['t'] } });
      expect(patch.status).toBe(c.patch);

      for (const role of ['viewer', 'editor', 'manager', 'admin'] as Role[]) {
        const res = await call(t, 'POST', users(project._id), { key: caller.key, body: { _id: await org.user(), roles: [role] } });
        const expected = c.grantable.includes(role) ? 201 : 403;
        expect(res.status, `${c.role} granting ${role}`).toBe(expected);
      }

      const remove = await call(t, 'DELETE', `${users(project._id)}/${target._id}`, { key: caller.key });
      expect(remove.status).toBe(c.remove);
    });
  }

  it('a manager cannot touch an admin, promote to admin, or revoke admin', async () => {
    const project = await org.project('Manager limits');
    const manager = await org.memberWithKey(project._id, ['manager']);
    const admin = await org.member(project._id, await org.user(), ['admin']);
    const editor = await org.member(project._id, await org.user(), ['editor']);

    const path = (id: string) => `${users(project._id)}/${id}`;
    expect((await call(t, 'PATCH', path(admin._id), { key: manager.key, body: { roles: ['viewer'] } })).status).toBe(403);
    expect((await call(t, 'PATCH', path(admin._id), { key: manager.key, body: { tags: ['x'] } })).status).toBe(403);
    expect((await call(t, 'DELETE', path(admin._id), { key: manager.key })).status).toBe(403);
    expect((await call(t, 'PATCH', path(editor._id), { key: manager.key, body: { roles: ['admin'] } })).status).toBe(403);
    const promoted = await call(t, 'PATCH', path(editor._id), { key: manager.key, body: { roles: ['manager'] } });
    expect(promoted.status).toBe(200);
    expect(promoted.body.roles).toEqual(['manager']);
  });

  it('nobody changes its own roles; tags of oneself are fine for a manager', async () => {
    const project = await org.project('Self');
    const admin = await org.memberWithKey(project._id, ['admin']);
    const self = `${users(project._id)}/${admin.projectUserId}`;
    const res = await call(t, 'PATCH', self, { key: admin.key, body: { roles: ['admin', 'editor'] } });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/own roles/);
    expect((await call(t, 'PATCH', self, { key: admin.key, body: { tags: ['me'] } })).status).toBe(200);
  });

  it('unknown roles are a 409 and change nothing', async () => {
    const project = await org.project('Unknown role');
    const userId = await org.user();
    const res = await call(t, 'POST', users(project._id), { key: org.adminKey, body: { _id: userId, roles: ['superuser'] } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('unknown_role');
    const list = await call(t, 'GET', users(project._id), { key: org.adminKey });
    expect(list.body.data).toHaveLength(1);
  });

  // Regression: the unknown-role and already-member 409s came before the 403s they should follow
  // (SPEC order of checks: permission 403, then state 409).
  it('a caller refused the change gets 403 before any 409 about roles or membership', async () => {
    const project = await org.project('Order');
    const editor = await org.memberWithKey(project._id, ['editor']);
    const viewer = await org.memberWithKey(project._id, ['viewer']);
    const manager = await org.memberWithKey(project._id, ['manager']);
    const outsiderId = await org.user();
    const outsiderKey = await org.key(outsiderId, 'read-write');
    const other = await org.user();
    const add = (key: string, body: object) => call(t, 'POST', users(project._id), { key, body });
    const cases: [string, Promise<{ status: number; body: { code: string } }>, number, string][] = [
      ['self-join with an unknown role', add(outsiderKey, { _id: outsiderId, roles: ['superuser'] }), 403, 'forbidden'],
      ['an editor adds someone with an unknown role', add(editor.key, { _id: other, roles: ['superuser'] }), 403, 'forbidden'],
      ['a viewer adds itself as admin', add(viewer.key, { _id: viewer.userId, roles: ['admin'] }), 403, 'forbidden'],
      ['a manager changes its own roles to an unknown one', call(t, 'PATCH', `${users(project._id)}/${manager.projectUserId}`, { key: manager.key, body: { roles: ['superuser'] } }), 403, 'forbidden'],
      // What the caller may do, on a state that refuses it: still the 409s.
      ['a viewer adds itself as viewer', add(viewer.key, { _id: viewer.userId, roles: ['viewer'] }), 409, 'already_member'],
      ['a manager adds someone with an unknown role', add(manager.key, { _id: other, roles: ['superuser'] }), 409, 'unknown_role'],
    ];
    for (const [label, reply, status, code] of cases) {
      const res = await reply;
      expect([label, res.status, res.body.code]).toEqual([label, status, code]);
    }
    const list = await call(t, 'GET', users(project._id), { key: org.adminKey });
    expect(list.body.data).toHaveLength(4);
  });

  it('adding an existing member is a 409', async () => {
    const project = await org.project('Dup');
    const userId = await org.user();
    await org.member(project._id, userId, ['viewer']);
    const res = await call(t, 'POST', users(project._id), { key: org.adminKey, body: { _id: userId, roles: ['editor'] } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('already_member');
  });

  it('adding a user of another org, or no such user, is a 404', async () => {
    const project = await org.project('Foreign');
    const other = await newOrg(t, 'Other');
    const res = await call(t, 'POST', users(project._id), { key: org.adminKey, body: { _id: other.owner.userId } });
    expect(res.status).toBe(404);
    const ghost = await call(t, 'POST', users(project._id), { key: org.adminKey, body: { _id: 'usr_0000000000aaaaaaaaaaaaaaaa' } });
    expect(ghost.status).toBe(404);
  });
});

describe('owner protections and transfer', () => {
  // The deletion marks the user first, then removes its memberships one by one: a transfer landing
  // in between must not hand the project to a user already gone for the API.
  it('ownership cannot go to a member whose org user is being deleted: 404, the owner unchanged', async () => {
    const project = await org.project('Heir leaving');
    const heirId = await org.user();
    const heir = await org.member(project._id, heirId, ['admin']);
    const user = (await t.store.getOrgUser(org.orgId, heirId, true))!;
    await t.store.markOrgUserDeleting({ user, authority: { kind: 'operator' }, actor: { keyId: null, userId: 'operator' } });

    const transfer = await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: org.adminKey, body: { projectUserId: heir._id } });
    expect([transfer.status, transfer.body.code]).toEqual([404, 'not_found']);
    const after = await call(t, 'GET', `/api/projects/${project._id}`, { key: org.adminKey });
    expect(after.body.ownerProjectUserId).toBe(project.ownerProjectUserId);
  });

  it('the owner cannot be removed or demoted (409), by anyone', async () => {
    const project = await org.project('Owner');
    const admin = await org.memberWithKey(project._id, ['admin']);
    const owner = `${users(project._id)}/${project.ownerProjectUserId}`;
    for (const key of [admin.key, org.adminKey]) {
      const del = await call(t, 'DELETE', owner, { key });
      expect(del.status).toBe(409);
      expect(del.body.code).toBe('owner_protected');
      const demote = await call(t, 'PATCH', owner, { key, body: { roles: ['viewer'] } });
      expect(demote.status === 409 || demote.status === 403).toBe(true);
    }
    const demoteByAdmin = await call(t, 'PATCH', owner, { key: admin.key, body: { roles: ['viewer'] } });
    expect(demoteByAdmin.status).toBe(409);
    const ownerMe = await call(t, 'GET', owner, { key: org.adminKey });
    expect(ownerMe.body).toMatchObject({ isOwner: true, roles: ['admin'], version: 1 });
  });

  it('only the owner transfers; the old owner stays as admin; exactly one owner afterwards', async () => {
    const ownerUser = await org.user({ orgRole: 'admin' });
    const ownerKey = await org.key(ownerUser, 'read-write');
    const project = await org.project('Transfer', ownerKey);
    const admin = await org.memberWithKey(project._id, ['admin']);
    const editor = await org.member(project._id, await org.user(), ['editor']);

    const byAdmin = await call(t, 'POST', `/api/projects/${project._id}/owner`, {
      key: admin.key,
      body: { projectUserId: editor._id },
    });
    expect(byAdmin.status).toBe(403);

    const moved = await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: ownerKey, body: { projectUserId: editor._id } });
    expect(moved.status).toBe(200);
    expect(moved.body.ownerProjectUserId).toBe(editor._id);

    const list = await call(t, 'GET', users(project._id), { key: ownerKey });
    const owners = list.body.data.filter((u: { isOwner: boolean }) => u.isOwner);
    expect(owners.map((u: { _id: string }) => u._id)).toEqual([editor._id]);
    const oldOwner = list.body.data.find((u: { _id: string }) => u._id === project.ownerProjectUserId);
    expect(oldOwner).toMatchObject({ isOwner: false, roles: ['admin'] });
    expect(oldOwner.permissions).not.toContain('project:transfer-ownership');

    // The former owner lost the right to transfer; the new owner has it.
    const again = await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: ownerKey, body: { projectUserId: admin.projectUserId } });
    expect(again.status).toBe(403);
    const projectNow = await call(t, 'GET', `/api/projects/${project._id}`, { key: ownerKey });
    expect(projectNow.body.ownerProjectUserId).toBe(editor._id);
  });

  it('a global key transfers twice in a row; old owners keep their tags, and projects from before ownerRoles still transfer', async () => {
    const project = await org.project('Transfer chain');
    const editor = await org.member(project._id, await org.user(), ['editor']);
    const viewer = await org.member(project._id, await org.user(), ['viewer']);
    const ownerPath = `${users(project._id)}/${project.ownerProjectUserId}`;
    const tagged = await call(t, 'PATCH', ownerPath, { key: org.adminKey, body: { tags: ['founder'] } });
    expect(tagged.status).toBe(200);

    const first = await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: org.adminKey, body: { projectUserId: editor._id } });
    expect(first.status).toBe(200);
    const founder = await call(t, 'GET', ownerPath, { key: org.adminKey });
    expect(founder.body).toMatchObject({ isOwner: false, roles: ['admin'], tags: ['founder'], version: 3 });

    // A project item written before ownerRoles existed: the transfer reads the owner instead.
    const raw = localDynamoClient(t.config.dynamoEndpoint, t.config.region);
    await DynamoDBDocumentClient.from(raw).send(
      new UpdateCommand({ TableName: t.config.tableName, Key: keys.project(project._id), UpdateExpression: 'REMOVE ownerRoles' }),
    );
    const second = await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: org.adminKey, body: { projectUserId: viewer._id } });
    expect(second.status).toBe(200);
    const editorNow = await call(t, 'GET', `${users(project._id)}/${editor._id}`, { key: org.adminKey });
    expect(editorNow.body).toMatchObject({ isOwner: false, roles: ['editor', 'admin'], version: 3 });
    const viewerNow = await call(t, 'GET', `${users(project._id)}/${viewer._id}`, { key: org.adminKey });
    expect(viewerNow.body).toMatchObject({ isOwner: true, roles: ['viewer'], version: 2 });

    // The project remembers the new owner's roles again, and every invariant holds.
    const violations = await checkTable({ tableName: t.config.tableName, client: raw, orgIds: [org.orgId] });
    raw.destroy();
    expect(violations).toEqual([]);
  });

  it('transfer to a project user that does not exist is a 404', async () => {
    const project = await org.project('Transfer 404');
    const res = await call(t, 'POST', `/api/projects/${project._id}/owner`, {
      key: org.adminKey,
      body: { projectUserId: 'pu_0000000000aaaaaaaaaaaaaaaa' },
    });
    expect(res.status).toBe(404);
  });
});

describe('If-Match and ETag', () => {
  it('PATCH and DELETE with a stale If-Match are 412 and change nothing', async () => {
    const project = await org.project('ETags');
    const target = await org.member(project._id, await org.user(), ['viewer']);
    const path = `${users(project._id)}/${target._id}`;

    const stale = await call(t, 'PATCH', path, { key: org.adminKey, body: { roles: ['editor'] }, headers: { 'If-Match': '"7"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('precondition_failed');

    const ok = await call(t, 'PATCH', path, { key: org.adminKey, body: { roles: ['editor'] }, headers: { 'If-Match': '"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ETag')).toBe('"2"');

    const replay = await call(t, 'PATCH', path, { key: org.adminKey, body: { roles: ['manager'] }, headers: { 'If-Match': '"1"' } });
    expect(replay.status).toBe(412);

    const staleDelete = await call(t, 'DELETE', path, { key: org.adminKey, headers: { 'If-Match': '1' } });
    expect(staleDelete.status).toBe(412);
    const current = await call(t, 'GET', path, { key: org.adminKey });
    expect(current.body).toMatchObject({ roles: ['editor'], version: 2 });

    const deleted = await call(t, 'DELETE', path, { key: org.adminKey, headers: { 'If-Match': current.headers.get('ETag')! } });
    expect(deleted.status).toBe(204);
  });

  it('concurrent PATCHes with the same If-Match: exactly one wins', async () => {
    const project = await org.project('Race');
    const target = await org.member(project._id, await org.user(), ['viewer']);
    const path = `${users(project._id)}/${target._id}`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(t, 'PATCH', path, { key: org.adminKey, body: { tags: [`t${i}`] }, headers: { 'If-Match': '"1"' } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(7);
    const final = await call(t, 'GET', path, { key: org.adminKey });
    expect(final.body.version).toBe(2);
  });
});
