import { beforeAll, describe, expect, it } from 'vitest';
import { call, newOrg, testApp } from '../../support/app.js';

/**
 * Roles as data end to end (SPEC §6, §7): a service defines `content:publish`, gives it to a
 * role, assigns the role, and asks "may this principal publish here?".
 */
const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;
let projectId: string;
let roleId: string;
const check = (key: string, body: unknown) => call(t, 'POST', `/api/projects/${projectId}/check`, { key, body });

beforeAll(async () => {
  org = await newOrg(t, 'Check');
  projectId = (await org.project('Check'))._id;
  expect((await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: 'content:publish' } })).status).toBe(201);
  expect((await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: 'content:read' } })).status).toBe(201);
  const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Publisher', permissions: ['project:read', 'content:publish', 'content:read'] } });
  expect(role.status).toBe(201);
  roleId = role.body._id;
});

describe('roles as data, through the project-user routes', () => {
  it('a custom role is assigned like a built-in one, and its permissions show on the member and in me', async () => {
    const user = await org.user();
    const added = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: { _id: user, roles: [roleId] } });
    expect(added.status).toBe(201);
    expect(added.body.roles).toEqual([roleId]);
    expect(added.body.permissions).toEqual(['project:read', 'content:publish', 'content:read']);
    const key = await org.key(user, 'read-write');
    const me = await call(t, 'GET', `/api/projects/${projectId}/users/me`, { key });
    expect(me.status).toBe(200);
    expect(me.body.grants).toContainEqual({ permission: 'content:publish', grantedBy: [`role:${roleId}`] });
    const filtered = await call(t, 'GET', `/api/projects/${projectId}/users?role=${roleId}`, { key });
    expect(filtered.body.data.map((pu: { userId: string }) => pu.userId)).toEqual([user]);
  });

  it('an unknown role ID is 409 unknown_role; a role in use cannot be deleted (409 holders); once unassigned it can', async () => {
    const unknown = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: { _id: await org.user(), roles: ['rol_0000000000aaaaaaaaaaaaaaaa'] } });
    expect([unknown.status, unknown.body.code]).toEqual([409, 'unknown_role']);
    const temp = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Temp', permissions: ['content:read'] } });
    const holder = await org.user();
    const pu = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: { _id: holder, roles: ['viewer', temp.body._id] } });
    const inUse = await call(t, 'DELETE', `/api/roles/${temp.body._id}`, { key: org.adminKey });
    expect([inUse.status, inUse.body.code, inUse.body.holders]).toEqual([409, 'role_in_use', 1]);
    const unassigned = await call(t, 'PATCH', `/api/projects/${projectId}/users/${pu.body._id}`, { key: org.adminKey, body: { roles: ['viewer'] } });
    expect(unassigned.status).toBe(200);
    expect((await call(t, 'DELETE', `/api/roles/${temp.body._id}`, { key: org.adminKey })).status).toBe(204);
    const again = await call(t, 'PATCH', `/api/projects/${projectId}/users/${pu.body._id}`, { key: org.adminKey, body: { roles: ['viewer', temp.body._id] } });
    expect([again.status, again.body.code]).toEqual([409, 'unknown_role']);
  });

  it('an expired holder does not block deleting its role, and cannot be restored holding it; a deleted user releases its roles', async () => {
    const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Short-lived', permissions: ['content:read'] } });
    const holder = await org.user();
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const pu = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: { _id: holder, roles: [role.body._id], expiresAt } });
    expect(pu.status).toBe(201);
    expect((await call(t, 'DELETE', `/api/roles/${role.body._id}`, { key: org.adminKey })).body.holders).toBe(1);
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await call(t, 'DELETE', `/api/roles/${role.body._id}`, { key: org.adminKey })).status).toBe(204);
    const restore = await call(t, 'PATCH', `/api/projects/${projectId}/users/${pu.body._id}`, { key: org.adminKey, body: { expiresAt: null } });
    expect([restore.status, restore.body.code]).toEqual([409, 'unknown_role']);

    const kept = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Kept', permissions: ['content:read'] } });
    const leaving = await org.user();
    await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: { _id: leaving, roles: [kept.body._id] } });
    expect((await call(t, 'DELETE', `/api/users/${leaving}`, { key: org.adminKey })).status).toBe(204);
    expect((await call(t, 'DELETE', `/api/roles/${kept.body._id}`, { key: org.adminKey })).status).toBe(204);
  });

  it('a member whose roles lack project:read may not read the project (403), as the check says; it may still check itself', async () => {
    const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Publish only', permissions: ['content:publish'] } });
    const member = await org.memberWithKey(projectId, [role.body._id]);
    const asked = await check(member.key, { permissions: ['project:read', 'content:publish'] });
    expect(asked.status).toBe(200);
    expect(asked.body.results.map((r: { allowed: boolean }) => r.allowed)).toEqual([false, true]);
    for (const path of ['', '/users', `/users/${member.projectUserId}`, '/users/me']) {
      const read = await call(t, 'GET', `/api/projects/${projectId}${path}`, { key: member.key });
      expect([path, read.status, read.body.code]).toEqual([path, 403, 'forbidden']);
    }
    // Nor is it listed, by the member's key or by a key pinned to the project.
    const pinned = await org.key(member.userId, 'read-write', { projectId });
    for (const key of [member.key, pinned]) {
      const listed = await call(t, 'GET', '/api/projects', { key });
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((p: { _id: string }) => p._id)).not.toContain(projectId);
    }
    // A viewer of the same org sees it listed, as before.
    const viewer = await org.memberWithKey(projectId, ['viewer']);
    expect((await call(t, 'GET', '/api/projects', { key: viewer.key })).body.data.map((p: { _id: string }) => p._id)).toContain(projectId);
  });

  it('project:transfer-ownership is the owner\'s alone: no custom role may hold it (400), so no holder takes the project', async () => {
    const created = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Taker', permissions: ['project:read', 'project:transfer-ownership'] } });
    expect([created.status, created.body.code]).toEqual([400, 'validation_failed']);
    const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Almost taker', permissions: ['project:read'] } });
    const patched = await call(t, 'PATCH', `/api/roles/${role.body._id}`, { key: org.adminKey, body: { permissions: ['project:read', 'project:transfer-ownership'] } });
    expect([patched.status, patched.body.code]).toEqual([400, 'validation_failed']);
    const holder = await org.memberWithKey(projectId, [role.body._id]);
    const taken = await call(t, 'POST', `/api/projects/${projectId}/owner`, { key: holder.key, body: { projectUserId: holder.projectUserId } });
    expect(taken.status).toBe(403);
  });

  it('role IDs that name Object.prototype members are unknown roles (409 unknown_role), never a retry loop', async () => {
    const user = await org.user();
    for (const roleId of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const added = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: { _id: user, roles: [roleId] } });
      expect([roleId, added.status, added.body.code]).toEqual([roleId, 409, 'unknown_role']);
    }
    const pu = await org.member(projectId, user, ['viewer']);
    const patched = await call(t, 'PATCH', `/api/projects/${projectId}/users/${pu._id}`, { key: org.adminKey, body: { roles: ['valueOf'] } });
    expect([patched.status, patched.body.code]).toEqual([409, 'unknown_role']);
  });

  it('a member whose expiry a transfer of ownership cleared still holds its custom role: the role cannot be deleted after the old expiry', async () => {
    const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Heir role', permissions: ['project:read'] } });
    const project = await org.project('Inherited');
    const heir = await org.user();
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const pu = await call(t, 'POST', `/api/projects/${project._id}/users`, { key: org.adminKey, body: { _id: heir, roles: [role.body._id], expiresAt } });
    expect(pu.status, pu.text).toBe(201);
    const transferred = await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: org.adminKey, body: { projectUserId: pu.body._id } });
    expect(transferred.status, transferred.text).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now() + 300)));
    const deleted = await call(t, 'DELETE', `/api/roles/${role.body._id}`, { key: org.adminKey });
    expect([deleted.status, deleted.body.code, deleted.body.holders]).toEqual([409, 'role_in_use', 1]);
    const owner = await call(t, 'GET', `/api/projects/${project._id}/users/${pu.body._id}`, { key: org.adminKey });
    expect(owner.body).toMatchObject({ isOwner: true, expiresAt: null, roles: [role.body._id] });
  });

  it('a built-in role gaining a custom permission changes who may grant it, at once', async () => {
    const manager = await org.memberWithKey(projectId, ['manager']);
    const grant = (userId: string) => call(t, 'POST', `/api/projects/${projectId}/users`, { key: manager.key, body: { _id: userId, roles: ['editor'] } });
    expect((await grant(await org.user())).status).toBe(201);
    const editor = await call(t, 'GET', '/api/roles/editor', { key: org.adminKey });
    const gained = await call(t, 'PATCH', '/api/roles/editor', {
      key: org.adminKey,
      body: { permissions: [...editor.body.permissions, 'content:publish'] },
      headers: { 'If-Match': editor.headers.get('ETag')! },
    });
    expect(gained.status).toBe(200);
    const refused = await grant(await org.user());
    expect(refused.status).toBe(403);
    const lost = await call(t, 'PATCH', '/api/roles/editor', { key: org.adminKey, body: { permissions: editor.body.permissions } });
    expect(lost.status).toBe(200);
    expect((await grant(await org.user())).status).toBe(201);
  });
});

describe('POST /api/projects/:projectId/check', () => {
  it('the caller: one result and reason per permission, unknown ones denied on their own', async () => {
    const member = await org.memberWithKey(projectId, ['viewer']);
    await call(t, 'PATCH', `/api/projects/${projectId}/users/${member.projectUserId}`, { key: org.adminKey, body: { roles: ['viewer', roleId] } });
    const res = await check(member.key, { permissions: ['content:publish', 'members:manage', 'nope:x', 'project:read'] });
    expect(res.status).toBe(200);
    expect(res.body.principal).toMatchObject({ userId: member.userId, scope: 'read-write', active: true });
    expect(res.body.results).toEqual([
      { permission: 'content:publish', allowed: true, reason: `role:${roleId}` },
      { permission: 'members:manage', allowed: false, reason: 'not_granted' },
      { permission: 'nope:x', allowed: false, reason: 'unknown_permission' },
      { permission: 'project:read', allowed: true, reason: 'role:viewer' },
    ]);
  });

  it('another principal by userId or by key: global keys and org admins only; dead keys are inactive, never echoed', async () => {
    const member = await org.memberWithKey(projectId, ['editor']);
    const byUser = await check(org.adminKey, { principal: { userId: member.userId }, permissions: ['project:write'] });
    expect(byUser.body.results[0]).toEqual({ permission: 'project:write', allowed: true, reason: 'role:editor' });
    const byKey = await check(org.adminKey, { principal: { key: member.key }, permissions: ['project:write'] });
    expect(byKey.body.principal).toMatchObject({ userId: member.userId, scope: 'read-write', active: true });
    expect(byKey.body.results[0], JSON.stringify(byKey.body)).toMatchObject({ allowed: true });
    const readKey = await org.key(member.userId, 'read');
    expect((await check(org.adminKey, { principal: { key: readKey }, permissions: ['project:write'] })).body.results[0].reason).toBe('key_scope_read');
    const keyId = member.key.split('_').slice(1, 3).join('_');
    expect((await call(t, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey })).status).toBe(204);
    const dead = await check(org.adminKey, { principal: { key: member.key }, permissions: ['project:read'] });
    expect(dead.status).toBe(200);
    expect(dead.body.principal.active).toBe(false);
    expect(dead.body.results).toEqual([{ permission: 'project:read', allowed: false, reason: 'key_inactive' }]);
    expect(dead.text).not.toContain(member.key.split('_')[3]);
    // Whatever string a service was handed, short, empty or long, it is a key that is not live: 200.
    for (const handed of ['hello', '', `puk_${'a'.repeat(300)}`]) {
      const junk = await check(org.adminKey, { principal: { key: handed }, permissions: ['project:read'] });
      expect([junk.status, junk.body.principal?.active, junk.body.results?.[0]?.reason], JSON.stringify(handed.slice(0, 20))).toEqual([200, false, 'key_inactive']);
    }
    const outsider = await org.memberWithKey(projectId, ['admin']);
    expect((await check(outsider.key, { principal: { userId: member.userId }, permissions: ['project:read'] })).status).toBe(403);
    const stranger = await org.user();
    expect((await check(org.adminKey, { principal: { userId: stranger }, permissions: ['project:read'] })).body.results[0].reason).toBe('not_a_member');
  });

  // Regression: the 403 came before visibility, for a missing project, another org's, or one outside the pin.
  it('a caller that may not check others gets the 404 of a project it cannot see before that 403', async () => {
    const member = await org.memberWithKey(projectId, ['admin']);
    const body = { principal: { userId: member.userId }, permissions: ['project:read'] };
    const other = await newOrg(t, 'Check elsewhere');
    const foreign = await other.project('Foreign');
    const own = await org.project('Not a member of it');
    const at = (project: string) => call(t, 'POST', `/api/projects/${project}/check`, { key: member.key, body });
    const missing = await at('prj_00000000000000000000000000');
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
    for (const project of [foreign._id, own._id]) {
      const res = await at(project);
      expect([res.status, res.body]).toEqual([404, missing.body]);
    }
    expect((await at(projectId)).status).toBe(403);
  });

  it('an org admin asking about another principal must see the project: its non-member key gets the 404 of a missing project', async () => {
    const member = await org.memberWithKey(projectId, ['editor']);
    const orgAdminKey = await org.key(await org.user({ orgRole: 'admin' }), 'read-write');
    const body = { principal: { userId: member.userId }, permissions: ['project:read'] };
    const hidden = await check(orgAdminKey, body);
    const missing = await call(t, 'POST', '/api/projects/prj_00000000000000000000000000/check', { key: orgAdminKey, body });
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect(hidden.body).toEqual(missing.body);
    // The routes agree: this key sees nothing of the project.
    expect((await call(t, 'GET', `/api/projects/${projectId}/users`, { key: orgAdminKey })).status).toBe(404);
  });

  it('a project the caller cannot see is 404; 0 or 51 permissions are 400', async () => {
    const other = await newOrg(t, 'Elsewhere');
    expect((await check(other.adminKey, { permissions: ['project:read'] })).status).toBe(404);
    expect((await check(org.adminKey, { permissions: [] })).status).toBe(400);
    expect((await check(org.adminKey, { permissions: Array.from({ length: 51 }, (_, i) => `a:b${i}`) })).status).toBe(400);
  });
});
