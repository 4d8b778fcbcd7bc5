import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bundle, CACHE_DIR } from '../lib/bundles.js';
import { cpuMeter, findDynamoLocalPid } from '../lib/cpu.js';
import { httpLoad, type LoadResult } from '../lib/load.js';
import { STAGES, stagesOf, totalOf, type Stage } from '../lib/profile.js';
import type { ProfileRequest } from '../lib/window-profile.js';
import { seedMembers } from '../lib/seed.js';
import { fmt, fmtInt, markdownTable, mean, median, pass, round } from '../lib/stats.js';
import { DEPLOYED_NODE_ARGS } from './cold-start.js';
import { appFor, expectStatus, orgWithProject, TABLE_NAME, type World } from '../lib/world.js';
import { keys } from '../../functions/store/keys.js';

export interface ThroughputRow {
  route: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  limitCall: string;
  limitRps: number;
  limitP50: number;
  limitP99: number;
  ratio: number;
  pass: boolean;
  /** % of one core per process: during the limit run and during the API run. */
  cpu: { limit: Record<string, number>; api: Record<string, number> };
  cpuMsPerRequest?: { limit: Record<string, number>; api: Record<string, number> };
  /** The stack floor as an HTTP server doing the limit's own call (for the diagnosis). */
  floor?: { rps: number; p50: number; p99: number; ratio: number; cpu: Record<string, number> };
  /** CPU ms per request by stage, from profiles of a measured window: the API server, the SDK alone. */
  stages?: { api: Record<Stage, number>; limit: Record<Stage, number>; limitCall: string; floor?: Record<Stage, number> };
  /** The limit for the call the route really makes (for the diagnosis, not the target). */
  diagnosis?: { call: string; rps: number; p50: number; p99: number; ratio: number };
}

/** Resident set size of a process now and its peak so far (VmHWM), bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * The heap limits Lambda's Node.js runtime gives a function of `memoryMb` (its bootstrap runs node
 * with `--max-semi-space-size` = 5 % and `--max-old-space-size` = 90 % of the memory size), plus
 * the flags the stack starts every function with (infra/bundling.ts `NODE_ARGS`).
 */
export const lambdaNodeArgs = (memoryMb: number) => [
  `--max-semi-space-size=${Math.floor((memoryMb * 5) / 100)}`,
  `--max-old-space-size=${Math.floor((memoryMb * 90) / 100)}`,
  ...DEPLOYED_NODE_ARGS,
];

function startServer(world: World, file: string, execArgv: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(file, [], { env: world.childEnv(), execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, url: `http://127.0.0.1:${(m as { port: number }).port}` }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code}) before listening`)));
  });
}

/** Stops a bench server (it exits when its IPC channel closes) and waits until it has. */
async function stopServer(child: ChildProcess): Promise<void> {
  child.disconnect();
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
}

interface LimitResult extends LoadResult {
  /** % of one core used by DynamoDB Local and by the SDK process during the run. */
  cpu: Record<string, number>;
}

function runLimit(file: string, job: Record<string, unknown>, dynamoPid: number | null, execArgv: string[] = []): Promise<LimitResult> {
  return new Promise((resolve, reject) => {
    const child = fork(file, [], { env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const meter = cpuMeter({ 'DynamoDB Local': dynamoPid, 'SDK process': child.pid });
    child.once('message', (m) => resolve({ ...(m as Omit<LimitResult, 'cpu'>), cpu: meter() }));
    child.once('error', reject);
    child.send(job);
  });
}

/** How long a bench server may take to start or stop a profile (writing one takes well under this). */
const PROFILER_REPLY_MS = 60_000;

/** Sends a profile request to a bench server and waits for its answer; fails if the server dies or stays silent. */
function askProfiler(child: ChildProcess, request: ProfileRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.off('message', answered);
      child.off('exit', exited);
      if (error) reject(error);
      else resolve();
    };
    const answered = (message: unknown) => {
      if (typeof message !== 'object' || message === null) return;
      const reply = message as Partial<Record<'profiling' | 'profiled' | 'profileError', unknown>>;
      if ('profileError' in reply) done(new Error(`bench server could not ${request.profile} its profile: ${String(reply.profileError)}`));
      else if ('profiling' in reply || 'profiled' in reply) done();
    };
    const exited = (code: number | null) => done(new Error(`bench server exited (${code}) during a profile ${request.profile}`));
    const timer = setTimeout(() => done(new Error(`bench server did not answer a profile ${request.profile} in ${PROFILER_REPLY_MS} ms`)), PROFILER_REPLY_MS);
    child.on('message', answered);
    child.once('exit', exited);
    child.send(request);
  });
}

const roundStages = (stages: Record<Stage, number>) =>
  Object.fromEntries(Object.entries(stages).map(([stage, ms]) => [stage, round(ms, 3)])) as Record<Stage, number>;

/**
 * One column per process and route (the API server, the SDK alone, and the stack floor where it
 * was profiled): CPU ms per request in each stage, and their sums.
 */
function stagesTable(rows: ThroughputRow[]): string {
  const profiled = rows.filter((r) => r.stages);
  if (profiled.length === 0) return '';
  const columns = profiled.flatMap((r) => [
    { head: `\`${r.route}\`: API`, stages: r.stages!.api },
    { head: `SDK alone: ${r.stages!.limitCall}`, stages: r.stages!.limit },
    ...(r.stages!.floor ? [{ head: 'stack floor', stages: r.stages!.floor }] : []),
  ]);
  const stages = (Object.keys(STAGES) as Stage[]).filter((stage) => columns.some((c) => c.stages[stage] >= 0.005));
  const cell = (ms: number) => (ms >= 0.005 ? fmt(ms, 2) : '–');
  return markdownTable(
    ['stage (CPU ms per request)', ...columns.map((c) => c.head)],
    [
      ...stages.map((stage) => [STAGES[stage], ...columns.map((c) => cell(c.stages[stage]))]),
      ['**all**', ...columns.map((c) => `**${fmt(totalOf(c.stages), 2)}**`)],
    ],
    `l${'r'.repeat(columns.length)}`,
  );
}

/**
 * A route's load on a bench server: keep-alive connections opened by the warm-up and kept for every
 * measured run after it (bench/lib/load.ts says why), each run checked to have started on them all.
 */
function routeLoad(url: string, path: string, key: string, connections: number) {
  const load = httpLoad(url, connections);
  const headers = { authorization: `Bearer ${key}` };
  return {
    warmUp: (seconds: number) => load.run(path, headers, seconds),
    async measure(seconds: number): Promise<LoadResult> {
      const open = load.openConnections();
      if (open !== connections) throw new Error(`${open} of ${connections} connections open before a measured run of ${path}`);
      return load.run(path, headers, seconds);
    },
    close: () => load.close(),
  };
}

/**
 * The bundled API as an HTTP server (`node`, Lambda's environment defaults) under a closed-loop load, next
 * to the rate the same SDK reaches alone against the same DynamoDB Local with the same requests in
 * flight. The server's resident memory is sampled throughout; its peak is reported.
 */
/** The limit's own warm-up in each of its (fresh) processes, before the measured part. */
const LIMIT_WARMUP_SECONDS = 1;

/** Per-key mean of CPU readings (% of one core). */
const meanOf = (readings: Record<string, number>[]) =>
  Object.fromEntries(Object.keys(readings[0] ?? {}).map((k) => [k, Math.round(mean(readings.map((r) => r[k]!)))]));

export async function throughput(
  world: World,
  opts: { connections: number; seconds: number; rounds: number; warmupSeconds: number; profileSeconds: number },
) {
  const [server, limit, floorServer] = await Promise.all([
    bundle('server', 'bench/server.ts'),
    bundle('limit', 'bench/limit.ts'),
    bundle('stack-floor-server', 'bench/stack-floor-server.ts'),
  ]);
  const t = appFor(world.config);
  const fixture = await orgWithProject(t, 'throughput');
  const seeded = await seedMembers(world.raw, TABLE_NAME, { orgId: fixture.orgId, projectId: fixture.projectId, members: 100, spareUsers: 0 });
  const target = seeded.members[50]!.projectUserId;
  await expectStatus('fixture check', t, 'GET', `/api/projects/${fixture.projectId}/users/${target}`, 200, { key: fixture.adminKey });
  // A member with a read key: its reads go through its membership instead of the project.
  const memberUserId = await fixture.user({ name: 'Reader' });
  await fixture.member(fixture.projectId, memberUserId, ['viewer']);
  const memberKey = await fixture.key(memberUserId, 'read');
  await expectStatus('member fixture check', t, 'GET', `/api/projects/${fixture.projectId}/users/${target}`, 200, { key: memberKey });
  t.client.destroy();

  const dynamoPid = findDynamoLocalPid(world.dynamo.port);
  const nodeArgs = lambdaNodeArgs(128);
  const { child, url } = await startServer(world, server.outfile, nodeArgs);
  let peak = memoryOf(child.pid!).peak;
  let startupRss = memoryOf(child.pid!).rss;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(child.pid!).peak);
    } catch {
      /* exited */
    }
  }, 100);
  const puKey = keys.projectUser(fixture.projectId, target);
  const routes = [
    {
      // A global key reads the target alone: the same GetItem as the limit.
      route: 'GET /projects/:p/users/:pu (global key)',
      key: undefined as string | undefined,
      path: `/api/projects/${fixture.projectId}/users/${target}`,
      limitCall: '`GetCommand` (1 item)',
      job: { mode: 'get', key: puKey },
      diagnosis: undefined as undefined | { call: string; job: Record<string, unknown> },
    },
    {
      route: 'GET /projects/:p/users/:pu (member key)',
      key: memberKey,
      path: `/api/projects/${fixture.projectId}/users/${target}`,
      limitCall: '`GetCommand` (1 item)',
      job: { mode: 'get', key: puKey },
      /** A member key's read: one BatchGetItem of its membership and the target. */
      diagnosis: {
        call: '`BatchGetCommand` (the route\'s 2 keys: membership, target)',
        job: {
          mode: 'batch',
          keys: [keys.membership(fixture.projectId, memberUserId), puKey],
        },
      } as undefined | { call: string; job: Record<string, unknown> },
    },
    {
      route: 'GET /projects/:p/users?limit=50',
      key: undefined as string | undefined,
      path: `/api/projects/${fixture.projectId}/users?limit=50`,
      limitCall: '`QueryCommand` (`Limit` 51, as the store asks)',
      job: { mode: 'query', limit: 51 },
      diagnosis: undefined as undefined | { call: string; job: Record<string, unknown> },
    },
  ];
  const rows: ThroughputRow[] = [];
  const baseJob = {
    connections: opts.connections,
    tableName: TABLE_NAME,
    endpoint: world.dynamo.endpoint,
    projectId: fixture.projectId,
    limit: 51,
  };
  try {
    const first = await fetch(`${url}${routes[0]!.path}`, { headers: { authorization: `Bearer ${fixture.adminKey}` } });
    if (first.status !== 200) throw new Error(`bench server answered ${first.status}`);
    startupRss = memoryOf(child.pid!).rss;
    for (const r of routes) {
      const job = { ...baseJob, ...r.job };
      // Warm both (JIT of the server, the SDK and DynamoDB Local). Then the ceiling and the API in
      // alternating runs (limit, API, API, limit, ...): drift on the shared machine hits both, and the
      // ratio is the median of the paired runs' ratios.
      await runLimit(limit.outfile, { ...job, seconds: opts.warmupSeconds }, dynamoPid);
      const load = routeLoad(url, r.path, r.key ?? fixture.adminKey, opts.connections);
      await load.warmUp(opts.warmupSeconds);
      const slice = opts.seconds / opts.rounds;
      const ceilings: LimitResult[] = [];
      const runs: { result: LoadResult; cpu: Record<string, number> }[] = [];
      const measureApi = async () => {
        const meter = cpuMeter({ 'DynamoDB Local': dynamoPid, server: child.pid, 'load client': process.pid });
        const result = await load.measure(slice);
        runs.push({ result, cpu: meter() });
      };
      const measureLimit = async () => {
        ceilings.push(await runLimit(limit.outfile, { ...job, seconds: slice, warmupSeconds: LIMIT_WARMUP_SECONDS }, dynamoPid));
      };
      try {
        for (let i = 0; i < opts.rounds; i++) {
          if (i % 2 === 0) await measureLimit().then(measureApi);
          else await measureApi().then(measureLimit);
        }
      } finally {
        load.close();
      }
      const diagnosis = r.diagnosis
        ? await runLimit(limit.outfile, { ...baseJob, ...r.diagnosis.job, seconds: opts.seconds, warmupSeconds: LIMIT_WARMUP_SECONDS }, dynamoPid)
        : undefined;
      const apiRps = runs.map((run) => run.result.rps);
      const rps = mean(apiRps);
      const ceiling = {
        rps: mean(ceilings.map((c) => c.rps)),
        p50: median(ceilings.map((c) => c.p50)),
        p99: Math.max(...ceilings.map((c) => c.p99)),
        errors: ceilings.reduce((n, c) => n + c.errors, 0),
        cpu: meanOf(ceilings.map((c) => c.cpu)),
      };
      const apiCpu = meanOf(runs.map((run) => run.cpu));
      const errors = runs.reduce((n, run) => n + run.result.errors, 0);
      const ratio = round(median(apiRps.map((x, i) => x / ceilings[i]!.rps)), 2);
      rows.push({
        route: r.route,
        rps: round(rps, 0),
        p50: round(median(runs.map((run) => run.result.p50)), 1),
        p99: round(Math.max(...runs.map((run) => run.result.p99)), 1),
        requests: runs.reduce((n, run) => n + run.result.requests, 0),
        errors,
        limitCall: r.limitCall,
        limitRps: round(ceiling.rps, 0),
        limitP50: round(ceiling.p50, 1),
        limitP99: round(ceiling.p99, 1),
        ratio,
        pass: ratio >= 0.8 && errors === 0 && ceiling.errors === 0,
        cpu: { limit: ceiling.cpu, api: apiCpu },
        ...(diagnosis && r.diagnosis
          ? { diagnosis: { call: r.diagnosis.call, rps: round(diagnosis.rps, 0), p50: round(diagnosis.p50, 1), p99: round(diagnosis.p99, 1), ratio: round(rps / diagnosis.rps, 2) } }
          : {}),
      });
    }
  } finally {
    clearInterval(sampler);
    try {
      peak = Math.max(peak, memoryOf(child.pid!).peak);
    } catch {
      /* exited */
    }
    await stopServer(child);
  }

  // The stack floor on the first route: the limit's GetCommand behind one @hono/zod-openapi route.
  {
    const floor = await startServer(world, floorServer.outfile, nodeArgs);
    try {
      const r = routes[0]!;
      const load = routeLoad(floor.url, r.path, fixture.adminKey, opts.connections);
      try {
        await load.warmUp(opts.warmupSeconds);
        const meter = cpuMeter({ 'DynamoDB Local': dynamoPid, server: floor.child.pid, 'load client': process.pid });
        const result = await load.measure(opts.seconds);
        const cpu = meter();
        const row = rows[0]!;
        row.floor = { rps: round(result.rps, 0), p50: round(result.p50, 1), p99: round(result.p99, 1), ratio: round(result.rps / row.limitRps, 2), cpu };
      } finally {
        load.close();
      }
    } finally {
      await stopServer(floor.child);
    }
  }

  // Where each request's CPU goes: every route again, in a fresh server (so the profiler's own
  // memory stays out of the peak above), the measured window alone profiled, beside the limit's
  // measured run profiled the same way.
  if (opts.profileSeconds > 0) {
    const dir = path.join(CACHE_DIR, 'profiles', 'throughput');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    /** CPU ms per request by stage in a bench server (API or floor) on one route, warmed up first. */
    const profileServer = async (file: string, index: number, name: string) => {
      const r = routes[index]!;
      const key = r.key ?? fixture.adminKey;
      const profiled = await startServer(world, file, nodeArgs);
      const load = routeLoad(profiled.url, r.path, key, opts.connections);
      try {
        await load.warmUp(opts.warmupSeconds);
        const out = path.join(dir, `${index}-${name}.cpuprofile`);
        await askProfiler(profiled.child, { profile: 'start' });
        const result = await load.measure(opts.profileSeconds);
        await askProfiler(profiled.child, { profile: 'stop', file: out });
        if (result.errors > 0) throw new Error(`profiled run of ${r.route} (${name}): ${result.errors} failed requests`);
        return roundStages(stagesOf(out, file, result.requests));
      } finally {
        load.close();
        await stopServer(profiled.child);
      }
    };
    for (const [index, r] of routes.entries()) {
      const api = await profileServer(server.outfile, index, 'api');
      // Alone, the call the route really makes (the member key's BatchGetItem), in a process with
      // the server's node flags, so that both sides collect garbage under the same heap limits.
      const call = r.diagnosis ?? { call: r.limitCall, job: r.job };
      const limitFile = path.join(dir, `${index}-limit.cpuprofile`);
      const job = { ...baseJob, ...call.job, seconds: opts.profileSeconds, warmupSeconds: LIMIT_WARMUP_SECONDS, profileFile: limitFile };
      const alone = await runLimit(limit.outfile, job, dynamoPid, nodeArgs);
      if (alone.errors > 0) throw new Error(`profiled SDK-alone run of ${r.route}: ${alone.errors} errors`);
      rows[index]!.stages = {
        api,
        limit: roundStages(stagesOf(limitFile, limit.outfile, alone.requests)),
        limitCall: call.call,
        // The floor makes the first route's call (the limit's GetCommand) and no other.
        ...(index === 0 ? { floor: await profileServer(floorServer.outfile, index, 'floor') } : {}),
      };
    }
  }

  const peakMb = round(peak / 2 ** 20, 1);
  const memory = { nodeArgs, peakRssMb: peakMb, idleRssMb: round(startupRss / 2 ** 20, 1), targetMb: 128, pass: peakMb <= 128 };
  const markdown = markdownTable(
    ['route', 'req/s', 'p50 (ms)', 'p99 (ms)', 'errors', 'limit: same SDK call alone', 'limit req/s', 'limit p50 / p99 (ms)', 'ratio (target ≥ 0.8)'],
    rows.map((r) => [
      `\`${r.route}\``,
      fmtInt(r.rps),
      fmt(r.p50, 0),
      fmt(r.p99, 0),
      r.errors,
      r.limitCall,
      fmtInt(r.limitRps),
      `${fmt(r.limitP50)} / ${fmt(r.limitP99)}`,
      `${fmt(r.ratio, 2)} ${pass(r.pass)}`,
    ]),
    'lrrrrlrrl',
  );
  const memoryMarkdown = markdownTable(
    ['server process', 'RSS (MB)', 'target'],
    [
      ['after start-up and one request', fmt(memory.idleRssMb), ''],
      [`peak during the throughput runs (VmHWM), node \`${nodeArgs.join(' ')}\``, `**${fmt(memory.peakRssMb)}**`, `≤ 128 MB ${pass(memory.pass)}`],
    ],
    'lrl',
  );
  /** CPU milliseconds per request of each process: what a saturated machine divides its cores by. */
  const perRequest = (cpu: Record<string, number>, rps: number) =>
    Object.fromEntries(Object.entries(cpu).map(([k, percent]) => [k, round((percent * 10) / rps, 2)]));
  for (const r of rows) {
    r.cpuMsPerRequest = { limit: perRequest(r.cpu.limit, r.limitRps), api: perRequest(r.cpu.api, r.rps) };
  }
  const cpuText = (cpu: Record<string, number>, ms: Record<string, number>) =>
    Object.entries(cpu)
      .map(([k, v]) => `${k} ${v} % (${fmt(ms[k], 2)} ms/request)`)
      .join(', ');
  const cpuMarkdown = rows
    .map(
      (r) =>
        `- CPU during \`${r.route}\` (% of one core; CPU ms per request): SDK alone: ${cpuText(r.cpu.limit, r.cpuMsPerRequest!.limit)}; API: ${cpuText(r.cpu.api, r.cpuMsPerRequest!.api)}.`,
    )
    .join('\n');
  const diagnosisMarkdown = rows
    .filter((r) => r.diagnosis)
    .map(
      (r) =>
        `- \`${r.route}\` sends one ${r.diagnosis!.call}: alone, that call reaches ${fmtInt(r.diagnosis!.rps)} req/s (p50 ${fmt(r.diagnosis!.p50)} ms); the API is at ${fmt(r.diagnosis!.ratio, 2)} of it.`,
    )
    .concat(
      rows
        .filter((r) => r.floor)
        .map(
          (r) =>
            `- The *stack floor* as a server ([\`bench/stack-floor-server.ts\`](stack-floor-server.ts): the limit's own \`GetCommand\` behind one \`@hono/zod-openapi\` route with Powertools, no project code) on \`${r.route}\`: ${fmtInt(r.floor!.rps)} req/s (p50 ${fmt(r.floor!.p50)} ms, p99 ${fmt(r.floor!.p99)} ms) = **${fmt(r.floor!.ratio, 2)}** of the SDK alone; CPU: ${Object.entries(r.floor!.cpu).map(([k, v]) => `${k} ${v} %`).join(', ')}.`,
        ),
    )
    .concat(cpuMarkdown ? [cpuMarkdown] : [])
    .join('\n');
  return { rows, memory, markdown, memoryMarkdown, diagnosisMarkdown, stagesMarkdown: stagesTable(rows) };
}
