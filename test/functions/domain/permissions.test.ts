import { describe, expect, it } from 'vitest';
import { statusOf } from '../../support/status.js';
import { ID_PATTERN, newId } from '../../../functions/domain/ids.js';
import {
  assertKnownRoles,
  authorizeAdd,
  assertMayHoldKey,
  authorizeKeyCreate,
  keyExpiry,
  authorizeOrgWrite,
  authorizeRemove,
  authorizeTransfer,
  authorizeUpdate,
  effectivePermissions,
  type ProjectCaller,
  type Role,
} from '../../../functions/domain/permissions.js';

const member = (roles: Role[], isOwner = false, scope: ProjectCaller['scope'] = 'read-write'): ProjectCaller => ({
  userId: 'usr_caller',
  scope,
  membership: { projectUserId: 'pu_caller', roles, isOwner },
});
const target = (roles: Role[], isOwner = false) => ({ projectUserId: 'pu_target', userId: 'usr_target', roles, isOwner });


describe('effective permissions', () => {
  it('are the union of the roles, capped by the key scope', () => {
    expect(effectivePermissions(member(['viewer', 'editor']))).toEqual(['project:read', 'project:write']);
    expect(effectivePermissions(member(['admin'], false, 'read'))).toEqual(['project:read']);
    expect(effectivePermissions(member([], true))).toContain('project:transfer-ownership');
    expect(effectivePermissions({ userId: 'u', scope: 'global', membership: null })).toHaveLength(5);
    expect(effectivePermissions({ userId: 'u', scope: 'read-write', membership: null })).toEqual([]);
  });
});

describe('grants', () => {
  it('a manager grants at most manager; an admin and the owner grant admin', () => {
    expect(statusOf(() => authorizeAdd(member(['manager']), 'usr_x', ['manager']))).toBe(200);
    expect(statusOf(() => authorizeAdd(member(['manager']), 'usr_x', ['admin']))).toBe(403);
    expect(statusOf(() => authorizeAdd(member(['admin']), 'usr_x', ['admin']))).toBe(200);
    expect(statusOf(() => authorizeAdd(member([], true), 'usr_x', ['admin']))).toBe(200);
    expect(statusOf(() => authorizeAdd(member(['editor']), 'usr_x', ['viewer']))).toBe(403);
  });

  it('revoking admin needs admin; demoting or removing the owner is 409', () => {
    expect(statusOf(() => authorizeUpdate(member(['manager']), target(['admin']), { roles: ['viewer'] }))).toBe(403);
    expect(statusOf(() => authorizeUpdate(member(['admin']), target(['admin']), { roles: ['viewer'] }))).toBe(200);
    expect(statusOf(() => authorizeUpdate(member(['admin']), target(['admin'], true), { roles: ['viewer'] }))).toBe(409);
    expect(statusOf(() => authorizeRemove(member(['admin']), target(['admin'], true)))).toBe(409);
    expect(statusOf(() => authorizeRemove(member(['manager']), target(['editor'])))).toBe(200);
  });

  it('nobody changes its own roles', () => {
    const self = { ...target(['admin']), userId: 'usr_caller' };
    expect(statusOf(() => authorizeUpdate(member(['admin']), self, { roles: ['admin', 'editor'] }))).toBe(403);
    expect(statusOf(() => authorizeUpdate(member(['admin']), self, {}))).toBe(200);
  });

  it('self-join: a read-write non-member may add itself as viewer only', () => {
    const outsider: ProjectCaller = { userId: 'usr_caller', scope: 'read-write', membership: null };
    expect(authorizeAdd(outsider, 'usr_caller', ['viewer'])).toBe('self-join');
    expect(statusOf(() => authorizeAdd(outsider, 'usr_caller', ['editor']))).toBe(403);
    expect(statusOf(() => authorizeAdd(outsider, 'usr_other', ['viewer']))).toBe(404);
    expect(statusOf(() => authorizeAdd({ ...outsider, scope: 'read' }, 'usr_caller', ['viewer']))).toBe(404);
  });

  it('only the owner (or a global key) transfers ownership', () => {
    expect(statusOf(() => authorizeTransfer(member(['admin'])))).toBe(403);
    expect(statusOf(() => authorizeTransfer(member([], true)))).toBe(200);
    expect(statusOf(() => authorizeTransfer(member([], true, 'read')))).toBe(403);
    expect(statusOf(() => authorizeTransfer({ userId: 'u', scope: 'global', membership: null }))).toBe(200);
  });

  it('unknown roles are 409; known ones come back de-duplicated in rank order', () => {
    expect(statusOf(() => assertKnownRoles(['viewer', 'root']))).toBe(409);
    expect(assertKnownRoles(['admin', 'viewer', 'admin'])).toEqual(['viewer', 'admin']);
  });
});

describe('org level', () => {
  it('org writes need a global key or a read-write key of an org owner/admin', () => {
    expect(statusOf(() => authorizeOrgWrite({ userId: 'u', scope: 'global', orgRole: 'member' }))).toBe(200);
    expect(statusOf(() => authorizeOrgWrite({ userId: 'u', scope: 'read-write', orgRole: 'admin' }))).toBe(200);
    expect(statusOf(() => authorizeOrgWrite({ userId: 'u', scope: 'read-write', orgRole: 'member' }))).toBe(403);
    expect(statusOf(() => authorizeOrgWrite({ userId: 'u', scope: 'read', orgRole: 'owner' }))).toBe(403);
  });

  it('key creation: self for read-write; global only for org owners/admins; pins cannot be escaped', () => {
    const rw = { userId: 'u', scope: 'read-write' as const, orgRole: 'member' as const, pinnedProjectId: null };
    expect(authorizeKeyCreate(rw, { userId: 'u', scope: 'read', projectId: null })).toBe('self');
    expect(statusOf(() => authorizeKeyCreate(rw, { userId: 'v', scope: 'read', projectId: null }))).toBe(403);
    expect(statusOf(() => authorizeKeyCreate(rw, { userId: 'u', scope: 'global', projectId: null }))).toBe(403);
    const pinned = { ...rw, pinnedProjectId: 'prj_a' };
    expect(statusOf(() => authorizeKeyCreate(pinned, { userId: 'u', scope: 'read', projectId: null }))).toBe(403);
    expect(authorizeKeyCreate(pinned, { userId: 'u', scope: 'read', projectId: 'prj_a' })).toBe('self');
    expect(statusOf(() => assertMayHoldKey({ orgRole: 'member' }, 'global'))).toBe(403);
    expect(statusOf(() => assertMayHoldKey({ orgRole: 'admin' }, 'global'))).toBe(200);
  });

  it('a key never outlives its creator: no expiry inherits it, a later one is a 400', () => {
    const creator = '2030-01-01T00:00:00.000Z';
    expect(keyExpiry(null, creator)).toBe(creator);
    expect(keyExpiry('2029-06-01T00:00:00.000Z', creator)).toBe('2029-06-01T00:00:00.000Z');
    expect(statusOf(() => keyExpiry('2030-01-01T00:00:00.001Z', creator))).toBe(400);
    expect(keyExpiry(null, null)).toBeNull();
  });
});

describe('IDs', () => {
  it('are prefixed, URL-safe, time-ordered and never contain key delimiters', () => {
    const a = newId('projectUser', 1_700_000_000_000);
    const b = newId('projectUser', 1_700_000_000_001);
    expect(a).toMatch(ID_PATTERN.projectUser);
    expect(a < b).toBe(true);
    expect(a.slice(3)).not.toMatch(/[_#/]/);
    expect(ID_PATTERN.project.test('prj_0000000000aaaaaaaaaaaa#x')).toBe(false);
  });
});
