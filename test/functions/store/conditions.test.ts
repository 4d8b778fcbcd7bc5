import { describe, expect, it } from 'vitest';
import { parseApiKey } from '../../../functions/domain/api-key.js';
import { call, newOrg, testApp } from '../../support/app.js';

const t = testApp();

describe('a write re-asserts the authority it was decided on', () => {
  // The caller's membership item is keyed by (project, user): removing the member and adding it
  // again recreates that item at version 1. A decision made on the old membership must not pass
  // the new one's version check.
  it('a manager removed and re-added as a viewer cannot commit a write decided while it was a manager', async () => {
    const org = await newOrg(t, 'ABA');
    const project = await org.project('ABA');
    const manager = await org.memberWithKey(project._id, ['manager']);
    const target = await org.member(project._id, await org.user(), ['viewer']);
    const users = `/api/projects/${project._id}/users`;

    // What the manager's PATCH read before deciding.
    const context = await t.store.projectContext(project._id, manager.userId, { projectUserId: target._id }, true);
    const decidedOn = context.callerMembership!;
    expect(decidedOn).toMatchObject({ roles: ['manager'], version: 1 });

    // Meanwhile the manager is removed and comes back as a viewer: same item, version 1 again.
    expect((await call(t, 'DELETE', `${users}/${manager.projectUserId}`, { key: org.adminKey })).status).toBe(204);
    const readded = await call(t, 'POST', users, { key: org.adminKey, body: { _id: manager.userId, roles: ['viewer'] } });
    expect(readded.status).toBe(201);
    expect(readded.body.version).toBe(decidedOn.version);

    const write = t.store.updateProjectUser({
      authority: {
        kind: 'membership',
        caller: { keyId: parseApiKey(manager.key)!.keyId, orgId: org.orgId, userId: manager.userId },
        projectId: project._id,
        userId: manager.userId,
        projectUserId: decidedOn.projectUserId,
        version: decidedOn.version,
      },
      actor: { keyId: parseApiKey(manager.key)!.keyId, userId: manager.userId },
      catalog: await t.store.getCatalog(org.orgId, { consistent: true }),
      project: context.project ?? (await t.store.getProject(project._id))!,
      before: context.projectUser!,
      change: { tags: ['decided-as-manager'] },
      ifMatch: false,
    });
    await expect(write).rejects.toThrow();
    const after = await call(t, 'GET', `${users}/${target._id}`, { key: org.adminKey });
    expect(after.body.tags).toEqual([]);
  });

  // The key's expiry is compared with the time the transaction is sent, not with the time the
  // write started deciding: a key that expires while the write waits (here on its caller's
  // confirmation; in life on reads and retries) never writes after its expiry.
  it('a key that expires while its write waits to be sent is refused (401), nothing written', async () => {
    const org = await newOrg(t, 'Expiring writer');
    const project = await org.project('Expiring writer');
    const target = await org.member(project._id, await org.user(), ['viewer']);
    const adminId = await org.user({ orgRole: 'admin' });
    const expiresAt = new Date(Date.now() + 1_000).toISOString();
    const key = await org.key(adminId, 'global', { expiresAt });
    const keyId = parseApiKey(key)!.keyId;
    const context = await t.store.projectContext(project._id, adminId, { projectUserId: target._id }, true);

    // Decided (and its clock read) before the expiry; sent only after it.
    const sendAfter = Date.parse(expiresAt) - Date.now() + 300;
    const write = t.store.updateProjectUser({
      authority: { kind: 'globalKey', caller: { keyId, orgId: org.orgId, userId: adminId, confirmed: new Promise((r) => setTimeout(() => r(null), sendAfter)) } },
      actor: { keyId, userId: adminId },
      catalog: await t.store.getCatalog(org.orgId, { consistent: true }),
      project: (await t.store.getProject(project._id))!,
      before: context.projectUser!,
      change: { tags: ['after-expiry'] },
      ifMatch: false,
    });
    await expect(write).rejects.toMatchObject({ status: 401 });
    const after = await call(t, 'GET', `/api/projects/${project._id}/users/${target._id}`, { key: org.adminKey });
    expect(after.body.tags).toEqual([]);
  });
});

