import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/api.js';
import { newOrg, testApp } from '../support/app.js';

/**
 * The Lambda entry answers real API Gateway / Function URL events, built from AWS's sample
 * events in test/support/fixtures/aws-events with method, path, headers and body set to real routes.
 */
const fixtures = fileURLToPath(new URL('../support/fixtures/aws-events/', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(`${fixtures}${name}`, 'utf8'));

interface Request {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
}

function restV1({ method, path, query = {}, headers = {}, body, base64 }: Request) {
  const event = load('apigw-rest-v1-request.json');
  const allHeaders = { ...event.headers, ...headers };
  return {
    ...event,
    httpMethod: method,
    path, // REST API stages deliver the path without the stage prefix
    resource: '/{proxy+}',
    pathParameters: { proxy: path.slice(1) },
    headers: allHeaders,
    multiValueHeaders: Object.fromEntries(Object.entries(allHeaders).map(([k, v]) => [k, [v]])),
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(query).length
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    requestContext: { ...event.requestContext, httpMethod: method, path: `/${event.requestContext.stage}${path}` },
    body: body ?? null,
    isBase64Encoded: base64 ?? false,
  };
}

function v2(fixture: string, { method, path, query = {}, headers = {}, body, base64 }: Request) {
  const event = load(fixture);
  const rawQueryString = new URLSearchParams(query).toString();
  return {
    ...event,
    routeKey: '$default',
    rawPath: path,
    rawQueryString,
    cookies: undefined,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    headers: { ...event.headers, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) },
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method, path } },
    body,
    isBase64Encoded: base64 ?? false,
  };
}

const frontDoors = {
  'REST API v1 (stage testStage)': restV1,
  'HTTP API v2 ($default)': (r: Request) => v2('apigw-http-v2-request.json', r),
  'Function URL': (r: Request) => v2('lambda-function-url-request.json', r),
};

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;
let projectId: string;
let ownerPu: string;

beforeAll(async () => {
  org = await newOrg(t, 'Lambda');
  const project = await org.project('Lambda');
  projectId = project._id;
  ownerPu = project.ownerProjectUserId;
});

type LambdaResult = { statusCode: number; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]>; body: string; isBase64Encoded?: boolean };
const invoke = (event: unknown) => (handler as unknown as (e: unknown, c: unknown) => Promise<LambdaResult>)(event, {});
const header = (res: LambdaResult, name: string) =>
  res.headers?.[name.toLowerCase()] ?? res.multiValueHeaders?.[name.toLowerCase()]?.[0];
const bodyOf = (res: LambdaResult) => JSON.parse(res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString() : res.body);

describe.each(Object.entries(frontDoors))('Lambda entry via %s', (_name, build) => {
  it('GET /health without a key', async () => {
    const res = await invoke(build({ method: 'GET', path: '/health' }));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ status: 'ok' });
  });

  it('401 problem with WWW-Authenticate without a key', async () => {
    const res = await invoke(build({ method: 'GET', path: `/api/projects/${projectId}/users` }));
    expect(res.statusCode).toBe(401);
    expect(header(res, 'content-type')).toBe('application/problem+json');
    expect(header(res, 'www-authenticate')).toBe('Bearer');
  });

  it('lists project users with query parameters', async () => {
    const res = await invoke(
      build({ method: 'GET', path: `/api/projects/${projectId}/users`, query: { limit: '1' }, headers: { Authorization: `Bearer ${org.adminKey}` } }),
    );
    expect(res.statusCode).toBe(200);
    const body = bodyOf(res);
    expect(body.data.map((u: { _id: string }) => u._id)).toEqual([ownerPu]);
  });

  // A GET or HEAD has no body (fetch refuses to build one): the body is ignored, as `npm start`'s
  // server ignores it, instead of the adapter's plain-text 400.
  it('ignores a body sent with a GET or HEAD', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await invoke(
        build({ method, path: `/api/projects/${projectId}/users`, query: { limit: '1' }, headers: { Authorization: `Bearer ${org.adminKey}` }, body: '{"x":1}' }),
      );
      expect(res.statusCode, method).toBe(200);
      expect(header(res, 'x-request-id'), method).toBeTruthy();
      if (method === 'GET') expect(bodyOf(res).data.map((u: { _id: string }) => u._id)).toEqual([ownerPu]);
    }
  });

  it('adds a user from a JSON body and from a base64 body, with Location and ETag', async () => {
    for (const base64 of [false, true]) {
      const userId = await org.user();
      const json = JSON.stringify({ _id: userId, roles: ['editor'] });
      const res = await invoke(
        build({
          method: 'POST',
          path: `/api/projects/${projectId}/users`,
          headers: { Authorization: `Bearer ${org.adminKey}`, 'Content-Type': 'application/json' },
          body: base64 ? Buffer.from(json).toString('base64') : json,
          base64,
        }),
      );
      expect(res.statusCode, `base64=${base64}`).toBe(201);
      const body = bodyOf(res);
      expect(body).toMatchObject({ userId, roles: ['editor'] });
      expect(header(res, 'location')).toBe(`/api/projects/${projectId}/users/${body._id}`);
      expect(header(res, 'etag')).toBe('"1"');
    }
  });

  it('404 problem for an unknown route', async () => {
    const res = await invoke(build({ method: 'GET', path: '/nope' }));
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).code).toBe('not_found');
  });

  // Never a 500, never plain text: what the adapter cannot read is a 400 problem, and nothing is written.
  it('a body flagged base64 that is not, or a text body with a lone surrogate, is a 400 problem and writes nothing', async () => {
    const before = bodyOf(await invoke(build({ method: 'GET', path: '/api/projects', headers: { Authorization: `Bearer ${org.adminKey}` } }))).data.length;
    for (const [label, body, base64] of [
      ['JSON flagged base64', '{"name":"x"}', true],
      ['base64url', Buffer.from('{"name":"x>?"}').toString('base64url'), true],
      ['lone surrogate', '{"name":"lone\ud800x"}', false],
    ] as const) {
      const res = await invoke(
        build({ method: 'POST', path: '/api/projects', headers: { Authorization: `Bearer ${org.adminKey}`, 'Content-Type': 'application/json' }, body, base64 }),
      );
      expect([label, res.statusCode, header(res, 'content-type')]).toEqual([label, 400, 'application/problem+json']);
      expect(bodyOf(res).code, label).toBe('malformed_json');
    }
    const after = bodyOf(await invoke(build({ method: 'GET', path: '/api/projects', headers: { Authorization: `Bearer ${org.adminKey}` } }))).data.length;
    expect(after).toBe(before);
  });

  // Regression: the adapter percent-encoded a non-ASCII header value, so `Idempotency-Key: clé-1`
  // arrived as the valid `cl%C3%A9-1` and was accepted, where npm start (and app.request) refuse it.
  it('a non-ASCII Idempotency-Key is the 400 npm start answers, after authentication, and writes nothing', async () => {
    const list = async () => bodyOf(await invoke(build({ method: 'GET', path: '/api/projects', headers: { Authorization: `Bearer ${org.adminKey}` } }))).data.length;
    const before = await list();
    const send = { 'Content-Type': 'application/json', 'Idempotency-Key': 'clé-1' };
    const body = JSON.stringify({ name: 'Idempotent' });
    for (const authorization of [{ Authorization: `Bearer ${org.adminKey}` }, {}] as Record<string, string>[]) {
      const headers = { ...send, ...authorization };
      const viaLambda = await invoke(build({ method: 'POST', path: '/api/projects', headers, body }));
      const viaApp = await t.app.request('/api/projects', { method: 'POST', headers, body });
      const expected = (await viaApp.json()) as { status: number; code: string; detail: string };
      expect(expected.status).toBe('Authorization' in authorization ? 400 : 401);
      expect([viaLambda.statusCode, bodyOf(viaLambda).code, bodyOf(viaLambda).detail]).toEqual([expected.status, expected.code, expected.detail]);
    }
    expect(await list()).toBe(before);
  });

  it('a request the adapter cannot build (invalid method, header value) is a 400 problem, not plain text', async () => {
    for (const request of [
      { method: 'G ET', path: '/health' },
      { method: 'GET', path: '/health', headers: { 'X-Broken': 'a\r\nb' } },
    ]) {
      const res = await invoke(build(request));
      expect([res.statusCode, header(res, 'content-type')], JSON.stringify(request)).toEqual([400, 'application/problem+json']);
      expect(bodyOf(res).status).toBe(400);
    }
  });

  it('a ? or # in a decoded path stays in the path: the route sees an ID it refuses, never the one before it', async () => {
    const auth = { Authorization: `Bearer ${org.adminKey}` };
    for (const suffix of ['#', '#/x', '?x=1', '\t', '\n', '\r\n', '/x/..', '/./']) {
      const res = await invoke(build({ method: 'GET', path: `/api/projects/${projectId}/users/${ownerPu}${suffix}`, headers: auth }));
      expect(res.statusCode, suffix).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, suffix).toBeLessThan(500);
    }
    const filtered = await invoke(build({ method: 'GET', path: `/api/projects/${projectId}/users#`, query: { role: 'editor' }, headers: auth }));
    expect(filtered.statusCode).toBe(404);
    // A backslash is not a slash, a dot segment does not climb to another resource.
    for (const path of [`/api/projects\\${projectId}`, `/api/projects/prj_nope/../${projectId}`, `/api/projects/x/%2e%2e/${projectId}`]) {
      const res = await invoke(build({ method: 'GET', path, headers: auth }));
      expect([path, res.statusCode]).toEqual([path, 404]);
    }
  });

  it('a body that is not a string, or a lone surrogate in a query parameter, is a 400 problem, never a 500', async () => {
    const auth = { Authorization: `Bearer ${org.adminKey}`, 'Content-Type': 'application/json' };
    for (const body of [12345, { name: 'x' }]) {
      const event = { ...build({ method: 'POST', path: '/api/projects', headers: auth }), body, isBase64Encoded: true };
      const res = await invoke(event);
      expect([res.statusCode, header(res, 'content-type')]).toEqual([400, 'application/problem+json']);
    }
    const res = await invoke(build({ method: 'GET', path: `/api/projects/${projectId}/users`, query: { tag: 'a\ud800' }, headers: auth }));
    expect([res.statusCode, header(res, 'content-type')]).toEqual([400, 'application/problem+json']);
  });
});

describe('Lambda entry, not an HTTP event', () => {
  it('null or a string is a 400 problem, not a rejected promise', async () => {
    for (const event of [null, 'GET /health']) {
      const res = await invoke(event);
      expect([res.statusCode, header(res, 'content-type')]).toEqual([400, 'application/problem+json']);
    }
  });
});
