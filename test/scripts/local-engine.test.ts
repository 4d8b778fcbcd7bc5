/**
 * The local engine (issue 11, finding 8): `npm start` never attaches to an engine it did not start,
 * DynamoDB Local listens on loopback only, and the admin CLI says which endpoint it could not reach.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startLocalDynamo, type LocalDynamo } from '../../scripts/dynamodb-local.js';

const execFileAsync = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const tsx = join(root, 'node_modules/.bin/tsx');

// Everything a test starts is stopped in teardown, whatever the outcome.
const children = new Set<ChildProcess>();
const engines = new Set<LocalDynamo>();
const listeners = new Set<Server>();

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
  children.clear();
  await Promise.all([...engines].map((engine) => engine.stop()));
  engines.clear();
  await Promise.all([...listeners].map((server) => new Promise((resolve) => server.close(resolve))));
  listeners.clear();
});

/**
 * Runs a script to completion (or until `timeoutMs`), with the given environment on top of ours;
 * `undefined` removes a variable (the test worker sets TABLE_NAME and DYNAMODB_ENDPOINT for itself).
 */
function runScript(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  const child = spawn(tsx, args, {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n[test] still running after ${timeoutMs} ms; killed`;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setTimeout(() => resolve({ code, stdout, stderr }), 50);
    });
  });
}

/** Another program on the DynamoDB port: answers any HTTP request (as any server would) and records it. */
async function otherListener(port: number, host: string) {
  const requests: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'not yours' }));
    });
  });
  server.on('connection', () => connections++);
  listeners.add(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { requests, connections: () => connections };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

describe('npm start on a taken DynamoDB port', () => {
  // On loopback like DynamoDB Local now, or on every interface like any other server (and like it used to).
  const title = 'held on %s: refuses, names the port and how to pick another, exits non-zero, sends nothing there';
  it.each(['127.0.0.1', '0.0.0.0'])(title, async (host) => {
    const dynamoPort = await freePort();
    const other = await otherListener(dynamoPort, host);
    const apiPort = await freePort();

    const result = await runScript(['scripts/start.ts', '--in-memory'], {
      PORT: String(apiPort),
      DYNAMODB_LOCAL_PORT: String(dynamoPort),
      DYNAMODB_ENDPOINT: undefined,
      TABLE_NAME: undefined,
    });
    const output = result.stdout + result.stderr;

    expect(result.code, output).not.toBe(0);
    expect(result.code, output).not.toBeNull();
    expect(output).toContain(String(dynamoPort));
    expect(output).toMatch(/DYNAMODB_LOCAL_PORT=\d+ PORT=\d+ npm start -- --in-memory/);
    expect(output).not.toContain('Existing data reused');
    expect(output).not.toContain('API key:');
    expect(output).not.toMatch(/^\s+at /m); // a message, not a stack trace
    // Not one request reached the other program: no probe, no DescribeTable, no writes.
    expect(other.requests.map((r) => `${r.method} ${r.headers['x-amz-target'] ?? r.url}`)).toEqual([]);
    // Nor did the API start.
    expect(await canConnect('127.0.0.1', apiPort)).toBe(false);
  }, 90_000);
});

describe('DynamoDB Local from startLocalDynamo', () => {
  it('listens on 127.0.0.1 only', async () => {
    const engine = await startLocalDynamo({ dataDir: null });
    engines.add(engine);
    expect(engine.endpoint).toBe(`http://127.0.0.1:${engine.port}`);
    expect(await canConnect('127.0.0.1', engine.port)).toBe(true);

    // What the kernel says: every listening socket on the engine's port is bound to 127.0.0.1.
    const ss = await execFileAsync('ss', ['-Hltn', `sport = :${engine.port}`]).catch(() => null);
    if (ss) {
      const localAddresses = ss.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.trim().split(/\s+/)[3]);
      expect(localAddresses).toHaveLength(1);
      expect([`127.0.0.1:${engine.port}`, `[::ffff:127.0.0.1]:${engine.port}`]).toContain(localAddresses[0]);
    }

    // And from the outside: the machine's other addresses do not answer on that port.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && (a.family === 'IPv4' || (a.family === 'IPv6' && !a.address.startsWith('fe80'))))
      .map((a) => a!.address);
    for (const address of [...others, '::1']) {
      expect(await canConnect(address, engine.port), `${address}:${engine.port} should refuse`).toBe(false);
    }
    if (!others.some((a) => a.includes('.'))) console.warn('No non-loopback IPv4 address on this machine; only ss and ::1 checked.');
  }, 60_000);
});

describe('npm run admin against an unreachable engine', () => {
  // revoke-key with an unknown key only reads, so even a wrong engine would not be written to.
  const command = ['scripts/admin.ts', 'revoke-key', '--key', 'key_0000000000zzzzzzzzzzzzzzzz'];

  it('with --endpoint: exits non-zero, names the endpoint, no stack trace', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const result = await runScript([...command, '--endpoint', endpoint], { DYNAMODB_ENDPOINT: undefined, TABLE_NAME: undefined });
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.code, result.stderr).not.toBeNull();
    expect(result.stderr).toContain(endpoint);
    expect(result.stderr).toMatch(/--endpoint|DYNAMODB_ENDPOINT/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
  }, 60_000);

  it('finds the engine by DYNAMODB_LOCAL_PORT, as npm start does, and names it when unreachable', async () => {
    const port = await freePort();
    const result = await runScript(command, { DYNAMODB_LOCAL_PORT: String(port), DYNAMODB_ENDPOINT: undefined, TABLE_NAME: undefined });
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.code, result.stderr).not.toBeNull();
    expect(result.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(result.stderr).toContain('DYNAMODB_LOCAL_PORT');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
