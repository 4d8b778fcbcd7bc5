import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_TAG_LENGTH, MEMBERSHIP_LIMITS } from '../../../functions/domain/limits.js';
import { call, newOrg, testApp } from '../../support/app.js';

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;
let projectId: string;
let targetId: string;

beforeAll(async () => {
  org = await newOrg(t, 'Errors');
  const project = await org.project('Errors');
  projectId = project._id;
  targetId = (await org.member(projectId, await org.user(), ['viewer']))._id;
});

async function memberCount() {
  const res = await call(t, 'GET', `/api/projects/${projectId}/users?limit=100`, { key: org.adminKey });
  return res.body.data.length as number;
}

function expectProblem(res: { status: number; headers: Headers; body: any; text: string }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status, type: expect.stringContaining('/problems/'), title: expect.any(String), detail: expect.any(String), code: expect.any(String) });
  expect(res.text).not.toMatch(/at .*\.ts:\d+|Exception|DynamoDB|PK|SK/);
}

describe('400: bad input changes nothing', () => {
  const addCases: [string, unknown][] = [
    ['unknown field', { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', isOwner: true }],
    ['mass-assigned version', { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', version: 9 }],
    ['wrong type', { _id: 42 }],
    ['roles not an array', { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', roles: 'admin' }],
    ['bad ID format', { _id: 'usr_../../etc' }],
    ['ID with #', { _id: 'usr_0000000000aaaaaaaaaaaa#PK' }],
    [`${MEMBERSHIP_LIMITS.roles + 1} roles`, { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', roles: Array(MEMBERSHIP_LIMITS.roles + 1).fill('viewer') }],
    [`${MEMBERSHIP_LIMITS.tags + 1} tags`, { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', tags: Array.from({ length: MEMBERSHIP_LIMITS.tags + 1 }, (_, i) => `t${i}`) }],
    [`tag of ${MAX_TAG_LENGTH + 1} chars`, { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', tags: ['x'.repeat(MAX_TAG_LENGTH + 1)] }],
    ['empty tag', { _id: 'usr_0000000000aaaaaaaaaaaaaaaa', tags: [''] }],
    ['array body', [{ _id: 'usr_0000000000aaaaaaaaaaaaaaaa' }]],
    ['null body', null],
  ];
  for (const [label, body] of addCases) {
    it(`POST users: ${label}`, async () => {
      const before = await memberCount();
      const res = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: JSON.stringify(body) });
      expectProblem(res, 400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.length).toBeGreaterThan(0);
      expect(res.body.errors[0]).toEqual({ path: expect.any(String), message: expect.any(String) });
      expect(await memberCount()).toBe(before);
    });
  }

  it('malformed JSON', async () => {
    const res = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body: '{"_id": ' });
    expectProblem(res, 400);
    expect(res.body.code).toBe('malformed_json');
  });

  it('IDs in the path are validated before they reach a key', async () => {
    for (const path of [
      `/api/projects/prj_bad/users`,
      `/api/projects/${encodeURIComponent('prj_0000000000aaaaaaaaaaaa#x')}/users`,
      `/api/projects/${encodeURIComponent(`${projectId}/x`)}/users`,
      `/api/projects/${projectId}/users/${encodeURIComponent('pu_0000000000aaaaaaaaaaaaa/')}`,
      `/api/projects/${projectId}/users/usr_0000000000aaaaaaaaaaaaaaaa`,
      `/api/users/prj_0000000000aaaaaaaaaaaaaaaa`,
      `/api/keys/${encodeURIComponent('key_%00')}`,
    ]) {
      const res = await call(t, path.startsWith('/api/keys') ? 'DELETE' : 'GET', path, { key: org.adminKey });
      expect([400, 404], path).toContain(res.status);
      expectProblem(res, res.status);
    }
    expectProblem(await call(t, 'GET', `/api/projects/prj_bad/users`, { key: org.adminKey }), 400);
  });

  it('PATCH with nothing to change, or an unknown field, is 400', async () => {
    const path = `/api/projects/${projectId}/users/${targetId}`;
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: {} }), 400);
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: { roles: ['editor'], isOwner: true } }), 400);
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body: { projectId: 'prj_0000000000aaaaaaaaaaaaaaaa' } }), 400);
    const current = await call(t, 'GET', path, { key: org.adminKey });
    expect(current.body).toMatchObject({ roles: ['viewer'], version: 1 });
  });

  it('unknown query parameters and unknown role filters are 400', async () => {
    expectProblem(await call(t, 'GET', `/api/projects/${projectId}/users?role=superuser`, { key: org.adminKey }), 400);
    expectProblem(await call(t, 'GET', `/api/projects/${projectId}/users?sort=desc`, { key: org.adminKey }), 400);
  });

  it('a query whose percent-encoding does not decode is 400, not read as literal text', async () => {
    const path = `/api/projects/${projectId}/users/${targetId}`;
    expect((await call(t, 'PATCH', path, { key: org.adminKey, body: { tags: ['%FF'] } })).status).toBe(200);
    const literal = await call(t, 'GET', `/api/projects/${projectId}/users?tag=%25FF`, { key: org.adminKey });
    expect(literal.body.data.map((u: { _id: string }) => u._id)).toEqual([targetId]);
    for (const query of ['tag=%FF', 'tag=%', 'tag=%E2%82', 'limit=1&tag=%zz']) {
      const res = await call(t, 'GET', `/api/projects/${projectId}/users?${query}`, { key: org.adminKey });
      expectProblem(res, 400);
      expect(res.body.errors, query).toEqual([{ path: 'query', message: 'invalid percent-encoding' }]);
    }
    expectProblem(await call(t, 'DELETE', `${path}?%FF`, { key: org.adminKey }), 400);
    // A parameter without a name is no less a parameter.
    for (const listing of ['/api/roles?=x', '/api/keys?=x', `/api/projects/${projectId}/users?=x`]) {
      expectProblem(await call(t, 'GET', listing, { key: org.adminKey }), 400);
    }
    expect((await call(t, 'GET', path, { key: org.adminKey })).status).toBe(200);
  });
});

describe('unknown query parameters on routes that take none', () => {
  it('are a 400 on every route, reads and writes, and the write does not happen', async () => {
    const before = await call(t, 'GET', '/api/projects?limit=100', { key: org.adminKey });
    const created = await call(t, 'POST', '/api/projects?foo=1', { key: org.adminKey, body: { name: 'Query' } });
    expectProblem(created, 400);
    expect(created.body.errors.map((e: { path: string }) => e.path)).toEqual(['query']);
    expect(created.body.errors[0].message).toContain('foo');
    expect((await call(t, 'GET', '/api/projects?limit=100', { key: org.adminKey })).body.data).toHaveLength(before.body.data.length);
    for (const path of [`/api/projects/${projectId}`, `/api/projects/${projectId}/users/me`, `/api/projects/${projectId}/users/${targetId}`, '/api/roles/viewer', '/api/permissions/project:read']) {
      const res = await call(t, 'GET', `${path}?foo=1`, { key: org.adminKey });
      expect([path, res.status]).toEqual([path, 400]);
    }
    expect((await call(t, 'DELETE', `/api/projects/${projectId}/users/${targetId}?force=true`, { key: org.adminKey })).status).toBe(400);
    expect(await memberCount()).toBeGreaterThan(1);
  });
});

describe('413 and 415', () => {
  it('a body over 64 KiB is 413', async () => {
    const body = JSON.stringify({ _id: 'usr_0000000000aaaaaaaaaaaaaaaa', tags: ['x'], pad: 'y'.repeat(64 * 1024) });
    const res = await call(t, 'POST', `/api/projects/${projectId}/users`, { key: org.adminKey, body });
    expectProblem(res, 413);
  });

  // Reads skip the size check (a GET or HEAD has no body): every other method still has it.
  it('a PATCH or DELETE body over the limit is 413 and changes nothing', async () => {
    const path = `/api/projects/${projectId}/users/${targetId}`;
    const before = await call(t, 'GET', path, { key: org.adminKey });
    const body = JSON.stringify({ roles: ['editor'], pad: 'y'.repeat(MAX_BODY_BYTES) });
    expectProblem(await call(t, 'PATCH', path, { key: org.adminKey, body }), 413);
    expectProblem(await call(t, 'DELETE', path, { key: org.adminKey, body }), 413);
    const after = await call(t, 'GET', path, { key: org.adminKey });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
  });

  it('every JSON media type RFC 9110 allows is JSON; the others are 415 unsupported_media_type', async () => {
    const path = `/api/projects/${projectId}/users/${targetId}`;
    for (const contentType of [
      'application/json ; charset=utf-8',
      'application/json;',
      'application/json; charset=utf-8;',
      'Application/JSON',
      'application/merge-patch+json',
      'application/vnd.example_v1+json',
      "application/vnd.a!b'c#d+json",
    ]) {
      const res = await call(t, 'PATCH', path, { key: org.adminKey, body: { tags: ['media'] }, headers: { 'Content-Type': contentType } });
      expect(res.status, contentType).toBe(200);
    }
    for (const contentType of ['text/plain', 'application/jsonx', 'application/x-www-form-urlencoded']) {
      const res = await call(t, 'PATCH', path, { key: org.adminKey, body: { tags: ['media'] }, headers: { 'Content-Type': contentType } });
      expect([res.status, res.body.code], contentType).toEqual([415, 'unsupported_media_type']);
    }
  });

  it('a body under a content coding is 415 and changes nothing: no coding is decoded, so none may pass as plain JSON', async () => {
    const path = `/api/projects/${projectId}/users/${targetId}`;
    const before = await call(t, 'GET', path, { key: org.adminKey });
    for (const encoding of ['gzip', 'br, identity', 'x-unknown']) {
      const res = await call(t, 'PATCH', path, { key: org.adminKey, body: { tags: ['encoded'] }, headers: { 'Content-Encoding': encoding } });
      expectProblem(res, 415);
      expect(res.body.detail, encoding).toMatch(/Content-Encoding/);
    }
    expect((await call(t, 'GET', path, { key: org.adminKey })).body).toEqual(before.body);
    const identity = await call(t, 'PATCH', path, { key: org.adminKey, body: { tags: ['plain'] }, headers: { 'Content-Encoding': 'identity' } });
    expect(identity.status).toBe(200);
  });

  it('a body that is not JSON is 415', async () => {
    const res = await call(t, 'POST', `/api/projects/${projectId}/users`, {
      key: org.adminKey,
      body: '_id=usr_0000000000aaaaaaaaaaaaaaaa',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(res, 415);
  });
});

describe('404 for routes that do not exist', () => {
  it('answers problem+json', async () => {
    expectProblem(await call(t, 'GET', '/api/nothing', { key: org.adminKey }), 404);
    expectProblem(await call(t, 'GET', '/nothing'), 404);
  });
});

describe('503 when DynamoDB is unreachable', () => {
  it('answers 503 with Retry-After and writes nothing', async () => {
    // A port that accepts and immediately closes connections: DynamoDB "unreachable".
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const down = testApp({ dynamoEndpoint: `http://127.0.0.1:${port}` });
      const before = await memberCount();
      for (const [method, path, body] of [
        ['GET', `/api/projects/${projectId}/users`, undefined],
        ['POST', `/api/projects/${projectId}/users`, { _id: org.owner.userId }],
      ] as const) {
        const res = await call(down, method, path, { key: org.adminKey, body });
        expectProblem(res, 503);
        expect(res.headers.get('Retry-After')).toBe('1');
      }
      expect(await memberCount()).toBe(before);
    } finally {
      server.close();
    }
  });
});
