import { describe, expect, it } from 'vitest';
import { statusOf } from '../../support/status.js';
import {
  assertCanAddPermission,
  assertKnownRoles,
  assertPermissionKey,
  assertRolePermissions,
  EMPTY_CATALOG,
  membershipGrants,
  normalizeRoles,
  roleExists,
  rolePermissions,
  rolesUsingPermission,
  type Catalog,
} from '../../../functions/domain/catalog.js';
import { decideCheck } from '../../../functions/domain/check.js';
import { authorizeAdd, authorizeRemove, authorizeUpdate, effectivePermissions, type ProjectCaller } from '../../../functions/domain/permissions.js';

const at = '2026-01-01T00:00:00.000Z';
const CUSTOM = 'rol_0000000000aaaaaaaaaaaaaaaa';

/** editor gained content:publish; a custom "publisher" role holds content:read and content:publish. */
const catalog: Catalog = {
  version: 3,
  permissions: {
    'content:publish': { key: 'content:publish', description: null, createdAt: at },
    'content:read': { key: 'content:read', description: null, createdAt: at },
  },
  roles: {
    editor: { roleId: 'editor', name: 'editor', description: null, permissions: ['content:publish'], createdAt: at, updatedAt: at, version: 2 },
    [CUSTOM]: { roleId: CUSTOM, name: 'Publisher', description: null, permissions: ['content:publish', 'content:read'], createdAt: at, updatedAt: at, version: 1 },
  },
};


const member = (roles: string[], scope: ProjectCaller['scope'] = 'read-write', isOwner = false): ProjectCaller => ({
  userId: 'usr_me',
  scope,
  membership: { projectUserId: 'pu_me', roles, isOwner },
  catalog,
});
const target = (roles: string[]) => ({ projectUserId: 'pu_t', userId: 'usr_t', roles, isOwner: false });

describe('roles as data', () => {
  it('a role ID is looked up among the org\'s own roles only, never on Object.prototype', () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(roleExists(catalog, name)).toBe(false);
      expect(rolePermissions(catalog, name)).toEqual([]);
      expect(statusOf(() => assertKnownRoles(catalog, [name]))).toBe(409);
    }
  });

  it('project:transfer-ownership is the owner\'s alone: refused to any role (400), and granted by none stored with it', () => {
    expect(statusOf(() => assertRolePermissions(catalog, null, ['project:read', 'project:transfer-ownership']))).toBe(400);
    expect(statusOf(() => assertRolePermissions(catalog, CUSTOM, ['project:transfer-ownership']))).toBe(400);
    const legacy: Catalog = {
      ...catalog,
      roles: { ...catalog.roles, [CUSTOM]: { ...catalog.roles[CUSTOM]!, permissions: ['project:read', 'project:transfer-ownership'] } },
    };
    expect(rolePermissions(legacy, CUSTOM)).toEqual(['project:read']);
    expect(effectivePermissions({ ...member([CUSTOM]), catalog: legacy })).not.toContain('project:transfer-ownership');
  });

  it('built-in roles keep their system permissions; admin holds the whole catalog but transfer; the owner everything', () => {
    expect(rolePermissions(catalog, 'viewer')).toEqual(['project:read']);
    expect(rolePermissions(catalog, 'editor')).toEqual(['project:read', 'project:write', 'content:publish']);
    expect(rolePermissions(catalog, 'admin')).toEqual(['project:read', 'project:write', 'members:manage', 'members:grant-admin', 'content:publish', 'content:read']);
    expect([...membershipGrants(catalog, { roles: ['admin'], isOwner: true }).keys()]).toContain('project:transfer-ownership');
    expect(rolePermissions(EMPTY_CATALOG, 'manager')).toEqual(['project:read', 'project:write', 'members:manage']);
  });

  it('granting a role needs every permission of it: a manager may no longer grant an editor that gained content:publish', () => {
    expect(statusOf(() => authorizeAdd(member(['manager']), 'usr_t', ['viewer']))).toBe(200);
    expect(statusOf(() => authorizeAdd(member(['manager']), 'usr_t', ['editor']))).toBe(403);
    expect(statusOf(() => authorizeAdd(member(['manager', CUSTOM]), 'usr_t', ['editor']))).toBe(200);
    expect(statusOf(() => authorizeAdd(member(['admin']), 'usr_t', [CUSTOM]))).toBe(200);
    expect(statusOf(() => authorizeAdd({ ...member(['manager']), catalog: EMPTY_CATALOG }, 'usr_t', ['editor']))).toBe(200);
  });

  it('changing or removing a member needs every permission that member holds', () => {
    expect(statusOf(() => authorizeUpdate(member(['manager']), target(['viewer', CUSTOM]), { tags: ['x'] }))).toBe(403);
    expect(statusOf(() => authorizeRemove(member(['manager']), target([CUSTOM])))).toBe(403);
    expect(statusOf(() => authorizeRemove(member(['manager', CUSTOM]), target([CUSTOM])))).toBe(200);
  });

  it('a read key keeps only …:read permissions; a global key holds the whole catalog', () => {
    expect(effectivePermissions(member([CUSTOM, 'viewer'], 'read'))).toEqual(['project:read', 'content:read']);
    expect(effectivePermissions({ userId: 'u', scope: 'global', membership: null, catalog })).toHaveLength(7);
  });

  it('role IDs are normalized: built-in ladder first, then custom IDs, without duplicates', () => {
    expect(normalizeRoles([CUSTOM, 'admin', 'viewer', CUSTOM])).toEqual(['viewer', 'admin', CUSTOM]);
  });

  it('permission keys: resource:action, reserved resources refused, limits and in-use roles reported', () => {
    expect(statusOf(() => assertPermissionKey('content:publish'))).toBe(200);
    for (const bad of ['Content:publish', 'content', 'content:', ':publish', 'members:invite', 'org:x', 'a:b:c', `${'a'.repeat(33)}:x`]) {
      expect(statusOf(() => assertPermissionKey(bad))).toBe(400);
    }
    expect(statusOf(() => assertCanAddPermission(catalog, 'content:publish'))).toBe(409);
    expect(rolesUsingPermission(catalog, 'content:publish')).toEqual(['editor', CUSTOM].sort());
    expect(statusOf(() => assertRolePermissions(catalog, null, ['nope:x']))).toBe(400);
    expect(statusOf(() => assertRolePermissions(catalog, 'viewer', ['content:read']))).toBe(400);
    expect(assertRolePermissions(catalog, 'viewer', ['project:read', 'content:read'])).toEqual(['content:read']);
  });
});

describe('check decisions', () => {
  const subject = (caller: ProjectCaller, extra: Partial<{ active: boolean; pinnedElsewhere: boolean; membershipExpired: boolean }> = {}) => ({
    active: true,
    pinnedElsewhere: false,
    membershipExpired: false,
    caller,
    ...extra,
  });

  it('names the deciding fact for each permission on its own', () => {
    const results = decideCheck(subject(member(['editor'])), ['content:publish', 'members:manage', 'nope:x', 'project:read']);
    expect(results).toEqual([
      { permission: 'content:publish', allowed: true, reason: 'role:editor' },
      { permission: 'members:manage', allowed: false, reason: 'not_granted' },
      { permission: 'nope:x', allowed: false, reason: 'unknown_permission' },
      { permission: 'project:read', allowed: true, reason: 'role:editor' },
    ]);
    expect(decideCheck(subject(member(['editor'], 'read')), ['project:write'])[0]!.reason).toBe('key_scope_read');
    expect(decideCheck(subject(member(['admin'], 'read-write', true)), ['project:transfer-ownership'])[0]!.reason).toBe('owner');
    expect(decideCheck(subject({ ...member([]), membership: null }), ['project:read'])[0]!.reason).toBe('not_a_member');
    expect(decideCheck(subject({ ...member([]), membership: null }, { membershipExpired: true }), ['project:read'])[0]!.reason).toBe('membership_expired');
    expect(decideCheck(subject(member(['admin']), { active: false }), ['project:read', 'nope:x']).map((r) => r.reason)).toEqual(['key_inactive', 'key_inactive']);
    expect(decideCheck(subject(member(['admin']), { pinnedElsewhere: true }), ['project:read'])[0]!.reason).toBe('key_pinned_elsewhere');
    expect(decideCheck(subject({ userId: 'u', scope: 'global', membership: null, catalog }), ['content:read'])[0]).toEqual({
      permission: 'content:read',
      allowed: true,
      reason: 'global_key',
    });
  });
});
