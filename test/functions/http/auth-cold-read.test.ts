import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseApiKey } from '../../../functions/domain/api-key.js';
import { keys } from '../../../functions/store/keys.js';
import { sequentialDepth } from '../../../bench/lib/delay-proxy.js';
import { call, newOrg, testApp } from '../../support/app.js';
import { recordingClient } from '../../support/recording-client.js';
import { tableClient, tableTarget } from '../../support/table.js';

/**
 * A read on a cold instance starts from the key item, which carries its holder's identity, and
 * reads the org user's own item beside the route's reads (functions/http/auth.ts). Nothing may be
 * answered on that copy alone: a user being deleted, gone, or changed since the key was minted.
 */
const seed = testApp();

async function memberReader(name: string) {
  const org = await newOrg(seed, name);
  const project = await org.project();
  const member = await org.memberWithKey(project._id, ['editor']);
  return { org, projectId: project._id, ...member };
}

/** A new app: its own, empty key cache, as a Lambda instance at cold start. */
const coldApp = () => testApp();

async function setOnKeyItem(secret: string, update: string, values?: Record<string, unknown>, names?: Record<string, string>) {
  const { keyId } = parseApiKey(secret)!;
  await tableClient().doc.send(
    new UpdateCommand({
      TableName: tableTarget().tableName,
      Key: keys.apiKey(keyId),
      UpdateExpression: update,
      ExpressionAttributeValues: values,
      ExpressionAttributeNames: names,
    }),
  );
}

describe('a read on a cold instance', () => {
  it('answers from the key item and its holder copy, with the same body as a warm instance', async () => {
    const m = await memberReader('Cold read');
    const cold = await call(coldApp(), 'GET', `/api/projects/${m.projectId}/users/me`, { key: m.key });
    const warm = await call(seed, 'GET', `/api/projects/${m.projectId}/users/me`, { key: m.key });
    expect(cold.status).toBe(200);
    expect(cold.body.user).toEqual(warm.body.user);
    expect(cold.body.user._id).toBe(m.userId);
    expect(cold.body.key).not.toHaveProperty('holder');
  });

  it('is a 401, not the route answer, when the org user is being deleted (its keys not revoked yet)', async () => {
    const m = await memberReader('Cold deleting');
    const user = (await seed.store.getOrgUser(m.org.orgId, m.userId, true))!;
    await seed.store.markOrgUserDeleting({ user, authority: { kind: 'operator' }, actor: { keyId: null, userId: 'operator' } });
    for (const path of [`/api/projects/${m.projectId}/users/me`, `/api/projects/${m.projectId}/users`, `/api/projects/${m.projectId}/users/pu_00000000000000000000000000`]) {
      const res = await call(coldApp(), 'GET', path, { key: m.key });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    }
  });

  it('is a 401 when the org user item is gone', async () => {
    const m = await memberReader('Cold gone');
    await tableClient().doc.send(new DeleteCommand({ TableName: tableTarget().tableName, Key: keys.orgUser(m.org.orgId, m.userId) }));
    expect((await call(coldApp(), 'GET', `/api/projects/${m.projectId}`, { key: m.key })).status).toBe(401);
  });

  it('never answers on a holder copy older than the org user item: 503, and the retry answers from the item', async () => {
    const m = await memberReader('Cold stale');
    // `name` is a reserved word in expressions.
    await setOnKeyItem(m.key, 'SET holder.version = :v, holder.#n = :n', { ':v': 0, ':n': 'Stale name' }, { '#n': 'name' });
    const app = coldApp();
    const first = await call(app, 'GET', `/api/projects/${m.projectId}/users/me`, { key: m.key });
    expect(first.status).toBe(503);
    expect(first.body.user).toBeUndefined();
    const retry = await call(app, 'GET', `/api/projects/${m.projectId}/users/me`, { key: m.key });
    expect(retry.status).toBe(200);
    expect(retry.body.user.name).not.toBe('Stale name');
  });

  it('reads the org user first for a key minted before keys carried their holder', async () => {
    const m = await memberReader('Cold legacy');
    await setOnKeyItem(m.key, 'REMOVE holder');
    expect((await call(coldApp(), 'GET', `/api/projects/${m.projectId}/users/me`, { key: m.key })).status).toBe(200);
    const user = (await seed.store.getOrgUser(m.org.orgId, m.userId, true))!;
    await seed.store.markOrgUserDeleting({ user, authority: { kind: 'operator' }, actor: { keyId: null, userId: 'operator' } });
    expect((await call(coldApp(), 'GET', `/api/projects/${m.projectId}/users/me`, { key: m.key })).status).toBe(401);
  });

  it('a wrong secret for a real key ID is the same 401 as an unknown key ID, cold or warm', async () => {
    const m = await memberReader('Cold wrong secret');
    const { keyId } = parseApiKey(m.key)!;
    const other = await m.org.key(m.userId, 'read');
    const { secret } = parseApiKey(other)!;
    const forged = `puk_${keyId}_${secret}`; // a valid-looking key whose checksum fails
    for (const app of [coldApp(), seed]) {
      const res = await call(app, 'GET', `/api/projects/${m.projectId}/users/me`, { key: forged });
      expect(res.status).toBe(401);
    }
  });
});

describe('a write on a cold instance', () => {
  /** An org with a project, a member whose tags the test changes, and an admin member's key. */
  async function adminWriter(name: string) {
    const org = await newOrg(seed, name);
    const project = await org.project();
    const admin = await org.memberWithKey(project._id, ['admin']);
    const target = await org.member(project._id, await org.user(), ['viewer']);
    const path = `/api/projects/${project._id}/users/${target._id}`;
    const tagsNow = async () => (await call(seed, 'GET', path, { key: org.adminKey })).body.tags;
    return { org, admin, path, tagsNow };
  }

  it('is not sent before the org user item confirms the key: 401 and nothing written for a user being deleted', async () => {
    const w = await adminWriter('Cold write deleting');
    const user = (await seed.store.getOrgUser(w.org.orgId, w.admin.userId, true))!;
    await seed.store.markOrgUserDeleting({ user, authority: { kind: 'operator' }, actor: { keyId: null, userId: 'operator' } });
    const res = await call(coldApp(), 'PATCH', w.path, { key: w.admin.key, body: { tags: ['after-deletion'] } });
    expect(res.status).toBe(401);
    expect(await w.tagsNow()).toEqual([]);
  });

  it('resuming the deletion of another user waits too: a caller being deleted gets a 401 and the other user stays', async () => {
    const org = await newOrg(seed, 'Cold resumed deletion');
    const adminId = await org.user({ orgRole: 'admin' });
    const adminKey = await org.key(adminId, 'read-write');
    const targetId = await org.user();
    const operator = { authority: { kind: 'operator' as const }, actor: { keyId: null, userId: 'operator' } };
    // A deletion started earlier (say, blocked by a project the target owned) and not finished.
    await seed.store.markOrgUserDeleting({ user: (await seed.store.getOrgUser(org.orgId, targetId, true))!, ...operator });
    await seed.store.markOrgUserDeleting({ user: (await seed.store.getOrgUser(org.orgId, adminId, true))!, ...operator });
    const res = await call(coldApp(), 'DELETE', `/api/users/${targetId}`, { key: adminKey });
    expect(res.status).toBe(401);
    expect(await seed.store.getOrgUser(org.orgId, targetId, true)).not.toBeNull();
  });

  it('on a holder copy older than the org user item: 503 and nothing written; the retry commits', async () => {
    const w = await adminWriter('Cold write stale');
    await setOnKeyItem(w.admin.key, 'SET holder.version = :v', { ':v': 0 });
    const app = coldApp();
    const first = await call(app, 'PATCH', w.path, { key: w.admin.key, body: { tags: ['first'] } });
    expect(first.status).toBe(503);
    expect(await w.tagsNow()).toEqual([]);
    const retry = await call(app, 'PATCH', w.path, { key: w.admin.key, body: { tags: ['retried'] } });
    expect(retry.status).toBe(200);
    expect(await w.tagsNow()).toEqual(['retried']);
  });

  it('reads the key, then its context beside the org user, then commits: 3 sequential DynamoDB round trips (4 when the user came first)', async () => {
    const w = await adminWriter('Cold write round trips');
    const { client, calls } = recordingClient(seed.config);
    const cold = testApp({}, client);
    const res = await call(cold, 'PATCH', w.path, { key: w.admin.key, body: { tags: ['cold'] } });
    expect(res.status).toBe(200);
    expect(calls.map((c) => c.op).sort()).toEqual(['BatchGetItemCommand', 'GetItemCommand', 'GetItemCommand', 'TransactWriteItemsCommand']);
    expect(sequentialDepth(calls)).toBe(3);
    client.destroy();
  });
});
