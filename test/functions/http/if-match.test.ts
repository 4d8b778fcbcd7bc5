import { beforeAll, describe, expect, it } from 'vitest';
import { parseApiKey } from '../../../functions/domain/api-key.js';
import { call, newOrg, testApp } from '../../support/app.js';

/**
 * SPEC §2: "`PATCH` and `DELETE` honour `If-Match: <version>` (412 on a stale version); every
 * single resource carries an `ETag`." Project users and roles are covered where they are tested;
 * these are the org-level resources: org users, keys and custom permissions.
 */
const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;

beforeAll(async () => {
  org = await newOrg(t, 'If-Match');
});

describe('If-Match on the org-level DELETEs', () => {
  it('DELETE /api/users/:id: a stale tag is 412 and the user stays; its own ETag deletes it', async () => {
    const userId = await org.user();
    const got = await call(t, 'GET', `/api/users/${userId}`, { key: org.adminKey });
    const etag = got.headers.get('ETag')!;
    expect(etag).toMatch(/^"\d+"$/);
    const stale = await call(t, 'DELETE', `/api/users/${userId}`, { key: org.adminKey, headers: { 'If-Match': '"42"' } });
    expect([stale.status, stale.body.code]).toEqual([412, 'precondition_failed']);
    expect((await call(t, 'GET', `/api/users/${userId}`, { key: org.adminKey })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/users/${userId}`, { key: org.adminKey, headers: { 'If-Match': etag } })).status).toBe(204);
  });

  it('DELETE /api/keys/:id: the ETag of its creation revokes it once; after that the tag is stale (412)', async () => {
    const created = await call(t, 'POST', '/api/keys', { key: org.adminKey, body: { userId: await org.user(), scope: 'read' } });
    const etag = created.headers.get('ETag')!;
    const keyId = parseApiKey(created.body.secret)!.keyId;
    const stale = await call(t, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey, headers: { 'If-Match': '"not-this-one"' } });
    expect([stale.status, stale.body.code]).toEqual([412, 'precondition_failed']);
    expect((await call(t, 'GET', '/api/projects', { key: created.body.secret })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey, headers: { 'If-Match': etag } })).status).toBe(204);
    // Revoked since: the representation the tag named is gone.
    expect((await call(t, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey, headers: { 'If-Match': etag } })).status).toBe(412);
    expect((await call(t, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey })).status).toBe(204);
  });

  it('GET /api/permissions/:key carries an ETag; DELETE with a stale one is 412 and keeps the permission', async () => {
    expect((await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: 'ifmatch:use' } })).status).toBe(201);
    const got = await call(t, 'GET', '/api/permissions/ifmatch:use', { key: org.adminKey });
    const etag = got.headers.get('ETag');
    expect(etag).toMatch(/^".+"$/);
    expect((await call(t, 'GET', '/api/permissions/project:read', { key: org.adminKey })).headers.get('ETag')).toMatch(/^".+"$/);
    const stale = await call(t, 'DELETE', '/api/permissions/ifmatch:use', { key: org.adminKey, headers: { 'If-Match': '"stale"' } });
    expect([stale.status, stale.body.code]).toEqual([412, 'precondition_failed']);
    expect((await call(t, 'GET', '/api/permissions/ifmatch:use', { key: org.adminKey })).status).toBe(200);
    expect((await call(t, 'DELETE', '/api/permissions/ifmatch:use', { key: org.adminKey, headers: { 'If-Match': etag! } })).status).toBe(204);
  });
});
