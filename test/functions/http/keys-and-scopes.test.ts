import { beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, SECRET_BODY_LENGTH, formatApiKey, hashSecret, parseApiKey, secretWithChecksum } from '../../../functions/domain/api-key.js';
import { sequentialDepth, startDelayProxy } from '../../../bench/lib/delay-proxy.js';
import { call, newOrg, testApp } from '../../support/app.js';
import { recordingClient } from '../../support/recording-client.js';

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;
let other: Awaited<ReturnType<typeof newOrg>>;

beforeAll(async () => {
  org = await newOrg(t, 'Scopes');
  other = await newOrg(t, 'Other org');
});

const users = (projectId: string) => `/api/projects/${projectId}/users`;

describe('key scopes', () => {
  it('read: reads where its user is a member, whatever the role; never writes (403)', async () => {
    const project = await org.project('Read scope');
    const admin = await org.memberWithKey(project._id, ['admin'], 'read');
    const target = await org.member(project._id, await org.user(), ['viewer']);
    expect((await call(t, 'GET', users(project._id), { key: admin.key })).status).toBe(200);
    expect((await call(t, 'GET', `/api/projects/${project._id}`, { key: admin.key })).status).toBe(200);
    const add = await call(t, 'POST', users(project._id), { key: admin.key, body: { _id: await org.user() } });
    expect(add.status).toBe(403);
    expect(add.body.detail).toMatch(/read-only/);
    expect((await call(t, 'PATCH', `${users(project._id)}/${target._id}`, { key: admin.key, body: { tags: ['x'] } })).status).toBe(403);
    expect((await call(t, 'DELETE', `${users(project._id)}/${target._id}`, { key: admin.key })).status).toBe(403);
    expect((await call(t, 'POST', '/api/keys', { key: admin.key, body: { userId: admin.userId, scope: 'read' } })).status).toBe(403);
    // Where it is not a member, the project does not exist for it.
    const elsewhere = await org.project('Not mine');
    expect((await call(t, 'GET', users(elsewhere._id), { key: admin.key })).status).toBe(404);
    // A read key cannot even add itself: key scope is checked before visibility (SPEC §1, order of
    // checks), so the 403 says nothing about the project.
    const selfAdd = await call(t, 'POST', users(elsewhere._id), { key: admin.key, body: { _id: admin.userId } });
    expect(selfAdd.status).toBe(403);
  });

  it('read-write: may add itself as viewer to any project of its org, and nothing more', async () => {
    const project = await org.project('Self join');
    const userId = await org.user();
    const key = await org.key(userId, 'read-write');

    expect((await call(t, 'GET', users(project._id), { key })).status).toBe(404);
    const asAdmin = await call(t, 'POST', users(project._id), { key, body: { _id: userId, roles: ['admin'] } });
    expect(asAdmin.status).toBe(403);
    const someoneElse = await call(t, 'POST', users(project._id), { key, body: { _id: await org.user() } });
    expect(someoneElse.status).toBe(404);

    // Tags are the managers' to set (a viewer cannot PATCH its own): a self-join brings none, and
    // the refusal writes nothing.
    const tagged = await call(t, 'POST', users(project._id), { key, body: { _id: userId, tags: ['vip'] } });
    expect(tagged.status).toBe(403);
    expect(tagged.body.code).toBe('forbidden');
    expect((await call(t, 'GET', users(project._id), { key })).status).toBe(404);

    const joined = await call(t, 'POST', users(project._id), { key, body: { _id: userId, tags: [] } });
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ userId, roles: ['viewer'], tags: [] });
    expect((await call(t, 'GET', users(project._id), { key })).status).toBe(200);
    const twice = await call(t, 'POST', users(project._id), { key, body: { _id: userId } });
    expect(twice.status).toBe(409);

    // A project of another org stays invisible.
    const foreign = await other.project('Foreign');
    expect((await call(t, 'POST', users(foreign._id), { key, body: { _id: userId } })).status).toBe(404);
  });

  it('global: everything in every project of its org, nothing of another org', async () => {
    const adminUser = await org.user({ orgRole: 'admin' });
    const globalKey = await org.key(adminUser, 'global');
    const project = await org.project('Global target');
    const target = await org.member(project._id, await org.user(), ['admin']);

    expect((await call(t, 'GET', users(project._id), { key: globalKey })).status).toBe(200);
    expect((await call(t, 'PATCH', `${users(project._id)}/${target._id}`, { key: globalKey, body: { roles: ['viewer'] } })).status).toBe(200);
    const listed = await call(t, 'GET', '/api/projects?limit=100', { key: globalKey });
    expect(listed.body.data.map((p: { _id: string }) => p._id)).toContain(project._id);

    const foreign = await other.project('Foreign global');
    for (const [method, path] of [
      ['GET', users(foreign._id)],
      ['GET', `/api/projects/${foreign._id}`],
      ['GET', `${users(foreign._id)}/me`],
      ['GET', `${users(foreign._id)}/${foreign.ownerProjectUserId}`],
      ['DELETE', `${users(foreign._id)}/${foreign.ownerProjectUserId}`],
    ] as const) {
      expect((await call(t, method, path, { key: globalKey })).status, `${method} ${path}`).toBe(404);
    }
    const foreignList = await call(t, 'GET', '/api/projects?limit=100', { key: globalKey });
    expect(foreignList.text).not.toContain(foreign._id);
    expect((await call(t, 'GET', `/api/users/${other.owner.userId}`, { key: globalKey })).status).toBe(404);
  });

  it("global: a listing proves the project from its own items, and an empty page still tells another org's project from its own", async () => {
    const globalKey = await org.key(await org.user({ orgRole: 'admin' }), 'global');
    const mine = await org.project('Global listing');
    const foreign = await other.project('Foreign listing');
    const noMatch = '?tag=nobody-has-this';

    const listed = await call(t, 'GET', users(mine._id), { key: globalKey });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((pu: { _id: string }) => pu._id)).toEqual([mine.ownerProjectUserId]);
    // No item to prove anything: the project itself decides.
    const empty = await call(t, 'GET', `${users(mine._id)}${noMatch}`, { key: globalKey });
    expect(empty.status).toBe(200);
    expect(empty.body.data).toEqual([]);
    for (const path of [
      users(foreign._id),
      `${users(foreign._id)}${noMatch}`,
      `${users('prj_0000000000aaaaaaaaaaaaaaaa')}${noMatch}`,
      `/api/projects/${foreign._id}/audit`,
    ]) {
      const refused = await call(t, 'GET', path, { key: globalKey });
      expect(refused.status, path).toBe(404);
      expect(refused.text, path).not.toContain(foreign.ownerProjectUserId);
    }
    expect((await call(t, 'GET', `/api/projects/${mine._id}/audit`, { key: globalKey })).status).toBe(200);

    // A hidden project costs the round trips of a missing one: its members' existence is not timed out of it.
    const { client, calls } = recordingClient(t.config);
    const recorded = testApp({}, client);
    const depthOf = async (path: string) => {
      calls.length = 0;
      expect((await call(recorded, 'GET', path, { key: globalKey })).status, path).toBe(404);
      return sequentialDepth(calls);
    };
    await call(recorded, 'GET', users(mine._id), { key: globalKey }); // the key and the roles, cached
    const hidden = await depthOf(users(foreign._id));
    const missing = await depthOf(users('prj_0000000000aaaaaaaaaaaaaaaa'));
    expect(hidden).toBe(missing);
    client.destroy();
  });

  it('a key pinned to one project cannot see any other (404), even as a member there', async () => {
    const a = await org.project('Pinned A');
    const b = await org.project('Pinned B');
    const userId = await org.user();
    await org.member(a._id, userId, ['admin']);
    await org.member(b._id, userId, ['admin']);
    const pinned = await org.key(userId, 'read-write', { projectId: a._id });

    expect((await call(t, 'GET', users(a._id), { key: pinned })).status).toBe(200);
    expect((await call(t, 'GET', users(b._id), { key: pinned })).status).toBe(404);
    expect((await call(t, 'GET', `/api/projects/${b._id}`, { key: pinned })).status).toBe(404);
    const listed = await call(t, 'GET', '/api/projects', { key: pinned });
    expect(listed.body.data.map((p: { _id: string }) => p._id)).toEqual([a._id]);

    // The pin cannot be escaped by minting an unpinned key.
    const escape = await call(t, 'POST', '/api/keys', { key: pinned, body: { userId, scope: 'read-write' } });
    expect(escape.status).toBe(403);
    const samePin = await call(t, 'POST', '/api/keys', { key: pinned, body: { userId, scope: 'read', projectId: a._id } });
    expect(samePin.status).toBe(201);

    // A pinned global key too.
    const adminUser = await org.user({ orgRole: 'admin' });
    const pinnedGlobal = await org.key(adminUser, 'global', { projectId: a._id });
    expect((await call(t, 'GET', users(b._id), { key: pinnedGlobal })).status).toBe(404);
    expect((await call(t, 'GET', users(a._id), { key: pinnedGlobal })).status).toBe(200);
  });

  it('404 for a hidden project is byte-identical to 404 for a missing one', async () => {
    const project = await org.project('Hidden');
    const outsider = await org.key(await org.user(), 'read-write');
    const hidden = await call(t, 'GET', users(project._id), { key: outsider });
    const missing = await call(t, 'GET', users('prj_0000000000aaaaaaaaaaaaaaaa'), { key: outsider });
    expect(hidden.status).toBe(404);
    expect(hidden.text).toBe(missing.text);
    expect(hidden.headers.get('Content-Type')).toBe('application/problem+json');
  });
});

describe('authentication', () => {
  it('missing, malformed, unknown, revoked and expired keys all get the same 401', async () => {
    const userId = await org.user();
    const live = await org.key(userId, 'read-write');
    const keyId = parseApiKey(live)!.keyId;
    const revoked = await org.key(userId, 'read-write');
    const revokedId = parseApiKey(revoked)!.keyId;
    expect((await call(t, 'DELETE', `/api/keys/${revokedId}`, { key: org.adminKey })).status).toBe(204);
    const expiring = await org.key(userId, 'read-write', { expiresAt: new Date(Date.now() + 1500).toISOString() });
    await new Promise((r) => setTimeout(r, 1600));

    // Well-formed keys (valid checksum) that are wrong, so they reach the table; and a mistyped one.
    const unknownId = 'key_0000000000aaaaaaaaaaaaaaaa';
    const unknown = formatApiKey(unknownId, secretWithChecksum(unknownId, 'A'.repeat(SECRET_BODY_LENGTH)));
    const wrongSecret = formatApiKey(keyId, secretWithChecksum(keyId, 'B'.repeat(SECRET_BODY_LENGTH)));
    const mistyped = `${live.slice(0, -1)}${live.endsWith('A') ? 'B' : 'A'}`;
    const bodies = new Set<string>();
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: 'Bearer' },
      { Authorization: 'Basic abc' },
      { Authorization: `Bearer ${live}x` },
      { Authorization: `Bearer ${unknown}` },
      { Authorization: `Bearer ${wrongSecret}` },
      { Authorization: `Bearer ${mistyped}` },
      { Authorization: `Bearer ${revoked}` },
      { Authorization: `Bearer ${expiring}` },
      { Authorization: `Bearer\t${live}` },
    ]) {
      const res = await call(t, 'GET', '/api/projects', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer');
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      bodies.add(res.text);
    }
    expect(bodies.size).toBe(1);
    expect((await call(t, 'GET', '/api/projects', { key: live })).status).toBe(200);
    // RFC 6750 §2.1: `"Bearer" 1*SP b64token`.
    expect((await call(t, 'GET', '/api/projects', { headers: { Authorization: `Bearer   ${live}` } })).status).toBe(200);
  });

  it('a read that began before a revocation on this instance does not put the revoked key back in its cache', async () => {
    const proxy = await startDelayProxy(t.config.dynamoEndpoint!);
    try {
      const raced = testApp({ dynamoEndpoint: proxy.endpoint });
      const project = await org.project('Revoked mid-read');
      const member = await org.memberWithKey(project._id, ['viewer']);
      const { keyId } = parseApiKey(member.key)!;
      // The revoking caller's key is cached first, so only the raced read touches the member's user.
      expect((await call(raced, 'GET', '/api/projects', { key: org.adminKey })).status).toBe(200);
      let release!: () => void;
      let caught!: () => void;
      const userReadHeld = new Promise<void>((resolve) => (caught = resolve));
      proxy.gate = (op, body) => {
        if (op !== 'GetItem' || !body.includes(`USER#${member.userId}`)) return undefined;
        proxy.gate = null;
        caught();
        return new Promise<void>((resolve) => (release = resolve));
      };
      // The member's first read: its key item is read (live), then its user's item is held.
      const inFlight = call(raced, 'GET', `/api/projects/${project._id}/users/me`, { key: member.key });
      await userReadHeld;
      expect((await call(raced, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey })).status).toBe(204);
      release();
      await inFlight; // began before the revocation: whatever it answers, it must not be remembered
      const after = await call(raced, 'GET', `/api/projects/${project._id}/users/me`, { key: member.key });
      expect(after.status).toBe(401);
    } finally {
      await proxy.close();
    }
  });

  it('the cache window runs from when the key was read, not from when the read finished (SPEC §1: at most 5 s)', async () => {
    const proxy = await startDelayProxy(t.config.dynamoEndpoint!);
    try {
      const raced = testApp({ dynamoEndpoint: proxy.endpoint, keyCacheSeconds: 1 });
      const project = await org.project('Slow first read');
      const member = await org.memberWithKey(project._id, ['viewer']);
      // The user's item answers 1.2 s late: longer than the whole window.
      proxy.gate = (op, body) => {
        if (op !== 'GetItem' || !body.includes(`USER#${member.userId}`)) return undefined;
        proxy.gate = null;
        return new Promise<void>((resolve) => setTimeout(resolve, 1_200));
      };
      expect((await call(raced, 'GET', `/api/projects/${project._id}/users/me`, { key: member.key })).status).toBe(200);
      // Revoked on another instance: this one must not answer from what it read over a second ago.
      expect((await call(t, 'DELETE', `/api/keys/${parseApiKey(member.key)!.keyId}`, { key: org.adminKey })).status).toBe(204);
      expect((await call(raced, 'GET', `/api/projects/${project._id}/users/me`, { key: member.key })).status).toBe(401);
    } finally {
      await proxy.close();
    }
  });

  it('only a hash of the secret is stored', async () => {
    const parsed = parseApiKey(await org.key(await org.user(), 'read'));
    expect(parsed).not.toBeNull();
    const stored = await t.store.getApiKey(parsed!.keyId);
    expect(JSON.stringify(stored)).not.toContain(parsed!.secret);
    expect(JSON.stringify(stored)).not.toContain(parsed!.secret.slice(0, SECRET_BODY_LENGTH));
    expect(stored?.secretHash).toBe(hashSecret(parsed!.secret));
  });
});

describe('API keys', () => {
  it('any read-write key creates read/read-write keys for itself, lists and revokes them', async () => {
    const userId = await org.user();
    const key = await org.key(userId, 'read-write');
    const created = await call(t, 'POST', '/api/keys', { key, body: { userId, scope: 'read', name: 'ci' } });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(API_KEY_PATTERN);
    expect(parseApiKey(created.body.secret)?.keyId).toBe(created.body.key._id);
    expect(created.body.key).toMatchObject({ userId, scope: 'read', name: 'ci', projectId: null, expiresAt: null, revokedAt: null });
    expect(created.headers.get('Cache-Control')).toBe('no-store');

    const listed = await call(t, 'GET', '/api/keys', { key });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    expect(listed.text).not.toContain(parseApiKey(created.body.secret)!.secret);
    expect(listed.text).not.toContain('secretHash');

    expect((await call(t, 'DELETE', `/api/keys/${created.body.key._id}`, { key })).status).toBe(204);
    expect((await call(t, 'GET', '/api/projects', { key: created.body.secret })).status).toBe(401);
    const after = await call(t, 'GET', '/api/keys', { key });
    expect(after.body.data.find((k: { _id: string }) => k._id === created.body.key._id).revokedAt).not.toBeNull();
  });

  it('a member pins its own key only to a project it can see: any other is the 404 of a missing one', async () => {
    const userId = await org.user();
    const key = await org.key(userId, 'read-write');
    const mine = await org.project('Pinned, mine');
    await org.member(mine._id, userId, ['viewer']);
    const hidden = await org.project('Pinned, hidden');
    const pin = (projectId: string) => call(t, 'POST', '/api/keys', { key, body: { userId, scope: 'read', projectId } });

    const missing = await pin('prj_01m8m61w2pp252zdqyekmzwt2z');
    const unseen = await pin(hidden._id);
    expect(missing.status).toBe(404);
    expect({ status: unseen.status, body: unseen.body }).toEqual({ status: missing.status, body: missing.body });
    expect((await call(t, 'GET', '/api/keys', { key })).body.data).toHaveLength(1);

    const pinned = await pin(mine._id);
    expect(pinned.status).toBe(201);
    expect(pinned.body.key.projectId).toBe(mine._id);
    // Org owners and admins pin keys to any project of the org, as before.
    const forOther = await call(t, 'POST', '/api/keys', { key: org.adminKey, body: { userId, scope: 'read', projectId: hidden._id } });
    expect(forOther.status).toBe(201);
  });

  it('keys for others and global keys need org owner/admin rights', async () => {
    const member = await org.user();
    const memberKey = await org.key(member, 'read-write');
    const someone = await org.user();
    expect((await call(t, 'POST', '/api/keys', { key: memberKey, body: { userId: someone, scope: 'read' } })).status).toBe(403);
    expect((await call(t, 'POST', '/api/keys', { key: memberKey, body: { userId: member, scope: 'global' } })).status).toBe(403);
    expect((await call(t, 'GET', `/api/keys?userId=${someone}`, { key: memberKey })).status).toBe(403);

    const orgAdmin = await org.user({ orgRole: 'admin' });
    const adminRw = await org.key(orgAdmin, 'read-write');
    expect((await call(t, 'POST', '/api/keys', { key: adminRw, body: { userId: someone, scope: 'read' } })).status).toBe(201);
    expect((await call(t, 'POST', '/api/keys', { key: adminRw, body: { userId: orgAdmin, scope: 'global' } })).status).toBe(201);
    // A global key for a plain member would be an escalation.
    expect((await call(t, 'POST', '/api/keys', { key: adminRw, body: { userId: someone, scope: 'global' } })).status).toBe(403);
    const theirKeys = await call(t, 'GET', `/api/keys?userId=${someone}`, { key: adminRw });
    expect(theirKeys.body.data).toHaveLength(1);

    // Revoking someone else's key needs the same rights. A caller that cannot list another user's
    // keys is not told that one exists: the same 404 as for a key ID nobody has (SPEC §1).
    const victim = theirKeys.body.data[0]._id;
    const hidden = await call(t, 'DELETE', `/api/keys/${victim}`, { key: memberKey });
    const missing = await call(t, 'DELETE', `/api/keys/key_00000000000000000000000000`, { key: memberKey });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(missing.body);
    expect((await call(t, 'DELETE', `/api/keys/${victim}`, { key: adminRw })).status).toBe(204);
    expect((await call(t, 'DELETE', `/api/keys/${victim}`, { key: adminRw })).status).toBe(204);
  });

  it('a pinned key revokes only keys it can list: its user\'s keys pinned to the same project (404 for the others)', async () => {
    const here = await org.project('Pin here');
    const there = await org.project('Pin there');
    const userId = await org.user();
    const pinnedHere = await org.key(userId, 'read-write', { projectId: here._id });
    const alsoHere = await org.key(userId, 'read', { projectId: here._id });
    const pinnedThere = await org.key(userId, 'read-write', { projectId: there._id });
    const unpinned = await org.key(userId, 'read-write');
    const listed = await call(t, 'GET', '/api/keys', { key: pinnedHere });
    expect(listed.body.data.map((k: { _id: string }) => k._id).sort()).toEqual([pinnedHere, alsoHere].map((k) => parseApiKey(k)!.keyId).sort());
    // A leaked key pinned to one project must not switch off its user's access everywhere else.
    for (const other of [pinnedThere, unpinned]) {
      expect((await call(t, 'DELETE', `/api/keys/${parseApiKey(other)!.keyId}`, { key: pinnedHere })).status).toBe(404);
      expect((await call(t, 'GET', '/api/keys', { key: other })).status).toBe(200);
    }
    expect((await call(t, 'DELETE', `/api/keys/${parseApiKey(alsoHere)!.keyId}`, { key: pinnedHere })).status).toBe(204);
    expect((await call(t, 'GET', `/api/projects/${here._id}/users`, { key: alsoHere })).status).toBe(401);
  });

  it("GET /api/keys/:id: the created key's Location answers with its ETag; whoever could not list the key gets the 404 of a missing one", async () => {
    const here = await org.project('Get key here');
    const userId = await org.user();
    const own = await org.key(userId, 'read-write');
    const created = await call(t, 'POST', '/api/keys', { key: own, body: { userId, scope: 'read', name: 'dashboard' } });
    const location = created.headers.get('Location')!;
    const got = await call(t, 'GET', location, { key: own });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body.key);
    expect(got.headers.get('ETag')).toBe(created.headers.get('ETag'));
    expect(got.text).not.toContain('secretHash');
    expect(got.text).not.toContain(parseApiKey(created.body.secret)!.secret);
    // A read key of its own user reads it too; org admins and global keys read anyone's.
    expect((await call(t, 'GET', location, { key: created.body.secret })).status).toBe(200);
    expect((await call(t, 'GET', location, { key: org.adminKey })).status).toBe(200);

    const missing = await call(t, 'GET', '/api/keys/key_00000000000000000000000000', { key: own });
    expect(missing.status).toBe(404);
    const someoneElse = await org.key(await org.user(), 'read-write');
    const pinnedHere = await org.key(userId, 'read-write', { projectId: here._id });
    const foreign = await other.key(await other.user({ orgRole: 'admin' }), 'global');
    for (const stranger of [someoneElse, pinnedHere, foreign]) {
      const hidden = await call(t, 'GET', location, { key: stranger });
      expect([hidden.status, hidden.body]).toEqual([404, missing.body]);
    }
    const pinnedKeyId = parseApiKey(pinnedHere)!.keyId;
    expect((await call(t, 'GET', `/api/keys/${pinnedKeyId}`, { key: pinnedHere })).status).toBe(200);

    // Revoked: still readable, with revokedAt and a new ETag, which DELETE takes in If-Match.
    expect((await call(t, 'DELETE', location, { key: own })).status).toBe(204);
    const revoked = await call(t, 'GET', location, { key: own });
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(revoked.headers.get('ETag')).not.toBe(got.headers.get('ETag'));
    expect((await call(t, 'DELETE', location, { key: own, headers: { 'If-Match': revoked.headers.get('ETag')! } })).status).toBe(204);
    expect((await call(t, 'GET', `/api/keys/not-a-key`, { key: own })).status).toBe(400);
    expect((await call(t, 'GET', `${location}?x=1`, { key: own })).status).toBe(400);
  });

  it('GET and DELETE /api/keys/:id of a user being deleted (blocked by a project it owns) are 404, as its listing is empty', async () => {
    const userId = await org.user({ orgRole: 'admin' });
    const ownKey = await org.key(userId, 'read-write');
    await org.project('Owned, so the deletion is blocked', ownKey);
    const keyId = parseApiKey(ownKey)!.keyId;
    expect((await call(t, 'GET', `/api/keys/${keyId}`, { key: org.adminKey })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/users/${userId}`, { key: org.adminKey })).status).toBe(409);
    expect((await call(t, 'GET', `/api/keys?userId=${userId}`, { key: org.adminKey })).body.data).toEqual([]);
    expect((await call(t, 'GET', `/api/keys/${keyId}`, { key: org.adminKey })).status).toBe(404);
    // Nor does revoking it tell that it exists: the same 404, with or without a stale If-Match.
    const missing = await call(t, 'DELETE', '/api/keys/key_00000000000000000000000000', { key: org.adminKey });
    for (const headers of [{}, { 'If-Match': '"stale"' }] as Record<string, string>[]) {
      const revoke = await call(t, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey, headers });
      expect([revoke.status, revoke.body]).toEqual([404, missing.body]);
    }
  });

  it('keys of another org are 404; expiry must be in the future', async () => {
    const foreignKey = await other.key(await other.user(), 'read');
    const foreignId = parseApiKey(foreignKey)!.keyId;
    expect((await call(t, 'DELETE', `/api/keys/${foreignId}`, { key: org.adminKey })).status).toBe(404);
    expect((await call(t, 'GET', `/api/keys/${foreignId}`, { key: org.adminKey })).status).toBe(404);
    expect((await call(t, 'POST', '/api/keys', { key: org.adminKey, body: { userId: other.owner.userId, scope: 'read' } })).status).toBe(404);
    const past = await call(t, 'POST', '/api/keys', {
      key: org.adminKey,
      body: { userId: org.owner.userId, scope: 'read', expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
  });
});

describe('org users and projects', () => {
  it('org admins manage the directory; members get 403', async () => {
    const created = await call(t, 'POST', '/api/users', {
      key: org.adminKey,
      body: { name: 'Dana', email: 'dana@example.com', kind: 'api', orgRole: 'admin' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Dana', email: 'dana@example.com', kind: 'api', orgRole: 'admin', orgId: org.orgId });
    expect(created.headers.get('Location')).toBe(`/api/users/${created.body._id}`);
    const dup = await call(t, 'POST', '/api/users', { key: org.adminKey, body: { name: 'Dana 2', email: 'DANA@example.com' } });
    expect(dup.status).toBe(409);
    const asOwner = await call(t, 'POST', '/api/users', { key: org.adminKey, body: { name: 'X', orgRole: 'owner' } });
    expect(asOwner.status).toBe(400);

    const got = await call(t, 'GET', `/api/users/${created.body._id}`, { key: org.adminKey });
    expect(got.body).toEqual(created.body);
    const member = await org.user();
    const memberKey = await org.key(member, 'read-write');
    expect((await call(t, 'GET', '/api/users', { key: memberKey })).status).toBe(403);
    expect((await call(t, 'POST', '/api/users', { key: memberKey, body: { name: 'Y' } })).status).toBe(403);
    expect((await call(t, 'GET', `/api/users/${member}`, { key: memberKey })).status).toBe(200);
    expect((await call(t, 'POST', '/api/projects', { key: memberKey, body: { name: 'Nope' } })).status).toBe(403);
  });

  it('lists org users across pages without repeats', async () => {
    const fresh = await newOrg(t, 'Paging users');
    for (let i = 0; i < 5; i++) await fresh.user({ name: `U${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { data: { _id: string }[]; nextCursor: string | null } } = await call(
        t,
        'GET',
        `/api/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { key: fresh.adminKey },
      );
      seen.push(...res.body.data.map((u) => u._id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(6);
  });

  it('an org admin creating a project becomes its owner; members see only their projects', async () => {
    const orgAdmin = await org.user({ orgRole: 'admin' });
    const key = await org.key(orgAdmin, 'read-write');
    const created = await call(t, 'POST', '/api/projects', { key, body: { name: 'Mine' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Mine', orgId: org.orgId });
    const me = await call(t, 'GET', `${users(created.body._id)}/me`, { key });
    expect(me.body.projectUser).toMatchObject({ _id: created.body.ownerProjectUserId, isOwner: true, userId: orgAdmin });

    const member = await org.user();
    const memberKey = await org.key(member, 'read');
    await org.member(created.body._id, member, ['viewer']);
    const listed = await call(t, 'GET', '/api/projects', { key: memberKey });
    expect(listed.body.data.map((p: { _id: string }) => p._id)).toEqual([created.body._id]);
  });

  it('deleting an org user removes its memberships everywhere, except where it owns the project', async () => {
    const doomed = await org.user({ orgRole: 'admin' });
    const doomedKey = await org.key(doomed, 'read-write');
    const owned = await org.project('Owned by doomed', doomedKey);
    const p1 = await org.project('P1');
    const p2 = await org.project('P2');
    await org.member(p1._id, doomed, ['editor']);
    await org.member(p2._id, doomed, ['manager']);

    const blocked = await call(t, 'DELETE', `/api/users/${doomed}`, { key: org.adminKey });
    expect(blocked.status).toBe(409);
    expect(blocked.body.blockedProjects).toEqual([owned._id]);
    for (const p of [p1, p2]) {
      const list = await call(t, 'GET', users(p._id), { key: org.adminKey });
      expect(list.text).not.toContain(doomed);
    }
    // Its keys stop working as soon as deletion begins, and the directory agrees everywhere: the
    // user is 404, absent from the list, and has no keys to show.
    expect((await call(t, 'GET', '/api/projects', { key: doomedKey })).status).toBe(401);
    expect((await call(t, 'GET', `/api/users/${doomed}`, { key: org.adminKey })).status).toBe(404);
    const directory = await call(t, 'GET', '/api/users?limit=100', { key: org.adminKey });
    expect(directory.body.data.map((u: { _id: string }) => u._id)).not.toContain(doomed);
    expect((await call(t, 'GET', `/api/keys?userId=${doomed}`, { key: org.adminKey })).body.data).toEqual([]);

    const heir = await org.member(owned._id, await org.user(), ['admin']);
    const moved = await call(t, 'POST', `/api/projects/${owned._id}/owner`, { key: org.adminKey, body: { projectUserId: heir._id } });
    expect(moved.status).toBe(200);
    expect((await call(t, 'DELETE', `/api/users/${doomed}`, { key: org.adminKey })).status).toBe(204);
    expect((await call(t, 'GET', `/api/users/${doomed}`, { key: org.adminKey })).status).toBe(404);
    expect((await call(t, 'GET', users(owned._id), { key: org.adminKey })).text).not.toContain(doomed);
    expect((await call(t, 'DELETE', `/api/users/${doomed}`, { key: org.adminKey })).status).toBe(404);
    // The org owner is never deleted.
    expect((await call(t, 'DELETE', `/api/users/${org.owner.userId}`, { key: org.adminKey })).status).toBe(409);
  });
});
