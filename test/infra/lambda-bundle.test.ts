import { fork } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, ESM_REQUIRE_BANNER, NODE_ARGS, PROJECT_ROOT, esbuildOptions } from '../../infra/bundling.js';
import { createCursorCodec, cursorKeyOf, openCursor, type CursorContent } from '../../functions/store/cursor.js';
import { createStageApp } from '../../infra/stage-app.js';
import { call, newOrg, testApp } from '../support/app.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';
import { startDelayProxy } from '../../bench/lib/delay-proxy.js';
import { FRONT_DOORS, invoke, json, type LambdaHandler } from '../support/aws-events.js';

/**
 * The Lambda bundle as Lambda runs it: built by esbuild with exactly the options the stack hands to
 * `NodejsFunction` (`infra/bundling.ts`), imported by Node's own ESM loader (not Vitest's transform:
 * the `require` trap only shows there), and invoked with each front door's event.
 */

// Under node_modules, Vitest externalizes the bundle: Node's own loader imports it, as on Lambda.
const cacheDir = path.join(PROJECT_ROOT, 'node_modules', '.cache');
mkdirSync(cacheDir, { recursive: true });
const outDir = mkdtempSync(path.join(cacheDir, 'lambda-bundle-test-'));
const nativeImport = (url: string) => import(/* @vite-ignore */ url) as Promise<Record<string, unknown>>;

interface Built {
  file: string;
  bytes: number;
  metafile: Metafile;
}

async function bundle(entry: string, name: string, overrides: Record<string, unknown> = {}): Promise<Built> {
  const file = path.join(outDir, name, 'index.mjs');
  const result = await build({ ...esbuildOptions(entry, file), metafile: true, ...overrides });
  return { file, bytes: statSync(file).size, metafile: result.metafile };
}

async function load(built: Built): Promise<LambdaHandler> {
  const mod = await nativeImport(pathToFileURL(built.file).href);
  expect(typeof mod.handler).toBe('function');
  return mod.handler as LambdaHandler;
}

let api: Built;
let apiHandler: LambdaHandler;
let probeHandler: LambdaHandler;

beforeAll(async () => {
  api = await bundle('functions/api.ts', 'api');
  console.info(`API bundle: ${api.bytes} bytes (${path.relative(outDir, api.file)})`);
  apiHandler = await load(api);
  probeHandler = await load(await bundle('test/infra/fixtures/probe-handler.ts', 'probe'));
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('API bundle', () => {
  it('is the same file the stack deploys (NodejsFunction with the same options)', () => {
    const { app, stack } = createStageApp('dev', { appProps: { builtinCloudFormationValidation: false } });
    const assembly = app.synth();
    // One asset per function; the API function's is the one its Code points at.
    const resources = Object.values(assembly.getStackByName(stack.stackName).template.Resources as Record<string, any>);
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(3);
    const assetDirOf = (fn: any) => `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`;
    const apiFunctions = functions.filter((f) => f.Properties.Description === 'Project Users HTTP API (dev)');
    expect(apiFunctions).toHaveLength(1);
    const apiDir = assetDirOf(apiFunctions[0]);
    const assetDirs = readdirSync(assembly.directory).filter((d) => d.startsWith('asset.'));
    expect(assetDirs.sort()).toEqual(functions.map(assetDirOf).sort());
    // The docs page's script ships beside the API bundle only.
    expect(assetDirs.filter((d) => existsSync(path.join(assembly.directory, d, 'scalar-standalone.js')))).toEqual([apiDir]);

    const deployed = readFileSync(path.join(assembly.directory, apiDir, 'index.mjs'));
    expect(deployed.equals(readFileSync(api.file))).toBe(true);
    // ... not inside it.
    const docsScript = readFileSync(path.join(assembly.directory, apiDir, 'scalar-standalone.js'));
    expect(docsScript.byteLength).toBeGreaterThan(1_000_000);
    expect(deployed.byteLength).toBeLessThan(docsScript.byteLength);
    // Every function's bundle is built with the same options: an ES module with the require banner.
    for (const dir of assetDirs) {
      expect(readFileSync(path.join(assembly.directory, dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER), dir).toBe(true);
    }
  });

  it('contains the AWS SDK and imports nothing but Node built-ins', () => {
    const inputs = Object.keys(api.metafile.inputs);
    expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true);
    expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/lib-dynamodb/'))).toBe(true);
    expect(inputs.some((i) => i.includes('node_modules/@aws-sdk/client-secrets-manager/'))).toBe(true);
    const imports = Object.values(api.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    const builtins = new Set(builtinModules);
    const foreign = imports.filter((p) => !(p.startsWith('node:') || builtins.has(p)));
    expect(foreign).toEqual([]);
  });

  it("leaves zod's translations out and still answers validation errors in English", async () => {
    // What ends up in the output (the metafile's inputs list every file read, shaken or not).
    const included = Object.entries(Object.entries(api.metafile.outputs).find(([file]) => file.endsWith('.mjs'))![1].inputs)
      .filter(([file, { bytesInOutput }]) => file.includes('node_modules/zod/') && bytesInOutput > 0);
    expect(included.some(([file]) => file.includes('/v4/classic/'))).toBe(true);
    expect(included.filter(([file]) => /\/locales\/(?!en\.js$)/.test(file)).map(([file]) => file)).toEqual([]);
    expect(included.reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0)).toBeLessThan(250_000);
    const org = await newOrg(testApp());
    const res = await invoke(apiHandler, FRONT_DOORS[0]!, {
      method: 'POST',
      path: '/api/projects',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${org.adminKey}` },
      body: JSON.stringify({ name: 42 }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(json(res))).toContain('expected string, received number');
  });

  it('is an ES module for node22 that defines require before anything else runs', () => {
    const code = readFileSync(api.file, 'utf8');
    expect(path.basename(api.file)).toBe('index.mjs');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(BUNDLE).toMatchObject({ format: 'esm', target: 'node22', minify: true, external: [] });
    expect(api.bytes).toBeLessThan(5 * 1024 * 1024);
  });

  it('needs the createRequire banner as soon as CommonJS code is bundled (the measured trap)', async () => {
    // Our bundle prefers packages' ESM builds, but esbuild's node default (`main` first) pulls in the
    // SDK's CommonJS builds, whose require("node:https") fails in an ESM bundle without `require`.
    const cjsFirst = { mainFields: ['main', 'module'] };
    const bare = await bundle('functions/api.ts', 'cjs-no-banner', { ...cjsFirst, banner: {} });
    await expect(nativeImport(pathToFileURL(bare.file).href)).rejects.toThrow(/Dynamic require of "node:[a-z/]+" is not supported/);
    const withBanner = await load(await bundle('functions/api.ts', 'cjs-banner', cjsFirst));
    const res = await invoke(withBanner, FRONT_DOORS[0]!, { method: 'GET', path: '/health' });
    expect(res.status).toBe(200);
  });

  it("logs an unhandled error's stack with its TypeScript files and lines, started with the stack's node flags", async () => {
    // A DynamoDB that answers every call with a body that is not JSON: the SDK's parse error is no
    // outage (not a 503), so the app answers 500 and logs the error with its stack.
    const garbage = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('<html>'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    try {
      const org = await newOrg(testApp());
      const event = FRONT_DOORS[0]!.toEvent({ method: 'GET', path: '/api/projects', headers: { authorization: `Bearer ${org.adminKey}` } });
      const eventFile = path.join(outDir, 'unhandled-error-event.json');
      writeFileSync(eventFile, JSON.stringify(event));
      // A fresh `node` with the flags every function starts with (infra/bundling.ts), as on Lambda:
      // nothing of the test runner's own source-map handling.
      const child = fork(path.join(PROJECT_ROOT, 'bench', 'cold-start-child.mjs'), [api.file, eventFile], {
        execArgv: [...NODE_ARGS],
        env: {
          PATH: process.env.PATH,
          TABLE_NAME: 'unreachable-table',
          AWS_REGION: 'us-east-1',
          DYNAMODB_ENDPOINT: `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`,
          CURSOR_SECRET: process.env.CURSOR_SECRET,
          LOG_FORMAT: 'json',
          METRICS: 'off',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      // Powertools writes ERROR records to stderr, the others to stdout.
      let logs = '';
      child.stdout!.on('data', (chunk) => (logs += chunk));
      child.stderr!.on('data', (chunk) => (logs += chunk));
      let result: { statusCode?: number } = {};
      child.on('message', (message) => (result = message as typeof result));
      // 'close': the process has exited and its output is all read.
      await new Promise((resolve) => child.on('close', resolve));
      expect(result.statusCode).toBe(500);
      const logged = logs
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level?: string; message?: string; error?: string })
        .find((entry) => entry.message === 'Unhandled error');
      expect(logged?.level).toBe('ERROR');
      // The store's own frame, where the call was made, by its file and line...
      expect(logged!.error).toMatch(/\bfunctions\/store\/table\.ts:\d+:\d+/);
      // ...and no frame left as a position in the minified bundle.
      expect(logged!.error).not.toMatch(/index\.mjs:\d+:\d+/);
    } finally {
      await new Promise((resolve) => garbage.close(resolve));
    }
  });
});

describe('API bundle on Lambda: the cursor secret', () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ProjectUsersdevCursorSecret-AbCdEf';
  // 64 letters and digits, the shape the stack's generated secret has.
  const SECRET = 'ColdStartCursorSecret0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
  let fake: FakeAws;
  let starts = 0;

  beforeAll(async () => {
    fake = await startFakeAws();
    fake.secrets[ARN] = SECRET;
  });
  afterAll(() => fake.close());

  /**
   * A cold start: a fresh copy of the API bundle (a new module instance) imported by Node with a
   * Lambda environment plus `vars`, without the tests' own CURSOR_SECRET. The import settles when
   * the bundle's top-level await has; the environment is restored afterwards.
   */
  async function coldStart(vars: Record<string, string>): Promise<LambdaHandler> {
    const dir = path.join(outDir, `cold-start-${++starts}`);
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(path.dirname(api.file))) copyFileSync(path.join(path.dirname(api.file), name), path.join(dir, name));
    const lambdaEnv: Record<string, string | undefined> = {
      AWS_LAMBDA_FUNCTION_NAME: 'ProjectUsers-dev-ApiFunction',
      METRICS: 'off',
      CURSOR_SECRET: undefined,
      ...vars,
    };
    const saved = Object.fromEntries(Object.keys(lambdaEnv).map((name) => [name, process.env[name]]));
    const apply = (values: Record<string, string | undefined>) => {
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
    apply(lambdaEnv);
    try {
      return await load({ ...api, file: path.join(dir, path.basename(api.file)) });
    } finally {
      apply(saved);
    }
  }

  it('reads CURSOR_SECRET_ARN from Secrets Manager once, and seals cursors with that secret', async () => {
    const before = fake.secretReads.length;
    const handler = await coldStart({ CURSOR_SECRET_ARN: ARN, SECRETS_MANAGER_ENDPOINT: fake.endpoint });

    const t = testApp(); // the tests' own CURSOR_SECRET
    const org = await newOrg(t, 'Cold start');
    for (const name of ['A', 'B', 'C']) await org.project(name);
    const list = (cursor?: string) =>
      invoke(handler, FRONT_DOORS[0]!, {
        method: 'GET',
        path: '/api/projects',
        query: [['limit', '1'], ...(cursor ? [['cursor', cursor] as [string, string]] : [])],
        headers: { authorization: `Bearer ${org.adminKey}` },
      });
    const seen: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const res = await list(cursor);
      expect(res.status).toBe(200);
      const body = json(res) as { data: { _id: string }[]; nextCursor: string | null };
      seen.push(...body.data.map((p) => p._id));
      if (page === 0) {
        // Sealed with the managed secret: it opens with it, and not with any other.
        const { l } = openCursor(cursorKeyOf(SECRET), body.nextCursor!) as CursorContent;
        expect(createCursorCodec(SECRET).decode(l, body.nextCursor!)).toBeTypeOf('object');
        expect(() => createCursorCodec(t.config.cursorSecret).decode(l, body.nextCursor!)).toThrow();
        const elsewhere = await call(t, 'GET', `/api/projects?limit=1&cursor=${encodeURIComponent(body.nextCursor!)}`, { key: org.adminKey });
        expect(elsewhere.status).toBe(400);
      }
      cursor = body.nextCursor ?? undefined;
      page++;
    } while (cursor && page < 10);
    expect(page).toBe(3);
    expect(new Set(seen).size).toBe(3);
    expect(fake.secretReads.slice(before)).toEqual([ARN]); // still one call after 3 requests
  });

  it('reads the secret beside the first request, which waits for it before answering', async () => {
    const t = testApp();
    const org = await newOrg(t, 'Secret beside');
    const project = await org.project('Beside');
    // Records the DynamoDB calls of the cold instance (no delay added).
    const dynamo = await startDelayProxy(t.config.dynamoEndpoint!);
    let release!: () => void;
    fake.holdSecrets = new Promise((resolve) => (release = resolve));
    try {
      const before = fake.secretReads.length;
      // The import does not wait for Secrets Manager (the answer is held)...
      const handler = await coldStart({ CURSOR_SECRET_ARN: ARN, SECRETS_MANAGER_ENDPOINT: fake.endpoint, DYNAMODB_ENDPOINT: dynamo.endpoint });
      const answer = invoke(handler, FRONT_DOORS[0]!, {
        method: 'GET',
        path: `/api/projects/${project._id}`,
        headers: { authorization: `Bearer ${org.adminKey}` },
      });
      let answered = false;
      void answer.then(() => (answered = true));
      await expect.poll(() => fake.secretReads.slice(before)).toEqual([ARN]);
      // ...nor does the request's own work (the key, then the project beside the key's org user,
      // all answered while the secret is held), but its answer does.
      await expect.poll(() => dynamo.calls.map((call) => call.op)).toEqual(expect.arrayContaining(['GetItem', 'BatchGetItem']));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answered).toBe(false);
      release();
      const res = await answer;
      expect(res.status).toBe(200);
      expect(json(res)).toMatchObject({ _id: project._id });
      expect(fake.secretReads.slice(before)).toEqual([ARN]);
    } finally {
      fake.holdSecrets = null;
      release();
      await dynamo.close();
    }
  });


  it('on Lambda without a secret the cold start fails; a secret that cannot be read is a 503 on every API request, read again by the next', async () => {
    const before = fake.secretReads.length;
    await expect(coldStart({})).rejects.toThrow(/^Missing CURSOR_SECRET_ARN/);
    expect(fake.secretReads.length).toBe(before);

    const late = `${ARN}-late`;
    const handler = await coldStart({ CURSOR_SECRET_ARN: late, SECRETS_MANAGER_ENDPOINT: fake.endpoint });
    const t = testApp();
    const org = await newOrg(t, 'Secret late');
    const project = await org.project('Late');
    const get = () =>
      invoke(handler, FRONT_DOORS[0]!, { method: 'GET', path: `/api/projects/${project._id}`, headers: { authorization: `Bearer ${org.adminKey}` } });
    const refused = await get();
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']?.[0]).toBe('1');
    expect(json(refused)).toMatchObject({ status: 503, code: 'service_unavailable' });
    // A write is refused before it is sent: nothing is created.
    const write = await invoke(handler, FRONT_DOORS[0]!, {
      method: 'POST',
      path: '/api/projects',
      headers: { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Never' }),
    });
    expect(write.status).toBe(503);
    const listed = await call(t, 'GET', '/api/projects', { key: org.adminKey });
    expect((listed.body as { data: { name: string }[] }).data.map((p) => p.name)).not.toContain('Never');
    // Liveness does not depend on it.
    expect((await invoke(handler, FRONT_DOORS[0]!, { method: 'GET', path: '/health' })).status).toBe(200);
    // Each request read it again; once it exists, the next request answers.
    const reads = fake.secretReads.filter((id) => id === late).length;
    expect(reads).toBeGreaterThanOrEqual(2);
    fake.secrets[late] = SECRET;
    expect((await get()).status).toBe(200);
    expect(fake.secretReads.filter((id) => id === late).length).toBe(reads + 1);
  });
});

describe.each(FRONT_DOORS)('API bundle behind $name', (door) => {
  it('GET /health: 200 JSON without touching DynamoDB', async () => {
    const res = await invoke(apiHandler, door, { method: 'GET', path: '/health' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']?.[0]).toMatch(/^application\/json/);
    expect(res.isBase64Encoded).toBe(false);
    expect(json(res)).toBeTypeOf('object');
  });

  it('GET /api/... without Authorization: 401 problem+json with WWW-Authenticate: Bearer', async () => {
    const res = await invoke(apiHandler, door, { method: 'GET', path: '/api/projects' });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']?.[0]).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']?.[0]).toMatch(/^Bearer/);
    expect(json(res)).toMatchObject({ status: 401 });
  });

  it('POST /api/... with a JSON body and a bad key: 401 problem+json', async () => {
    const res = await invoke(apiHandler, door, {
      method: 'POST',
      path: '/api/projects',
      headers: { 'content-type': 'application/json', authorization: 'Bearer puk_key_notasecret' },
      body: JSON.stringify({ name: 'Apollo' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']?.[0]).toMatch(/^application\/problem\+json/);
    expect(json(res)).toMatchObject({ status: 401 });
  });

  it('unknown route: 404', async () => {
    const res = await invoke(apiHandler, door, { method: 'GET', path: '/no-such-route' });
    expect(res.status).toBe(404);
  });
});

describe.each(FRONT_DOORS)('Lambda adapter (probe bundle, same options) behind $name', (door) => {
  it('sees method, path without any stage prefix, repeated query values, headers and cookies', async () => {
    const res = await invoke(probeHandler, door, {
      method: 'PATCH',
      path: '/echo/a/b',
      query: [
        ['tag', 'x'],
        ['tag', 'y'],
        ['limit', '5'],
      ],
      headers: { 'x-multi': ['one', 'two'], 'content-type': 'application/json' },
      cookies: ['c1=v1', 'c2=v2'],
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(200);
    const echo = json(res) as Record<string, any>;
    expect(echo.method).toBe('PATCH');
    expect(echo.path).toBe('/echo/a/b');
    expect(echo.query).toEqual({ tag: ['x', 'y'], limit: ['5'] });
    // Payload 1.0 repeats the header, payload 2.0 joins it with commas: both reach the app as one list.
    expect((echo.headers['x-multi'] as string).split(/,\s*/)).toEqual(['one', 'two']);
    expect(echo.headers.cookie).toBe('c1=v1; c2=v2');
    expect(JSON.parse(echo.text)).toEqual({ a: 1 });
  });

  it('decodes a base64 request body', async () => {
    const bytes = new Uint8Array([0, 1, 2, 128, 255]);
    const res = await invoke(probeHandler, door, {
      method: 'POST',
      path: '/echo/upload',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect((json(res) as { bytes: number[] }).bytes).toEqual([...bytes]);
  });

  it('returns status, every Set-Cookie and multi-value headers in the shape of its payload format', async () => {
    const res = await invoke(probeHandler, door, { method: 'GET', path: '/cookies' });
    expect(res.status).toBe(201);
    expect(res.cookies).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/; Secure']);
    expect(res.headers.vary?.join(', ').split(/,\s*/)).toEqual(['Accept', 'Authorization']);
    if (door.payload === '2.0') {
      expect(res.raw.cookies).toEqual(res.cookies);
      expect(res.raw.multiValueHeaders).toBeUndefined();
    } else {
      expect((res.raw.multiValueHeaders as Record<string, string[]>)['set-cookie']).toEqual(res.cookies);
    }
    expect(json(res)).toEqual({ ok: true });
  });

  it('returns a binary body base64-encoded', async () => {
    const res = await invoke(probeHandler, door, { method: 'GET', path: '/binary' });
    expect(res.status).toBe(200);
    expect(res.isBase64Encoded).toBe(true);
    expect([...res.body]).toEqual([0, 1, 2, 254, 255]);
  });
});
