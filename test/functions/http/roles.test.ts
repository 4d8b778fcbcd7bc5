import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_CATALOG_SIZE } from '../../../functions/domain/catalog.js';
import { CATALOG_LIMITS } from '../../../functions/domain/limits.js';
import { partitions } from '../../../functions/store/keys.js';
import { call, newOrg, testApp, type Reply } from '../../support/app.js';
import { partitionItems } from '../../support/table.js';

/** SPEC §6: `/api/permissions` and `/api/roles`, against DynamoDB Local. */
const t = testApp();
const { customPermissionsPerOrg, customRolesPerOrg, permissionsPerRole, roleNameLength } = CATALOG_LIMITS;
let org: Awaited<ReturnType<typeof newOrg>>;

beforeAll(async () => {
  org = await newOrg(t, 'Roles');
});

const SYSTEM = ['project:read', 'project:write', 'members:manage', 'members:grant-admin', 'project:transfer-ownership'];
const ROLE_FIELDS = ['_id', 'name', 'description', 'permissions', 'builtIn', 'createdAt', 'updatedAt', 'version'].sort();
/** A well-formed custom role ID no org has. */
const NO_SUCH_ROLE = 'rol_0000000000zzzzzzzzzzzzzzzz';

let unique = 0;
/** A permission key no other test of this file uses (tests share the org). */
const fresh = (action = 'use') => `res${++unique}-${Date.now().toString(36)}:${action}`;

async function createPermission(key: string, adminKey = org.adminKey, description?: string) {
  const res = await call(t, 'POST', '/api/permissions', { key: adminKey, body: description === undefined ? { key } : { key, description } });
  if (res.status !== 201) throw new Error(`create permission: ${res.status} ${res.text}`);
  return res;
}

async function createRole(body: { name: string; description?: string; permissions: string[] }, adminKey = org.adminKey) {
  const res = await call(t, 'POST', '/api/roles', { key: adminKey, body });
  if (res.status !== 201) throw new Error(`create role: ${res.status} ${res.text}`);
  return res;
}

/** The org's audit items of catalog changes, oldest first. */
async function catalogAudit(orgId: string) {
  const items = await partitionItems(partitions.org(orgId), 'AUDIT#');
  return items
    .filter((item) => /^(Role|Permission)/.test(item.action))
    .map((item) => ({ action: item.action as string, before: item.before, after: item.after, actor: item.actor, projectId: item.projectId }));
}

const adminKeyId = () => org.adminKey.split('_').slice(1, 3).join('_');

function expectProblem(res: Reply, status: number, code?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('Content-Type')).toContain('application/problem+json');
  if (code) expect(res.body.code).toBe(code);
}

describe('permissions', () => {
  it('lists the system permissions first, then creates, gets, lists and deletes a custom one (audited)', async () => {
    const listed = await call(t, 'GET', '/api/permissions', { key: org.adminKey });
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    expect(listed.body.data.slice(0, 5).map((p: { key: string }) => p.key)).toEqual(SYSTEM);
    expect(listed.body.data[0]).toEqual({ key: 'project:read', description: expect.any(String), builtIn: true, createdAt: null });

    const key = fresh('publish');
    const created = await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key, description: 'Publish content' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ key, description: 'Publish content', builtIn: false, createdAt: expect.any(String) });
    expect(created.headers.get('Location')).toBe(`/api/permissions/${key}`);

    const got = await call(t, 'GET', `/api/permissions/${key}`, { key: org.adminKey });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    // Every single resource carries an ETag (SPEC §2), the 201 too: the one a DELETE's If-Match takes.
    expect(created.headers.get('ETag')).toMatch(/^"[^"]+"$/);
    expect(created.headers.get('ETag')).toBe(got.headers.get('ETag'));
    expect((await call(t, 'GET', `/api/permissions/${encodeURIComponent(key)}`, { key: org.adminKey })).body).toEqual(created.body);
    const system = await call(t, 'GET', '/api/permissions/members:manage', { key: org.adminKey });
    expect(system.body).toMatchObject({ key: 'members:manage', builtIn: true });

    const after = await call(t, 'GET', '/api/permissions', { key: org.adminKey });
    expect(after.body.data.slice(0, 5).map((p: { key: string }) => p.key)).toEqual(SYSTEM);
    expect(after.body.data.find((p: { key: string }) => p.key === key)).toEqual(created.body);

    expectProblem(await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key } }), 409, 'conflict');

    const removed = await call(t, 'DELETE', `/api/permissions/${key}`, { key: org.adminKey });
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expectProblem(await call(t, 'GET', `/api/permissions/${key}`, { key: org.adminKey }), 404, 'not_found');
    expectProblem(await call(t, 'DELETE', `/api/permissions/${key}`, { key: org.adminKey }), 404, 'not_found');
    const gone = await call(t, 'GET', '/api/permissions', { key: org.adminKey });
    expect(gone.text).not.toContain(key);

    const audit = (await catalogAudit(org.orgId)).filter((a) => a.after?.key === key || a.before?.key === key);
    expect(audit).toEqual([
      { action: 'PermissionCreated', before: null, after: { key, description: 'Publish content' }, actor: { keyId: adminKeyId(), userId: org.owner.userId }, projectId: null },
      { action: 'PermissionDeleted', before: { key, description: 'Publish content' }, after: null, actor: { keyId: adminKeyId(), userId: org.owner.userId }, projectId: null },
    ]);
  });

  it(`400s: malformed key, reserved resource, unknown field, description over ${CATALOG_LIMITS.descriptionLength}, bad key in the path`, async () => {
    for (const key of ['Content:publish', 'content', 'content:', ':publish', 'a:b:c', '1content:read', 'content:pub lish', `${'a'.repeat(33)}:read`]) {
      const res = await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key } });
      expectProblem(res, 400, 'validation_failed');
    }
    for (const resource of ['project', 'members', 'roles', 'keys', 'org']) {
      const res = await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: `${resource}:archive` } });
      expectProblem(res, 400, 'validation_failed');
      expect(res.body.detail).toContain('reserved');
    }
    expectProblem(await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: fresh(), builtIn: true } }), 400);
    expectProblem(await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: fresh(), description: 'x'.repeat(CATALOG_LIMITS.descriptionLength + 1) } }), 400);
    expectProblem(await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: {} }), 400);
    expectProblem(await call(t, 'DELETE', '/api/permissions/Not-A-Key', { key: org.adminKey }), 400);
    expectProblem(await call(t, 'GET', '/api/permissions/nope', { key: org.adminKey }), 400);
  });

  it('a system permission cannot be deleted (409 conflict); an unknown one is 404', async () => {
    for (const key of SYSTEM) {
      const res = await call(t, 'DELETE', `/api/permissions/${key}`, { key: org.adminKey });
      expectProblem(res, 409, 'conflict');
      expect(res.body.detail).toContain('system permission');
    }
    expectProblem(await call(t, 'DELETE', '/api/permissions/unknown:thing', { key: org.adminKey }), 404, 'not_found');
    // Reserved but not a system permission: no org can have it.
    expectProblem(await call(t, 'DELETE', '/api/permissions/members:invite', { key: org.adminKey }), 404, 'not_found');
  });

  it('a permission a role includes is 409 permission_in_use with the role IDs, until no role does', async () => {
    const key = fresh('publish');
    await createPermission(key);
    const role = await createRole({ name: 'Uses it', permissions: [key] });
    const editor = await call(t, 'GET', '/api/roles/editor', { key: org.adminKey });
    const patched = await call(t, 'PATCH', '/api/roles/editor', {
      key: org.adminKey,
      body: { permissions: [...editor.body.permissions, key] },
    });
    expect(patched.status, patched.text).toBe(200);

    const inUse = await call(t, 'DELETE', `/api/permissions/${key}`, { key: org.adminKey });
    expectProblem(inUse, 409, 'permission_in_use');
    expect(inUse.body.roleIds).toEqual(['editor', role.body._id]);

    expect((await call(t, 'PATCH', `/api/roles/${role.body._id}`, { key: org.adminKey, body: { permissions: [] } })).status).toBe(200);
    const stillInUse = await call(t, 'DELETE', `/api/permissions/${key}`, { key: org.adminKey });
    expect(stillInUse.body.roleIds).toEqual(['editor']);
    expect((await call(t, 'PATCH', '/api/roles/editor', { key: org.adminKey, body: { permissions: editor.body.permissions } })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/permissions/${key}`, { key: org.adminKey })).status).toBe(204);
  });

  it(`an org has at most ${customPermissionsPerOrg} custom permissions (400 past them); the catalog stays one page`, async () => {
    const small = await newOrg(t, 'Permission limit');
    for (let i = 0; i < customPermissionsPerOrg; i++) await createPermission(`perm${i}:use`, small.adminKey);
    const over = await call(t, 'POST', '/api/permissions', { key: small.adminKey, body: { key: `perm${customPermissionsPerOrg}:use` } });
    expectProblem(over, 400, 'validation_failed');
    expect(over.body.detail).toContain(String(customPermissionsPerOrg));
    const listed = await call(t, 'GET', '/api/permissions', { key: small.adminKey });
    expect(listed.body.data).toHaveLength(MAX_CATALOG_SIZE.permissions);
    expect(listed.body.nextCursor).toBeNull();
    // After a deletion there is room again.
    expect((await call(t, 'DELETE', '/api/permissions/perm0:use', { key: small.adminKey })).status).toBe(204);
    expect((await call(t, 'POST', '/api/permissions', { key: small.adminKey, body: { key: 'perm100:use' } })).status).toBe(201);
  }, 60_000);
});

describe('roles', () => {
  it('lists the four built-in roles with their permissions', async () => {
    const other = await newOrg(t, 'Built-ins');
    const listed = await call(t, 'GET', '/api/roles', { key: other.adminKey });
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    expect(listed.body.data.map((r: { _id: string }) => r._id)).toEqual(['viewer', 'editor', 'manager', 'admin']);
    expect(Object.keys(listed.body.data[0]).sort()).toEqual(ROLE_FIELDS);
    expect(listed.body.data[0]).toMatchObject({ _id: 'viewer', name: 'viewer', permissions: ['project:read'], builtIn: true, createdAt: null, updatedAt: null, version: 1 });
    expect(listed.body.data[1].permissions).toEqual(['project:read', 'project:write']);
    expect(listed.body.data[2].permissions).toEqual(['project:read', 'project:write', 'members:manage']);
    expect(listed.body.data[3].permissions).toEqual(['project:read', 'project:write', 'members:manage', 'members:grant-admin']);
    const viewer = await call(t, 'GET', '/api/roles/viewer', { key: other.adminKey });
    expect(viewer.body).toEqual(listed.body.data[0]);
    expect(viewer.headers.get('ETag')).toBe('"1"');
  });

  it('the catalog lists are whole: a limit, a cursor or any other query parameter is a 400, not ignored', async () => {
    for (const path of ['/api/roles', '/api/permissions']) {
      for (const query of ['?limit=1', '?limit=0&cursor=garbage', '?cursor=x', '?page=2']) {
        const res = await call(t, 'GET', `${path}${query}`, { key: org.adminKey });
        expect([path, query, res.status, res.body.code]).toEqual([path, query, 400, 'validation_failed']);
      }
    }
  });

  it('creates, gets, lists, patches (If-Match) and deletes a custom role (audited)', async () => {
    const read = fresh('read');
    const publish = fresh('publish');
    await createPermission(read);
    await createPermission(publish);

    const created = await call(t, 'POST', '/api/roles', {
      key: org.adminKey,
      body: { name: '  Publisher ', description: 'Publishes content', permissions: [publish, read, 'project:read', publish] },
    });
    expect(created.status, created.text).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(ROLE_FIELDS);
    const roleId = created.body._id as string;
    expect(roleId).toMatch(/^rol_[0-9a-z]{26}$/);
    expect(created.body).toMatchObject({
      name: 'Publisher',
      description: 'Publishes content',
      permissions: ['project:read', ...[publish, read].sort()],
      builtIn: false,
      createdAt: expect.any(String),
      updatedAt: created.body.createdAt,
      version: 1,
    });
    expect(created.headers.get('Location')).toBe(`/api/roles/${roleId}`);
    expect(created.headers.get('ETag')).toBe('"1"');

    const got = await call(t, 'GET', `/api/roles/${roleId}`, { key: org.adminKey });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    expect(got.headers.get('ETag')).toBe('"1"');
    const listed = await call(t, 'GET', '/api/roles', { key: org.adminKey });
    expect(listed.body.data.slice(0, 4).map((r: { _id: string }) => r._id)).toEqual(['viewer', 'editor', 'manager', 'admin']);
    expect(listed.body.data.find((r: { _id: string }) => r._id === roleId)).toEqual(created.body);
    // admin holds every permission of the catalog, custom ones included (not the owner's transfer).
    const admin = listed.body.data[3];
    expect(admin.permissions).toEqual(expect.arrayContaining([read, publish]));
    expect(admin.permissions).not.toContain('project:transfer-ownership');

    const path = `/api/roles/${roleId}`;
    const renamed = await call(t, 'PATCH', path, { key: org.adminKey, headers: { 'If-Match': '"1"' }, body: { name: 'Publishers', description: null } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ _id: roleId, name: 'Publishers', description: null, version: 2, createdAt: created.body.createdAt });
    expect(renamed.headers.get('ETag')).toBe('"2"');
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, headers: { 'If-Match': '"1"' }, body: { name: 'Stale' } }), 412, 'precondition_failed');
    const narrowed = await call(t, 'PATCH', path, { key: org.adminKey, headers: { 'If-Match': 'W/"2"' }, body: { permissions: [read] } });
    expect(narrowed.body).toMatchObject({ permissions: [read], version: 3 });
    // A change that changes nothing writes nothing.
    const same = await call(t, 'PATCH', path, { key: org.adminKey, body: { name: 'Publishers', permissions: [read] } });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(3);
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: {} }), 400, 'validation_failed');

    expectProblem(await call(t, 'DELETE', path, { key: org.adminKey, headers: { 'If-Match': '"2"' } }), 412, 'precondition_failed');
    const removed = await call(t, 'DELETE', path, { key: org.adminKey, headers: { 'If-Match': '"3"' } });
    expect(removed.status, removed.text).toBe(204);
    expectProblem(await call(t, 'GET', path, { key: org.adminKey }), 404, 'not_found');
    expectProblem(await call(t, 'DELETE', path, { key: org.adminKey }), 404, 'not_found');
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: { name: 'Back' } }), 404, 'not_found');
    expect((await call(t, 'GET', '/api/roles', { key: org.adminKey })).text).not.toContain(roleId);

    const audit = (await catalogAudit(org.orgId)).filter((a) => a.after?.roleId === roleId || a.before?.roleId === roleId);
    expect(audit.map((a) => a.action)).toEqual(['RoleCreated', 'RoleUpdated', 'RoleUpdated', 'RoleDeleted']);
    expect(audit[0]!.after).toMatchObject({ roleId, name: 'Publisher', builtIn: false, version: 1 });
    expect(audit[1]).toMatchObject({ before: { name: 'Publisher', version: 1 }, after: { name: 'Publishers', version: 2 } });
    expect(audit[3]).toMatchObject({ before: { roleId, version: 3 }, after: null, actor: { keyId: adminKeyId() } });
  });

  it('POST honours Idempotency-Key: a retry replays the same role', async () => {
    const body = { name: 'Once', permissions: ['project:read'] };
    const headers = { 'Idempotency-Key': `role-${Date.now()}` };
    const first = await call(t, 'POST', '/api/roles', { key: org.adminKey, body, headers });
    const again = await call(t, 'POST', '/api/roles', { key: org.adminKey, body, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('Location')).toBe(first.headers.get('Location'));
    const listed = await call(t, 'GET', '/api/roles', { key: org.adminKey });
    expect(listed.body.data.filter((r: { name: string }) => r.name === 'Once')).toHaveLength(1);
    expect((await call(t, 'DELETE', `/api/roles/${first.body._id}`, { key: org.adminKey })).status).toBe(204);
  });

  it(`400s: unknown permission, over ${permissionsPerRole} permissions, bad name or description, unknown field, bad role ID; 404 unknown role`, async () => {
    const unknown = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'X', permissions: ['nosuch:thing'] } });
    expectProblem(unknown, 400, 'validation_failed');
    expect(unknown.body.detail).toContain('nosuch:thing');
    const many = Array.from({ length: permissionsPerRole + 1 }, (_, i) => `p${i}:x`);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'X', permissions: many } }), 400);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: '', permissions: [] } }), 400);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: '   ', permissions: [] } }), 400);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'x'.repeat(roleNameLength + 1), permissions: [] } }), 400);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'X', description: 'x'.repeat(CATALOG_LIMITS.descriptionLength + 1), permissions: [] } }), 400);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'X' } }), 400);
    expectProblem(await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'X', permissions: [], builtIn: true } }), 400);
    expectProblem(await call(t, 'GET', '/api/roles/superuser', { key: org.adminKey }), 400);
    expectProblem(await call(t, 'DELETE', '/api/roles/rol_bad', { key: org.adminKey }), 400);
    expectProblem(await call(t, 'GET', `/api/roles/${NO_SUCH_ROLE}`, { key: org.adminKey }), 404, 'not_found');
    expectProblem(await call(t, 'PATCH', `/api/roles/${NO_SUCH_ROLE}`, { key: org.adminKey, body: { name: 'Y' } }), 404, 'not_found');
    expectProblem(await call(t, 'DELETE', `/api/roles/${NO_SUCH_ROLE}`, { key: org.adminKey }), 404, 'not_found');

    const role = await createRole({ name: 'Patchable', permissions: [] });
    const path = `/api/roles/${role.body._id}`;
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: { permissions: ['nosuch:thing'] } }), 400);
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: { permissions: many } }), 400);
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: { version: 9 } }), 400);
    expect((await call(t, 'DELETE', path, { key: org.adminKey })).status).toBe(204);
  });

  it(`an org has at most ${customRolesPerOrg} custom roles (400 past them)`, async () => {
    const small = await newOrg(t, 'Role limit');
    for (let i = 0; i < customRolesPerOrg; i++) await createRole({ name: `Role ${i}`, permissions: ['project:read'] }, small.adminKey);
    const over = await call(t, 'POST', '/api/roles', { key: small.adminKey, body: { name: 'One too many', permissions: [] } });
    expectProblem(over, 400, 'validation_failed');
    expect(over.body.detail).toContain(String(customRolesPerOrg));
    const listed = await call(t, 'GET', '/api/roles', { key: small.adminKey });
    expect(listed.body.data).toHaveLength(MAX_CATALOG_SIZE.roles);
    expect(listed.body.nextCursor).toBeNull();
  }, 60_000);

  it('a built-in role gains and loses a custom permission, keeps its system ones, name and description; cannot be deleted', async () => {
    const other = await newOrg(t, 'Built-in changes');
    const key = 'content:publish';
    await createPermission(key, other.adminKey);
    const path = '/api/roles/editor';
    const before = await call(t, 'GET', path, { key: other.adminKey });
    expect(before.body).toMatchObject({ permissions: ['project:read', 'project:write'], version: 1, updatedAt: null });

    const gained = await call(t, 'PATCH', path, {
      key: other.adminKey,
      headers: { 'If-Match': '"1"' },
      body: { permissions: ['project:read', 'project:write', key] },
    });
    expect(gained.status, gained.text).toBe(200);
    expect(gained.body).toMatchObject({ _id: 'editor', name: 'editor', builtIn: true, permissions: ['project:read', 'project:write', key], version: 2, createdAt: null });
    expect(gained.body.updatedAt).toEqual(expect.any(String));
    expect(gained.headers.get('ETag')).toBe('"2"');
    const shown = await call(t, 'GET', path, { key: other.adminKey });
    expect(shown.body).toEqual(gained.body);
    expect(shown.headers.get('ETag')).toBe('"2"');
    // Other built-in roles are untouched.
    expect((await call(t, 'GET', '/api/roles/manager', { key: other.adminKey })).body.permissions).not.toContain(key);

    // System permissions are fixed: dropping or adding one is a 400.
    for (const permissions of [['project:read', key], ['project:read', 'project:write', 'members:manage']]) {
      expectProblem(await call(t, 'PATCH', path, { key: other.adminKey, body: { permissions } }), 400, 'validation_failed');
    }
    expectProblem(await call(t, 'PATCH', path, { key: other.adminKey, body: { name: 'Writer' } }), 400, 'validation_failed');
    expectProblem(await call(t, 'PATCH', path, { key: other.adminKey, body: { description: 'Mine now' } }), 400, 'validation_failed');
    // Sending back what GET showed is fine (and changes nothing).
    const echoed = await call(t, 'PATCH', path, {
      key: other.adminKey,
      body: { name: shown.body.name, description: shown.body.description, permissions: shown.body.permissions },
    });
    expect(echoed.status).toBe(200);
    expect(echoed.body.version).toBe(2);
    // admin holds every permission: its permissions cannot change.
    const admin = await call(t, 'GET', '/api/roles/admin', { key: other.adminKey });
    expect(admin.body.permissions).toContain(key);
    expectProblem(await call(t, 'PATCH', '/api/roles/admin', { key: other.adminKey, body: { permissions: ['project:read'] } }), 400);
    expect((await call(t, 'PATCH', '/api/roles/admin', { key: other.adminKey, body: { permissions: admin.body.permissions } })).status).toBe(200);

    expectProblem(await call(t, 'PATCH', path, { key: other.adminKey, headers: { 'If-Match': '"1"' }, body: { permissions: ['project:read', 'project:write'] } }), 412);
    const lost = await call(t, 'PATCH', path, { key: other.adminKey, headers: { 'If-Match': '"2"' }, body: { permissions: ['project:read', 'project:write'] } });
    expect(lost.status).toBe(200);
    expect(lost.body).toMatchObject({ permissions: ['project:read', 'project:write'], version: 3 });
    expect((await call(t, 'GET', path, { key: other.adminKey })).body.permissions).toEqual(['project:read', 'project:write']);

    for (const roleId of ['viewer', 'editor', 'manager', 'admin']) {
      const res = await call(t, 'DELETE', `/api/roles/${roleId}`, { key: other.adminKey });
      expectProblem(res, 409, 'conflict');
      expect(res.body.detail).toContain('built-in');
    }
    const audit = await catalogAudit(other.orgId);
    expect(audit.map((a) => a.action)).toEqual(['PermissionCreated', 'RoleUpdated', 'RoleUpdated']);
    expect(audit[1]).toMatchObject({ before: { roleId: 'editor', permissions: ['project:read', 'project:write'] }, after: { permissions: ['project:read', 'project:write', key] } });
  });
});

describe('who may read and change roles and permissions', () => {
  it('changes need a global key or an org owner/admin read-write key (403 otherwise); reads are open to every key of the org', async () => {
    const project = await org.project('Authz');
    const member = await org.memberWithKey(project._id, ['admin']);
    const memberRead = await org.key(member.userId, 'read');
    const orgAdmin = await org.user({ orgRole: 'admin' });
    const orgAdminKey = await org.key(orgAdmin, 'read-write');
    const orgAdminRead = await org.key(orgAdmin, 'read');
    const ownerRead = await org.key(org.owner.userId, 'read');
    const pinned = await org.key(orgAdmin, 'read-write', { projectId: project._id });
    const key = fresh();
    await createPermission(key);
    const role = await createRole({ name: 'Guarded', permissions: [key] });
    const rolePath = `/api/roles/${role.body._id}`;

    const writes = (k: string) => [
      call(t, 'POST', '/api/permissions', { key: k, body: { key: fresh() } }),
      call(t, 'DELETE', `/api/permissions/${key}`, { key: k }),
      call(t, 'POST', '/api/roles', { key: k, body: { name: 'Nope', permissions: [] } }),
      call(t, 'PATCH', rolePath, { key: k, body: { name: 'Nope' } }),
      call(t, 'PATCH', '/api/roles/editor', { key: k, body: { permissions: ['project:read', 'project:write', key] } }),
      call(t, 'DELETE', rolePath, { key: k }),
      call(t, 'DELETE', '/api/roles/viewer', { key: k }),
    ];
    for (const [who, k, detail] of [
      ["a project admin's read-write key (org member)", member.key, /owner or admin/],
      ["a member's read key", memberRead, /read-only/],
      ["an org admin's read key", orgAdminRead, /read-only/],
      ["the owner's read key", ownerRead, /read-only/],
      ['a pinned key of an org admin', pinned, /pinned/],
    ] as const) {
      for (const res of await Promise.all(writes(k))) {
        expect(res.status, `${who}: ${res.text}`).toBe(403);
        expect(res.body.detail).toMatch(detail);
      }
    }
    // Nothing changed.
    expect((await call(t, 'GET', rolePath, { key: org.adminKey })).body).toEqual(role.body);

    // Every key of the org reads.
    for (const k of [member.key, memberRead, orgAdminRead, pinned]) {
      expect((await call(t, 'GET', '/api/roles', { key: k })).status).toBe(200);
      expect((await call(t, 'GET', rolePath, { key: k })).status).toBe(200);
      expect((await call(t, 'GET', '/api/permissions', { key: k })).text).toContain(key);
    }
    expect((await call(t, 'GET', '/api/roles', {})).status).toBe(401);

    // An org admin's read-write key manages the catalog.
    const byOrgAdmin = await call(t, 'PATCH', rolePath, { key: orgAdminKey, body: { description: 'Managed by an org admin' } });
    expect(byOrgAdmin.status, byOrgAdmin.text).toBe(200);
    expect((await call(t, 'DELETE', rolePath, { key: orgAdminKey })).status).toBe(204);
    expect((await call(t, 'DELETE', `/api/permissions/${key}`, { key: orgAdminKey })).status).toBe(204);
    const audit = (await catalogAudit(org.orgId)).filter((a) => a.before?.roleId === role.body._id);
    expect(audit.at(-1)).toMatchObject({ action: 'RoleDeleted', actor: { userId: orgAdmin } });
  });

  it("another org's roles and permissions are invisible (404) and its names are free", async () => {
    const other = await newOrg(t, 'Other');
    const key = fresh();
    await createPermission(key);
    const role = await createRole({ name: 'Mine', permissions: [key] });
    expectProblem(await call(t, 'GET', `/api/roles/${role.body._id}`, { key: other.adminKey }), 404);
    expectProblem(await call(t, 'PATCH', `/api/roles/${role.body._id}`, { key: other.adminKey, body: { name: 'Theirs' } }), 404);
    expectProblem(await call(t, 'DELETE', `/api/roles/${role.body._id}`, { key: other.adminKey }), 404);
    expectProblem(await call(t, 'GET', `/api/permissions/${key}`, { key: other.adminKey }), 404);
    expectProblem(await call(t, 'DELETE', `/api/permissions/${key}`, { key: other.adminKey }), 404);
    expect((await call(t, 'GET', '/api/roles', { key: other.adminKey })).text).not.toContain(role.body._id);
    // A role of another org is unknown here.
    expectProblem(await call(t, 'POST', '/api/roles', { key: other.adminKey, body: { name: 'X', permissions: [key] } }), 400);
    await createPermission(key, other.adminKey);
    expect((await call(t, 'GET', `/api/roles/${role.body._id}`, { key: org.adminKey })).body).toEqual(role.body);
  });
});

describe('deleting a role in use', () => {
  it('is 409 role_in_use with the count of memberships holding it in every project, until none does', async () => {
    const key = fresh('read');
    await createPermission(key);
    const role = await createRole({ name: 'Held', permissions: ['project:read', key] });
    const roleId = role.body._id as string;
    const a = await org.project('Held A');
    const b = await org.project('Held B');
    const userId = await org.user();
    const inA = await call(t, 'POST', `/api/projects/${a._id}/users`, { key: org.adminKey, body: { _id: userId, roles: [roleId] } });
    expect(inA.status, `adding a member with a custom role: ${inA.text}`).toBe(201);
    const inB = await call(t, 'POST', `/api/projects/${b._id}/users`, { key: org.adminKey, body: { _id: userId, roles: ['viewer', roleId] } });
    expect(inB.status, inB.text).toBe(201);

    const held = await call(t, 'DELETE', `/api/roles/${roleId}`, { key: org.adminKey });
    expectProblem(held, 409, 'role_in_use');
    expect(held.body.holders).toBe(2);

    expect((await call(t, 'DELETE', `/api/projects/${a._id}/users/${inA.body._id}`, { key: org.adminKey })).status).toBe(204);
    const once = await call(t, 'DELETE', `/api/roles/${roleId}`, { key: org.adminKey });
    expect(once.body.holders).toBe(1);
    expect((await call(t, 'PATCH', `/api/projects/${b._id}/users/${inB.body._id}`, { key: org.adminKey, body: { roles: ['viewer'] } })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/roles/${roleId}`, { key: org.adminKey })).status).toBe(204);

    // A deleted role can no longer be given.
    const late = await call(t, 'POST', `/api/projects/${a._id}/users`, { key: org.adminKey, body: { _id: userId, roles: [roleId] } });
    expectProblem(late, 409, 'unknown_role');
  });
});
