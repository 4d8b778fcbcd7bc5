import { createConfig, lintFromString, type NormalizedProblem } from '@redocly/openapi-core';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from '../../../functions/http/problem.js';
import { testApp } from '../../support/app.js';

/**
 * The OpenAPI document as code generators and readers use it: Redocly's `recommended` ruleset
 * finds nothing, and every operation is named, described and illustrated (examples for every
 * request body, every success and every error it can answer).
 */

const t = testApp();
let source: string;
let doc: Doc;

interface Media {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}
interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, Media>;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; schema?: { pattern?: string; maxLength?: number } }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
}
interface Doc {
  info: { license?: { name: string; url?: string; identifier?: string }; contact?: object };
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { headers?: Record<string, unknown>; schemas: Record<string, unknown> };
}

beforeAll(async () => {
  const res = await t.app.request('/openapi.json');
  expect(res.status).toBe(200);
  source = await res.text();
  doc = JSON.parse(source);
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, method, path, operation })),
  );

const hasExample = (media: Media) => media.example !== undefined || Object.keys(media.examples ?? {}).length > 0;
const exampleValues = (media: Media) =>
  media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value);

const show = (problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[]) =>
  problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`);

describe("Redocly's recommended ruleset", () => {
  it('finds no problem (@redocly/openapi-core lintFromString)', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems: NormalizedProblem[] = await lintFromString({ source, absoluteRef: join(tmpdir(), 'openapi.json'), config });
    expect(show(problems)).toEqual([]);
  });

  it('finds no problem with the Redocly CLI of the devDependencies (`redocly lint --extends recommended`)', async () => {
    const cli = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js');
    const dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, source);
      const run = await promisify(execFile)(process.execPath, [cli, 'lint', '--extends', 'recommended', '--format', 'json', file], {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
        maxBuffer: 64 * 1024 * 1024,
      }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
      const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: Parameters<typeof show>[0] };
      expect(show(report.problems)).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('for code generators and readers', () => {
  it('names every operation once (camelCase operationId) and gives it a summary and a description', () => {
    const ids = operations().map(({ where, operation }) => {
      expect(operation.operationId, where).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(operation.summary?.trim(), where).toBeTruthy();
      expect(operation.description?.trim(), where).toBeTruthy();
      return operation.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(
      [
        'listProjectUsers', 'getMe', 'getProjectUser', 'addProjectUser', 'updateProjectUser', 'removeProjectUser',
        'transferOwnership', 'listAudit', 'check', 'listProjects', 'createProject', 'getProject', 'listUsers',
        'createUser', 'getUser', 'deleteUser', 'listKeys', 'getKey', 'createKey', 'revokeKey', 'listPermissions',
        'createPermission', 'getPermission', 'deletePermission', 'listRoles', 'createRole', 'getRole', 'updateRole',
        'deleteRole', 'getHealth',
      ].sort(),
    );
  });

  it('shows an example of every request body and of every success response', () => {
    for (const { where, operation } of operations()) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        expect(hasExample(media), `${where} request ${type}`).toBe(true);
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!status.startsWith('2')) continue;
        if (status === '204') {
          expect(response.content, `${where} ${status}`).toBeUndefined();
          continue;
        }
        expect(Object.keys(response.content ?? {}), `${where} ${status}`).not.toHaveLength(0);
        for (const [type, media] of Object.entries(response.content ?? {})) expect(hasExample(media), `${where} ${status} ${type}`).toBe(true);
      }
    }
  });

  it('shows an example of every error it documents, as the server writes it', () => {
    for (const { where, operation } of operations()) {
      const errorStatuses = Object.keys(operation.responses).filter((status) => Number(status) >= 400);
      expect(errorStatuses.some((s) => s.startsWith('4')), `${where} has a 4XX`).toBe(true);
      expect(errorStatuses, `${where}: API Gateway throttles every route`).toContain('429');
      for (const status of errorStatuses) {
        const content = operation.responses[status]!.content ?? {};
        expect(Object.keys(content), `${where} ${status}`).not.toHaveLength(0);
        for (const [type, media] of Object.entries(content)) {
          expect(hasExample(media), `${where} ${status} ${type}`).toBe(true);
          if (type !== 'application/problem+json') continue;
          for (const value of exampleValues(media) as { type: string; status: number; code: string; title: string; detail: string }[]) {
            expect(value.status, `${where} ${status}`).toBe(Number(status));
            expect(value.type, `${where} ${status}`).toBe(`${PROBLEM_TYPE_BASE}${value.code}`);
            expect(value.title && value.detail, `${where} ${status}`).toBeTruthy();
          }
        }
      }
    }
  });

  // Regression: every 409 said "already a member, owner protected, unknown role, role or permission
  // in use, built-in entry, e-mail taken, or changed concurrently", on key routes too.
  it("describes each route's 409 by the reasons that route gives, no other route's", () => {
    const conflicts = operations().filter(({ operation }) => operation.responses['409']);
    expect(conflicts.length).toBeGreaterThan(10);
    for (const { where, operation } of conflicts) {
      const { description, content } = operation.responses['409']!;
      const details = (exampleValues(content!['application/problem+json']!) as { detail: string }[]).map((v) => v.detail);
      expect(description.split('\n').slice(1), where).toEqual([...new Set(details)].map((detail) => `- ${detail}`));
    }
    const revoke = doc.paths['/api/keys/{keyId}']!.delete!.responses['409']!.description;
    expect(revoke).not.toMatch(/member|owner|role|e-mail/);
    const add = doc.paths['/api/projects/{projectId}/users']!.post!.responses['409']!.description;
    expect(add).toMatch(/already a member/);
    expect(add).toMatch(/expired membership/);
  });

  it('documents the headers: X-Request-Id everywhere the API answers, WWW-Authenticate, Retry-After, Location, ETag, Idempotent-Replayed', () => {
    expect(doc.components.headers).toHaveProperty('X-Request-Id');
    for (const { where, method, operation } of operations()) {
      const idempotent = operation.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key') ?? false;
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = Object.keys(response.headers ?? {});
        // API Gateway's own 429 never reaches the function, which sets X-Request-Id.
        if (status !== '429') expect(headers, `${where} ${status}`).toContain('X-Request-Id');
        if (status === '401') expect(headers, `${where} ${status}`).toContain('WWW-Authenticate');
        if (status === '503') expect(headers, `${where} ${status}`).toContain('Retry-After');
        if (status === '201') expect(headers, `${where} ${status}`).toContain('Location');
        if (idempotent && status.startsWith('2')) expect(headers, `${where} ${status}`).toContain('Idempotent-Replayed');
        if (method === 'get' && status === '200' && /\}$/.test(where) && !where.includes('/api/permissions/')) {
          expect(headers, `${where}: a single resource carries its version`).toContain('ETag');
        }
      }
    }
  });

  it('declares the Idempotency-Key the server accepts (printable ASCII, at most 255 characters)', () => {
    for (const { where, operation } of operations()) {
      const key = operation.parameters?.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      if (!key) continue;
      expect(key.schema?.pattern, where).toBeDefined();
      const pattern = new RegExp(key.schema!.pattern!);
      expect(pattern.test('add-ann-1'), where).toBe(true);
      expect(pattern.test('bad key with spaces'), where).toBe(false);
      expect(pattern.test('x'.repeat(256)), where).toBe(false);
    }
  });

  it('declares its tags, servers, license and contact; /health needs no key', () => {
    const declared = new Map((doc.tags ?? []).map((tag) => [tag.name, tag.description]));
    for (const { where, operation } of operations()) {
      for (const tag of operation.tags ?? []) expect(declared.get(tag), `${where} tag ${tag}`).toBeTruthy();
    }
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license?.name).toBeTruthy();
    expect(doc.info.contact).toBeDefined();
    expect(doc.paths['/health']!.get!.security).toEqual([]);
  });

  it('writes a nullable reference as anyOf [ref, null], never as allOf with a nullable object (which forbids null)', () => {
    const wrong: string[] = [];
    const visit = (node: unknown, at: string) => {
      if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      const allOf = (node as { allOf?: { type?: unknown }[] }).allOf;
      if (allOf?.some((part) => part.type === 'null' || (Array.isArray(part.type) && part.type.includes('null')))) wrong.push(at);
      for (const [key, value] of Object.entries(node)) visit(value, `${at}/${key}`);
    };
    visit(doc, '#');
    expect(wrong).toEqual([]);
    const me = doc.paths['/api/projects/{projectId}/users/me']!.get!.responses['200']!;
    expect(me.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Me' });
    expect((doc.components.schemas.Me as { properties: Record<string, unknown> }).properties.projectUser).toMatchObject({
      anyOf: [{ $ref: '#/components/schemas/ProjectUser' }, { type: 'null' }],
    });
  });
});
