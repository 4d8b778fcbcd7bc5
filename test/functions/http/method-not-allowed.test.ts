import { beforeAll, describe, expect, it } from 'vitest';
import { methodsOf } from '../../../functions/http/allowed-methods.js';
import { call, newOrg, testApp, type Reply } from '../../support/app.js';

/**
 * A known path asked with a method it does not support: 405 problem+json with `Allow`, derived from
 * the app's routes, before authentication and whatever the IDs in the path. Unknown paths stay 404.
 */
const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;
let projectId: string;
let projectUserId: string;

beforeAll(async () => {
  org = await newOrg(t, 'Methods');
  const project = await org.project('Methods');
  projectId = project._id;
  projectUserId = project.ownerProjectUserId;
});

const ABSENT_PROJECT = 'prj_01jd6x4r2m0000000000000000';
const ABSENT_PROJECT_USER = 'pu_01jd6x4r2m0000000000000000';

function expect405(res: Reply, allow: string) {
  expect(res.status).toBe(405);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  expect(res.headers.get('Allow')).toBe(allow);
  expect(res.headers.get('X-Request-Id')).toBeTruthy();
  expect(res.headers.get('WWW-Authenticate')).toBeNull();
  expect(res.body).toEqual({
    type: 'https://project-users.dev/problems/method_not_allowed',
    title: 'Method not allowed',
    status: 405,
    detail: expect.stringContaining(allow),
    code: 'method_not_allowed',
    allow: allow.split(', '),
  });
}

describe('405 with Allow on a known path', () => {
  const cases: [method: string, path: () => string, allow: string][] = [
    ['PUT', () => `/api/projects/${projectId}/users/${projectUserId}`, 'GET, HEAD, PATCH, DELETE'],
    ['POST', () => `/api/projects/${projectId}/users/${projectUserId}`, 'GET, HEAD, PATCH, DELETE'],
    ['DELETE', () => `/api/projects/${projectId}/users`, 'GET, HEAD, POST'],
    ['PUT', () => `/api/projects/${projectId}/owner`, 'POST'],
    ['GET', () => `/api/projects/${projectId}/check`, 'POST'],
    ['DELETE', () => `/api/projects/${projectId}/audit`, 'GET, HEAD'],
    ['DELETE', () => '/api/projects', 'GET, HEAD, POST'],
    ['PATCH', () => `/api/projects/${projectId}`, 'GET, HEAD'],
    ['PATCH', () => '/api/users/usr_0000000000aaaaaaaaaaaaaaaa', 'GET, HEAD, DELETE'],
    ['PATCH', () => '/api/keys/key_0000000000aaaaaaaaaaaaaaaa', 'GET, HEAD, DELETE'],
    ['PUT', () => '/api/roles/editor', 'GET, HEAD, PATCH, DELETE'],
    ['PATCH', () => '/api/permissions', 'GET, HEAD, POST'],
    ['POST', () => '/health', 'GET, HEAD'],
    ['DELETE', () => '/openapi.json', 'GET, HEAD'],
    ['POST', () => '/docs', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    it(`${method} ${path().replace(/\/(prj|pu|usr|key)_\w+/g, '/{$1}')} → 405, Allow: ${allow}`, async () => {
      expect405(await call(t, method, path(), { key: org.adminKey }), allow);
    });
  }

  it('comes before authentication: no key, a bad key and a valid key get the same 405', async () => {
    const path = `/api/projects/${projectId}/users/${projectUserId}`;
    const replies = await Promise.all([
      call(t, 'PUT', path),
      call(t, 'PUT', path, { key: 'puk_nope_nope' }),
      call(t, 'PUT', path, { key: org.adminKey }),
    ]);
    for (const res of replies) expect405(res, 'GET, HEAD, PATCH, DELETE');
    // With a body too: 405 is decided before the media type or the body is looked at.
    expect405(await call(t, 'PUT', path, { body: 'not json', headers: { 'Content-Type': 'text/plain' } }), 'GET, HEAD, PATCH, DELETE');
  });

  it('depends only on the path shape: an existing and an absent project answer alike, with or without a key', async () => {
    const seen = await call(t, 'PUT', `/api/projects/${projectId}/users/${projectUserId}`);
    const absent = await call(t, 'PUT', `/api/projects/${ABSENT_PROJECT}/users/${ABSENT_PROJECT_USER}`);
    const malformed = await call(t, 'PUT', '/api/projects/x/users/y');
    for (const res of [seen, absent, malformed]) expect405(res, 'GET, HEAD, PATCH, DELETE');
    expect({ ...absent.body, detail: '' }).toEqual({ ...seen.body, detail: '' });
    expect(absent.body.detail).toBe(seen.body.detail);
  });

  it('OPTIONS is not implemented by the app (no CORS middleware: the HTTP API answers preflights): 405 with Allow', async () => {
    expect405(await call(t, 'OPTIONS', `/api/projects/${projectId}/users`), 'GET, HEAD, POST');
    expect405(await call(t, 'OPTIONS', '/health'), 'GET, HEAD');
  });

  it('HEAD is listed because it is answered wherever GET is', async () => {
    const health = await t.app.request('/health', { method: 'HEAD' });
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    const list = await t.app.request(`/api/projects/${projectId}/users`, { method: 'HEAD', headers: { Authorization: `Bearer ${org.adminKey}` } });
    expect(list.status).toBe(200);
    // …and only there: HEAD on a POST-only path is 405 too (with no body, as any HEAD answer).
    const check = await t.app.request(`/api/projects/${projectId}/check`, { method: 'HEAD' });
    expect(check.status).toBe(405);
    expect(check.headers.get('Allow')).toBe('POST');
    expect(await check.text()).toBe('');
  });

  it('a supported method still goes through authentication and the handler', async () => {
    expect((await call(t, 'GET', `/api/projects/${projectId}/users/${projectUserId}`)).status).toBe(401);
    expect((await call(t, 'GET', `/api/projects/${projectId}/users/${projectUserId}`, { key: org.adminKey })).status).toBe(200);
    expect((await call(t, 'GET', '/health')).status).toBe(200);
  });
});

describe('unknown paths stay 404', () => {
  for (const [method, path] of [
    ['GET', '/api/nope'],
    ['PUT', '/api/nope'],
    ['DELETE', '/api/projects/x/users/y/z'],
    ['PUT', '/api/projects/'],
    ['GET', '/api/projects/'],
    ['POST', '/api/projects/x/members'],
  ]) {
    it(`${method} ${path} → 404 with a key, 401 without (authentication first, as for any /api path)`, async () => {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const res = await call(t, method!, path!, { key: org.adminKey, body });
      expect(res.status).toBe(404);
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect(res.headers.get('Allow')).toBeNull();
      expect(res.body.code).toBe('not_found');
      expect((await call(t, method!, path!)).status).toBe(401);
      if (body === undefined) return;
      // Regression: a write without a JSON body (or with one over the limit) got 415 (413) there:
      // nothing is at that path to take a body.
      for (const [label, headers, sent] of [
        ['no body', {}, undefined],
        ['text', { 'Content-Type': 'text/plain' }, 'hello'],
        ['over 64 KiB', { 'Content-Type': 'application/json' }, JSON.stringify({ x: 'y'.repeat(70_000) })],
      ] as const) {
        const other = await t.app.request(path!, { method, headers: { Authorization: `Bearer ${org.adminKey}`, ...headers }, body: sent });
        expect([label, other.status]).toEqual([label, 404]);
      }
    });
  }

  it('outside /api: 404 without a key', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await call(t, method, '/nope');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(res.headers.get('Allow')).toBeNull();
    }
  });
});

describe('Allow comes from the registered routes', () => {
  it('every routed method of every route is allowed on it; HEAD exactly where GET is', () => {
    const allowedAt = methodsOf(t.app);
    const routed = new Map<string, Set<string>>();
    for (const route of t.app.routes) {
      if (route.method === 'ALL') continue;
      const methods = routed.get(route.path) ?? new Set();
      methods.add(route.method);
      routed.set(route.path, methods);
    }
    expect(routed.size).toBeGreaterThanOrEqual(20);
    for (const [pattern, methods] of routed) {
      const path = pattern.replace(/:(\w+)/g, 'x_$1');
      const allowed = allowedAt(path);
      for (const method of methods) expect(allowed, `${method} ${pattern}`).toContain(method);
      expect(allowed.includes('HEAD'), pattern).toBe(allowed.includes('GET'));
    }
    // `/api/projects/{id}/users/me` is also matched by `/{projectUserId}`, as in dispatch.
    expect(allowedAt('/api/projects/p/users/me')).toEqual(['GET', 'HEAD', 'PATCH', 'DELETE']);
    expect(allowedAt('/api/nope')).toEqual([]);
  });
});
