import { validate } from '@readme/openapi-parser';
import { hc } from 'hono/client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppType } from '../../../functions/app.js';
import { createProjectUsersClient } from '../../../functions/client.js';
import { parseApiKey } from '../../../functions/domain/api-key.js';
import { call, newOrg, testApp } from '../../support/app.js';

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;

beforeAll(async () => {
  org = await newOrg(t, 'Experience');
});

describe('OpenAPI 3.1 document', () => {
  it('is valid OpenAPI 3.1 according to @readme/openapi-parser', async () => {
    const res = await call(t, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(res.body));
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(res.body.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents every route the app serves, and only those', async () => {
    const doc = (await call(t, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    const undocumentedByDesign = new Set(['GET /openapi.json', 'GET /docs', 'GET /docs/scalar.js']);
    const served = new Set(
      t.app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
        .map((r) => `${r.method} ${r.path}`)
        .filter((route) => !undocumentedByDesign.has(route)),
    );
    expect([...served].sort()).toEqual([...documented].sort());
    expect(served.size).toBeGreaterThanOrEqual(17);
  });

  it('describes errors as problem+json, and Idempotency-Key on every POST', async () => {
    const doc = (await call(t, 'GET', '/openapi.json')).body;
    const add = doc.paths['/api/projects/{projectId}/users'].post;
    expect(add.responses['409'].content['application/problem+json']).toBeDefined();
    expect(add.security).toEqual([{ apiKey: [] }]);
    for (const [path, ops] of Object.entries<Record<string, { parameters?: { name: string; in: string }[] }>>(doc.paths)) {
      if (!ops.post) continue;
      // The check is a question in a POST body (it writes nothing), so there is nothing to replay.
      const writes = !path.endsWith('/check');
      expect(ops.post.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key') ?? false, path).toBe(writes);
    }
  });
});

describe('docs page', () => {
  it('serves the Scalar reference with its script from this server, no CDN', async () => {
    const page = await t.app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/scalar.js');
    expect(html).toContain('/openapi.json');
    expect(html).not.toMatch(/<script[^>]+src="https?:\/\//);
    const script = await t.app.request('/docs/scalar.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('Content-Type')).toContain('javascript');
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  });
});

describe('Idempotency-Key', () => {
  it('same key and body replays the first response; another body is 422; nothing is written twice', async () => {
    const project = await org.project('Idempotent');
    const userId = await org.user();
    const path = `/api/projects/${project._id}/users`;
    const send = (body: unknown) =>
      call(t, 'POST', path, { key: org.adminKey, body, headers: { 'Idempotency-Key': 'add-ann-1' } });

    const first = await send({ _id: userId, roles: ['editor'] });
    expect(first.status).toBe(201);
    const again = await send({ _id: userId, roles: ['editor'] });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('Location')).toBe(first.headers.get('Location'));
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');

    // The same JSON written another way (a retry through another serializer): still a replay.
    const rewritten = await send(`{ "roles" : [ "editor" ],\n  "_id": ${JSON.stringify(userId)} }`);
    expect([rewritten.status, rewritten.headers.get('Idempotent-Replayed')]).toEqual([201, 'true']);
    expect(rewritten.body).toEqual(first.body);

    const other = await send({ _id: userId, roles: ['viewer'] });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    // Same members, another order inside an array: another request.
    expect((await send({ _id: userId, roles: ['editor', 'viewer'] })).status).toBe(422);

    // Without the key, the same request is a plain duplicate.
    expect((await call(t, 'POST', path, { key: org.adminKey, body: { _id: userId } })).status).toBe(409);
    const list = await call(t, 'GET', path, { key: org.adminKey });
    expect(list.body.data).toHaveLength(2);
  });

  it('concurrent duplicates produce one write and the same answer', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(t, 'POST', '/api/projects', { key: org.adminKey, body: { name: 'Once' }, headers: { 'Idempotency-Key': 'create-once' } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(results.map((r) => r.body._id)).size).toBe(1);
    const listed = await call(t, 'GET', '/api/projects?limit=100', { key: org.adminKey });
    expect(listed.body.data.filter((p: { name: string }) => p.name === 'Once')).toHaveLength(1);
  });

  it('keys are scoped to the API key; a key-creation replay does not show the secret again', async () => {
    const userId = await org.user();
    const body = { userId, scope: 'read' };
    const headers = { 'Idempotency-Key': 'mint-1' };
    const first = await call(t, 'POST', '/api/keys', { key: org.adminKey, body, headers });
    expect(first.body.secret).toMatch(/^puk_/);
    const replay = await call(t, 'POST', '/api/keys', { key: org.adminKey, body, headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual({ key: first.body.key, secret: null });

    const otherCaller = await org.key(await org.user({ orgRole: 'admin' }), 'global');
    const fresh = await call(t, 'POST', '/api/keys', { key: otherCaller, body, headers });
    expect(fresh.body.key._id).not.toBe(first.body.key._id);
    expect((await call(t, 'POST', '/api/keys', { key: org.adminKey, body, headers: { 'Idempotency-Key': 'bad key with spaces' } })).status).toBe(400);
  });
});

describe('operations', () => {
  afterEach(() => vi.restoreAllMocks());

  it('echoes X-Request-Id, or makes one', async () => {
    const given = await call(t, 'GET', '/health', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(given.headers.get('X-Request-Id')).toBe('abc-123');
    const made = await call(t, 'GET', '/api/nothing');
    expect(made.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one JSON line per request with request ID, route, status, latency and key ID, never the secret', async () => {
    const jsonApp = testApp({ logFormat: 'json', logLevel: 'INFO' });
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const res = await call(jsonApp, 'GET', `/api/projects?limit=5`, { key: org.adminKey, headers: { 'X-Request-Id': 'log-test-1' } });
    vi.restoreAllMocks();
    expect(res.status).toBe(200);
    const entry = lines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'log-test-1');
    expect(entry).toMatchObject({
      level: 'INFO',
      message: 'request',
      service: 'project-users',
      method: 'GET',
      route: '/api/projects',
      status: 200,
      keyId: parseApiKey(org.adminKey)!.keyId,
    });
    expect(entry.latencyMs).toEqual(expect.any(Number));
    expect(lines.join('')).not.toContain(parseApiKey(org.adminKey)!.secret);
  });

  it('the readable local log writes one line per request: control characters of the path are escaped', async () => {
    const readableApp = testApp({ logFormat: 'pretty', logLevel: 'INFO' });
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const res = await call(readableApp, 'GET', '/api/x%0A08:00:00.000%20DELETE%20/api/users/usr_victim%E2%80%AE%00', { key: org.adminKey });
    vi.restoreAllMocks();
    expect(res.status).toBe(404);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\n\u0000\u202e]/);
    expect(lines[0]).toContain('/api/x\\u000a08:00:00.000 DELETE /api/users/usr_victim\\u202e\\u0000 → 404');
  });

  it('emits EMF metrics per route and status class when enabled', async () => {
    const metricsApp = testApp({ metricsEnabled: true, logLevel: 'SILENT' });
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    await call(metricsApp, 'GET', '/api/projects', { key: 'nope' });
    vi.restoreAllMocks();
    const emf = lines.map((l) => JSON.parse(l)).filter((l) => l._aws);
    const requests = emf.find((l) => l.Requests === 1);
    expect(requests).toMatchObject({ route: 'GET /api/*', statusClass: '4xx' });
    expect(requests._aws.CloudWatchMetrics[0].Namespace).toBe('ProjectUsers');
  });
});

describe('typed client', () => {
  it('adds a user and handles a 409 with hc<AppType>', async () => {
    const project = await org.project('Typed client');
    const userId = await org.user();
    const client = createProjectUsersClient('http://localhost', org.adminKey, {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => t.app.request(input, init),
    });
    const users = client.api.projects[':projectId'].users;
    const added = await users.$post({ param: { projectId: project._id }, json: { _id: userId, roles: ['editor'] } });
    expect(added.status).toBe(201);
    if (added.status === 201) {
      const body = await added.json();
      expect(body.roles).toEqual(['editor']);
    }
    const duplicate = await users.$post({ param: { projectId: project._id }, json: { _id: userId } });
    expect(duplicate.status).toBe(409);
    const problem = (await duplicate.json()) as unknown as { code: string };
    expect(problem.code).toBe('already_member');

    // The same type drives a plain hc<AppType> too.
    const plain = hc<AppType>('http://localhost', { fetch: (i: RequestInfo | URL, r?: RequestInit) => t.app.request(i, r) });
    const list = await plain.api.projects[':projectId'].users.$get(
      { param: { projectId: project._id }, query: {} },
      { headers: { Authorization: `Bearer ${org.adminKey}` } },
    );
    expect(list.status).toBe(200);
  });
});
