import { serve, type ServerType } from '@hono/node-server';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/dynamodb-local.js';
import { newOrg, testApp } from '../../support/app.js';

/**
 * A consumer's path: generate TypeScript types from the served /openapi.json with
 * openapi-typescript, write a scenario against them with openapi-fetch, type-check it under
 * `--strict` (0 diagnostics), then run it against the running server. Whatever the document gets
 * wrong for a typed client (a nullable that is not, a missing operation, an untyped error) fails
 * here, not in a consumer's build.
 *
 * The generated files live in node_modules/.cache/generated-client-*; a failed run leaves them
 * there (`npx tsc -p <dir>` reproduces the type check).
 */
const ROOT = new URL('../../../', import.meta.url).pathname;
const CACHE = join(ROOT, 'node_modules', '.cache');

/** The consumer's code: only what the generated types allow, nothing from this repository. */
const SCENARIO = `import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type ProjectUser = components['schemas']['ProjectUser'];
type Me = components['schemas']['Me'];
type Problem = components['schemas']['Problem'];

export interface Outcome {
  project: { status: number; id: string; ownerProjectUserId: string };
  user: { status: number; id: string };
  added: { status: number; location: string | null; etag: string | null; member: ProjectUser };
  listed: { status: number; ids: string[]; nextCursor: string | null };
  me: { status: number; type: 'apiKey'; scope: string; projectUserId: string | null; isOwner: boolean | null; permissions: string[] };
  patched: { status: number; roles: string[]; version: number };
  stale: { status: number; problem: Problem | undefined };
  duplicate: { status: number; problem: Problem | undefined };
  fetched: { status: number; roles: string[] };
}

/**
 * A typed error is a problem+json body, except a 429, which API Gateway answers with its own JSON
 * (\`{ message }\`, no \`code\`) when the document declares it: \`'code' in\` tells them apart.
 */
function isProblem<E extends object>(error: E): error is Extract<E, { code: unknown }> {
  return 'code' in error;
}

function problemOf<E extends object>(error: E | undefined): Extract<E, { code: unknown }> | undefined {
  return error !== undefined && isProblem(error) ? error : undefined;
}

function required<T>(value: T | undefined, what: string, response: Response): T {
  if (value === undefined) throw new Error(\`\${what}: HTTP \${response.status}\`);
  return value;
}

export async function scenario(baseUrl: string, adminKey: string): Promise<Outcome> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: \`Bearer \${adminKey}\` } });

  const created = await api.POST('/api/projects', { body: { name: 'Generated client project' } });
  const project = required(created.data, 'create project', created.response);

  const newUser = await api.POST('/api/users', { body: { name: 'Generated client user', orgRole: 'member' } });
  const user = required(newUser.data, 'create user', newUser.response);

  const path = { projectId: project._id };
  const add = await api.POST('/api/projects/{projectId}/users', {
    params: { path },
    body: { _id: user._id, roles: ['editor'], tags: ['generated'] },
  });
  const member: ProjectUser = required(add.data, 'add member', add.response);

  const list = await api.GET('/api/projects/{projectId}/users', { params: { path, query: { limit: 10, role: 'editor' } } });
  const page = required(list.data, 'list members', list.response);

  const meReply = await api.GET('/api/projects/{projectId}/users/me', { params: { path } });
  const me: Me = required(meReply.data, 'me', meReply.response);
  // SPEC §2: \`projectUser | null\` (null when the caller holds no membership here).
  const membership: ProjectUser | null = me.projectUser;

  const memberPath = { ...path, projectUserId: member._id };
  const etag = add.response.headers.get('ETag') ?? String(member.version);
  const patch = await api.PATCH('/api/projects/{projectId}/users/{projectUserId}', {
    params: { path: memberPath, header: { 'if-match': etag } },
    body: { roles: ['manager'] },
  });
  const patched = required(patch.data, 'patch roles', patch.response);

  // The same If-Match again is stale now: a typed 412 problem.
  const stale = await api.PATCH('/api/projects/{projectId}/users/{projectUserId}', {
    params: { path: memberPath, header: { 'if-match': etag } },
    body: { tags: [] },
  });
  // Adding the same org user again: a typed 409 problem, \`data\` absent.
  const duplicate = await api.POST('/api/projects/{projectId}/users', { params: { path }, body: { _id: user._id } });
  if (duplicate.data !== undefined) throw new Error('a second add returned data');
  const problem = problemOf(duplicate.error); // the 409's problem, typed by the document
  if (problem?.code !== 'already_member') throw new Error(\`a second add: \${duplicate.response.status} \${problem?.code}\`);

  const fetched = await api.GET('/api/projects/{projectId}/users/{projectUserId}', { params: { path: memberPath } });

  return {
    project: { status: created.response.status, id: project._id, ownerProjectUserId: project.ownerProjectUserId },
    user: { status: newUser.response.status, id: user._id },
    added: { status: add.response.status, location: add.response.headers.get('Location'), etag, member },
    listed: { status: list.response.status, ids: page.data.map((pu) => pu._id), nextCursor: page.nextCursor },
    me: {
      status: meReply.response.status,
      type: me.type,
      scope: me.key.scope,
      projectUserId: membership?._id ?? null,
      isOwner: membership?.isOwner ?? null,
      permissions: me.permissions,
    },
    patched: { status: patch.response.status, roles: patched.roles, version: patched.version },
    stale: { status: stale.response.status, problem: problemOf(stale.error) },
    duplicate: { status: duplicate.response.status, problem },
    fetched: { status: fetched.response.status, roles: required(fetched.data, 'get member', fetched.response).roles },
  };
}

/** Never called: what the types must refuse (an unused @ts-expect-error is a diagnostic too). */
export function refused(api: ReturnType<typeof createClient<paths>>, me: Me) {
  const projectId = 'prj_x';
  // openapi-fetch infers \`body\` generically (no excess-property check in the call), so the
  // request body type is checked on its own: an unknown field is refused.
  type AddBody = NonNullable<paths['/api/projects/{projectId}/users']['post']['requestBody']>['content']['application/json'];
  // @ts-expect-error an unknown body field
  const misspelt: AddBody = { _id: 'usr_x', role: 'editor' };
  // @ts-expect-error the path parameter is required
  void api.GET('/api/projects/{projectId}/users', {});
  // @ts-expect-error no PUT on a project user (the server answers 405)
  void api.PUT('/api/projects/{projectId}/users/{projectUserId}', { params: { path: { projectId, projectUserId: 'pu_x' } } });
  // @ts-expect-error no such path
  void api.GET('/api/nope');
  // @ts-expect-error roles are strings
  void api.PATCH('/api/projects/{projectId}/users/{projectUserId}', { params: { path: { projectId, projectUserId: 'pu_x' } }, body: { roles: [1] } });
  // @ts-expect-error \`type\` is the literal 'apiKey'
  const other: typeof me.type = 'session';
  const noMembership: Me['projectUser'] = null;
  return [misspelt, other, noMembership];
}
`;

const t = testApp();
let server: ServerType;
let base: string;
let dir: string;
let succeeded = false;

beforeAll(async () => {
  const port = await freePort();
  server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
  base = `http://127.0.0.1:${port}`;
  mkdirSync(CACHE, { recursive: true });
  dir = mkdtempSync(join(CACHE, 'generated-client-'));
});

afterAll(() => {
  server?.close();
  if (succeeded) rmSync(dir, { recursive: true, force: true });
  else if (dir) console.log(`generated client kept for inspection: ${dir}`);
});

/** The consumer's compiler settings: strict, ESM, Node's resolution (openapi-fetch from /work/main/node_modules). */
const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noUncheckedIndexedAccess: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: [],
    skipLibCheck: false,
    verbatimModuleSyntax: true,
    noEmitOnError: true,
    outDir: 'out',
  },
  files: ['scenario.ts'],
};

function compile(): { diagnostics: string; emitted: boolean } {
  const configPath = join(dir, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
  const all = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' };
  if (all.length > 0) return { diagnostics: ts.formatDiagnostics(all, host), emitted: false };
  const emit = program.emit();
  return { diagnostics: ts.formatDiagnostics(emit.diagnostics, host), emitted: !emit.emitSkipped };
}

describe('a client generated from /openapi.json', () => {
  it('generates, type-checks under --strict and runs the membership scenario against the server', async () => {
    const org = await newOrg(t, 'Generated client');

    // 1. Generate from the document as served.
    const served = await fetch(`${base}/openapi.json`);
    expect(served.status).toBe(200);
    const document = await served.json();
    const types = astToString(await openapiTS(document));
    expect(types).toContain('export interface paths');
    writeFileSync(join(dir, 'api.ts'), types);
    writeFileSync(join(dir, 'scenario.ts'), SCENARIO);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));

    // 2. Type-check: 0 diagnostics (the generated file included).
    const { diagnostics, emitted } = compile();
    expect(diagnostics).toBe('');
    expect(emitted).toBe(true);

    // 3. Run the compiled scenario against the server.
    const { scenario } = (await import(pathToFileURL(join(dir, 'out', 'scenario.js')).href)) as {
      scenario: (baseUrl: string, key: string) => Promise<any>;
    };
    const outcome = await scenario(base, org.adminKey);

    expect(outcome.project).toEqual({ status: 201, id: expect.stringMatching(/^prj_/), ownerProjectUserId: expect.stringMatching(/^pu_/) });
    expect(outcome.user).toEqual({ status: 201, id: expect.stringMatching(/^usr_/) });
    expect(outcome.added).toMatchObject({
      status: 201,
      location: `/api/projects/${outcome.project.id}/users/${outcome.added.member._id}`,
      etag: '"1"',
      member: { projectId: outcome.project.id, userId: outcome.user.id, roles: ['editor'], tags: ['generated'], isOwner: false, version: 1 },
    });
    expect(outcome.listed).toEqual({ status: 200, ids: [outcome.added.member._id], nextCursor: null });
    expect(outcome.me).toMatchObject({ status: 200, type: 'apiKey', scope: 'global', projectUserId: outcome.project.ownerProjectUserId, isOwner: true });
    expect(outcome.me.permissions).toContain('members:manage');
    expect(outcome.patched).toEqual({ status: 200, roles: ['manager'], version: 2 });
    expect(outcome.stale).toEqual({
      status: 412,
      problem: expect.objectContaining({ status: 412, code: 'precondition_failed', type: expect.stringContaining('/problems/precondition_failed') }),
    });
    expect(outcome.duplicate).toEqual({
      status: 409,
      problem: expect.objectContaining({ status: 409, code: 'already_member', title: 'Already a member', detail: expect.any(String) }),
    });
    expect(outcome.fetched).toEqual({ status: 200, roles: ['manager'] });
    succeeded = true;
  }, 120_000);
});
