import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseApiKey } from '../../../functions/domain/api-key.js';
import { keys } from '../../../functions/store/keys.js';
import { call, newOrg, testApp } from '../../support/app.js';
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
