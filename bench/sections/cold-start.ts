import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_ARGS } from '../../infra/bundling.js';
import { bundle, CACHE_DIR, type Bundle } from '../lib/bundles.js';
import { summarizeProfile } from '../lib/profile.js';
import { onlyRouter, sequentialReads, variantBundle, withoutPowertools, withoutZod } from '../lib/variants.js';
import { fmt, kb, markdownTable, median, pass, round } from '../lib/stats.js';
import { appFor, orgWithProject, type World } from '../lib/world.js';
import { FRONT_DOORS } from '../../test/support/aws-events.js';
import { startFakeAws } from '../../test/support/fake-aws.js';

const CHILD = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'cold-start-child.mjs');

/** The node flags every function starts with, as the stack sets them (none). */
export const DEPLOYED_NODE_ARGS = [...NODE_ARGS];

/** What the stack set before: Node mapping stack traces itself, which parses the whole map at start-up. */
const SOURCE_MAP_ARGS = ['--enable-source-maps'];

interface Sample {
  importMs: number;
  firstRequestMs: number;
  totalMs: number;
  processMs: number;
  statusCode: number;
  rssBytes: number;
}

function runChild(world: World, bundleFile: string, eventFile: string, execArgv: string[], env: NodeJS.ProcessEnv = {}): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = fork(CHILD, [bundleFile, eventFile], {
      env: { ...world.childEnv(), ...env },
      execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let sample: Omit<Sample, 'processMs'> | undefined;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('message', (m) => (sample = m as Sample));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!sample) return reject(new Error(`cold-start child exited ${code} without a result: ${stderr.slice(0, 500)}`));
      if (sample.statusCode !== 200) return reject(new Error(`cold-start request answered ${sample.statusCode}`));
      resolve({ ...sample, processMs: performance.now() - started });
    });
  });
}

export interface ColdStartFigures {
  importMs: number;
  firstRequestMs: number;
  totalMs: number;
  processMs: number;
  rssMb: number;
}

/** The what-if rows, by what they change. */
export type WhatIfId = 'lambda' | 'twoReads' | 'floor' | 'noPowertools' | 'oneRouter' | 'noZod' | 'allThree';

export interface ColdStartResult {
  samples: number;
  nodeArgs: string[];
  bundles: Record<'api' | 'baseline' | 'floor', { file: string; bytes: number; mapBytes: number; topPackages: [string, number][] }>;
  /** As deployed (the stack's node flags), and with `--enable-source-maps` as the stack set before. */
  deployed: { api: ColdStartFigures; baseline: ColdStartFigures; ratio: number };
  sourceMaps: { api: ColdStartFigures; baseline: ColdStartFigures; ratio: number };
  /** Diagnosis only: builds of the API with one dependency stubbed out (never deployed). */
  whatIf: (ColdStartFigures & { id: WhatIfId; name: string; bytes: number; ratio: number })[];
  target: number;
  pass: boolean;
  profile: {
    extraSelfMsByPackage: [string, number][];
    extraOverFloorMsByPackage: [string, number][];
    api: [string, number][];
    baseline: [string, number][];
    floor: [string, number][];
  };
}

export async function coldStart(world: World, samples: number): Promise<{ result: ColdStartResult; markdown: string }> {
  const api = await bundle('api', 'functions/api.ts');
  const baseline = await bundle('baseline', 'bench/baseline-handler.ts');
  // For the diagnosis: the baseline's route on this project's libraries, and the API without Powertools.
  const floor = await bundle('stack-floor', 'bench/stack-floor-handler.ts');
  // The baseline with a second round trip after its first: the two a cold first request may make.
  const twoReads = await variantBundle('baseline-two-reads', 'bench/baseline-handler.ts', [], sequentialReads(2));
  const noPowertools = await variantBundle('api-without-powertools', 'functions/api.ts', withoutPowertools);
  const oneRouter = await variantBundle('api-one-router', 'functions/api.ts', onlyRouter('project-users'));
  const noZod = await variantBundle('api-without-zod', 'functions/api.ts', withoutZod);
  // The three directions at once: what all of them together could save, since each alone is far off.
  const allThree = await variantBundle('api-without-all-three', 'functions/api.ts', [...withoutZod, ...withoutPowertools, ...onlyRouter('project-users')]);
  const setup = appFor(world.config);
  const fixture = await orgWithProject(setup, 'cold start');
  setup.client.destroy();
  // AWS's sample HTTP API (payload 2.0) event, as the tests build it (test/support/aws-events.ts).
  const httpApi = FRONT_DOORS.find((door) => door.name.startsWith('HTTP API'));
  if (!httpApi) throw new Error('no HTTP API front door in test/support/aws-events.ts');
  const event = httpApi.toEvent({
    method: 'GET',
    path: `/api/projects/${fixture.projectId}/users/${fixture.ownerPu}`,
    headers: { Authorization: `Bearer ${fixture.adminKey}` },
  });
  const eventFile = path.join(CACHE_DIR, 'cold-start-event.json');
  writeFileSync(eventFile, JSON.stringify(event));

  // On Lambda the API also reads its cursor secret from Secrets Manager, beside the first request
  // (functions/config.ts loadConfig): here from a local stand-in speaking its wire protocol (no TLS,
  // no network latency).
  const secretsManager = await startFakeAws();
  const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ProjectUsersbenchCursorSecret-AbCdEf';
  secretsManager.secrets[secretArn] = 'BenchCursorSecret'.padEnd(64, '0123456789');
  const onLambda = {
    AWS_LAMBDA_FUNCTION_NAME: 'ProjectUsers-bench-ApiFunction',
    CURSOR_SECRET_ARN: secretArn,
    SECRETS_MANAGER_ENDPOINT: secretsManager.endpoint,
  };
  const variants = [
    { name: 'deployed', args: DEPLOYED_NODE_ARGS, env: {} },
    { name: 'sourceMaps', args: SOURCE_MAP_ARGS, env: {} },
    { name: 'lambda', args: DEPLOYED_NODE_ARGS, env: onLambda },
  ] as const;
  const runs: { bundle: Bundle; variant: (typeof variants)[number] }[] = [];
  for (const variant of variants.slice(0, 2)) for (const b of [api, baseline]) runs.push({ bundle: b, variant });
  runs.push({ bundle: api, variant: variants[2] });
  for (const b of [twoReads, floor, noPowertools, oneRouter, noZod, allThree]) runs.push({ bundle: b, variant: variants[0] });
  const results = new Map<string, Sample[]>();
  try {
    // Warm the OS file cache and DynamoDB Local; then rotate the order, so drift hits all alike.
    for (const r of runs) await runChild(world, r.bundle.outfile, eventFile, r.variant.args, r.variant.env);
    for (let i = 0; i < samples; i++) {
      const order = runs.map((_, j) => runs[(j + i) % runs.length]!);
      for (const r of order) {
        const key = `${r.variant.name}/${r.bundle.name}`;
        results.set(key, [...(results.get(key) ?? []), await runChild(world, r.bundle.outfile, eventFile, r.variant.args, r.variant.env)]);
      }
    }
    if (secretsManager.secretReads.length !== samples + 1) throw new Error(`expected ${samples + 1} cursor secret reads, saw ${secretsManager.secretReads.length}`);
  } finally {
    await secretsManager.close();
  }
  const figures = (key: string): ColdStartFigures => {
    const s = results.get(key)!;
    const m = (f: (x: Sample) => number) => round(median(s.map(f)));
    return { importMs: m((x) => x.importMs), firstRequestMs: m((x) => x.firstRequestMs), totalMs: m((x) => x.totalMs), processMs: m((x) => x.processMs), rssMb: round(median(s.map((x) => x.rssBytes)) / 2 ** 20) };
  };
  const pair = (variant: string) => {
    const a = figures(`${variant}/api`);
    const b = figures(`${variant}/baseline`);
    return { api: a, baseline: b, ratio: round(a.totalMs / b.totalMs, 2) };
  };

  // CPU profiles (100 µs sampling) of each, as deployed, attributed to packages through the source map.
  const profDir = path.join(CACHE_DIR, 'profiles');
  rmSync(profDir, { recursive: true, force: true });
  const profiles: Record<string, [string, number][]> = {};
  const profileRuns = 5;
  for (const b of [api, baseline, floor]) {
    const dir = path.join(profDir, b.name);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < profileRuns; i++) {
      await runChild(world, b.outfile, eventFile, [...DEPLOYED_NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100']);
    }
    const perPackage = new Map<string, number>();
    for (const file of readdirSync(dir)) {
      for (const [name, ms] of summarizeProfile(path.join(dir, file), b.outfile).selfMsByPackage) {
        perPackage.set(name, (perPackage.get(name) ?? 0) + ms / profileRuns);
      }
    }
    profiles[b.name] = [...perPackage.entries()].sort((x, y) => y[1] - x[1]).map(([n, ms]) => [n, round(ms, 1)]);
  }
  const extraOver = (reference: [string, number][]) => {
    const byName = new Map(reference);
    const names = new Set([...profiles.api!, ...reference].map(([name]) => name).filter((name) => name !== '(idle)'));
    const apiByName = new Map(profiles.api);
    return [...names]
      .map((name) => [name, round((apiByName.get(name) ?? 0) - (byName.get(name) ?? 0), 1)] as [string, number])
      .sort((a, b) => b[1] - a[1]);
  };
  const extra = extraOver(profiles.baseline!);
  const extraOverFloor = extraOver(profiles['stack-floor']!);

  const target = 1.1;
  const deployed = pair('deployed');
  const sourceMaps = pair('sourceMaps');
  const lambda = figures(`lambda/${api.name}`);
  const whatIf = [
    {
      id: 'lambda' as WhatIfId,
      name: 'API as on Lambda: its cursor secret read beside the first request (`GetSecretValue`, from a local Secrets Manager stand-in: no TLS, no network latency)',
      bundle: api,
      figures: lambda,
    },
    {
      id: 'twoReads' as WhatIfId,
      name: 'baseline reading its item twice in a row: two sequential round trips, as the API\'s first request makes (key, then the route\'s items), and no feature',
      bundle: twoReads,
      figures: figures(`deployed/${twoReads.name}`),
    },
    {
      id: 'floor' as WhatIfId,
      name: 'stack floor: the baseline route on `@hono/zod-openapi` + Powertools, no project logic ([`bench/stack-floor-handler.ts`](stack-floor-handler.ts))',
      bundle: floor,
      figures: figures(`deployed/${floor.name}`),
    },
    { id: 'noPowertools' as WhatIfId, name: 'API without Powertools Logger/Metrics', bundle: noPowertools, figures: figures(`deployed/${noPowertools.name}`) },
    {
      id: 'oneRouter' as WhatIfId,
      name: 'API with only the cold request\'s router (the other 8 stubbed out): the most lazily loaded routers could save',
      bundle: oneRouter,
      figures: figures(`deployed/${oneRouter.name}`),
    },
    {
      id: 'noZod' as WhatIfId,
      name: 'API without zod: `zod` and `@hono/zod-openapi` stubbed out ([`bench/lib/stubs/`](lib/stubs/)), nothing validated: the most validators compiled ahead of time could save',
      bundle: noZod,
      figures: figures(`deployed/${noZod.name}`),
    },
    {
      id: 'allThree' as WhatIfId,
      name: 'API without zod, without Powertools and with only the cold request\'s router (the three rows above at once): the most all three directions together could save',
      bundle: allThree,
      figures: figures(`deployed/${allThree.name}`),
    },
  ].map((w) => ({ id: w.id, name: w.name, bytes: w.bundle.bytes, ...w.figures, ratio: round(w.figures.totalMs / deployed.baseline.totalMs, 2) }));
  const info = (b: Bundle) => ({
    file: path.relative(process.cwd(), b.outfile),
    bytes: b.bytes,
    mapBytes: b.mapBytes,
    topPackages: b.byPackage.slice(0, 10),
  });
  const result: ColdStartResult = {
    samples,
    nodeArgs: DEPLOYED_NODE_ARGS,
    bundles: { api: info(api), baseline: info(baseline), floor: info(floor) },
    deployed,
    sourceMaps,
    whatIf,
    target,
    pass: deployed.ratio <= target,
    profile: {
      extraSelfMsByPackage: extra.slice(0, 15),
      extraOverFloorMsByPackage: extraOverFloor.slice(0, 15),
      api: profiles.api!.slice(0, 20),
      baseline: profiles.baseline!.slice(0, 20),
      floor: profiles['stack-floor']!.slice(0, 20),
    },
  };
  const line = (label: string, bytes: string, f: ColdStartFigures, bold = true) => [
    label,
    bytes,
    fmt(f.importMs),
    fmt(f.firstRequestMs),
    bold ? `**${fmt(f.totalMs)}**` : fmt(f.totalMs),
    fmt(f.processMs),
    fmt(f.rssMb),
  ];
  const ratioLine = (label: string, v: typeof deployed, withTarget: boolean) => [
    label,
    '',
    `${fmt(v.api.importMs / v.baseline.importMs, 2)}×`,
    `${fmt(v.api.firstRequestMs / v.baseline.firstRequestMs, 2)}×`,
    withTarget ? `**${fmt(v.ratio, 2)}×** ${pass(v.ratio <= target)}` : `${fmt(v.ratio, 2)}×`,
    `${fmt(v.api.processMs / v.baseline.processMs, 2)}×`,
    '',
  ];
  const flags = DEPLOYED_NODE_ARGS.join(' ') || '(none)';
  const markdown = markdownTable(
    ['handler (node flags)', 'bundle (+ map)', 'import (ms)', 'first GET (ms)', 'import + GET (ms)', 'process wall (ms)', 'RSS (MB)'],
    [
      line(`API \`functions/api.ts\` (\`${flags}\`, as deployed)`, `${kb(api.bytes)} (+ ${kb(api.mapBytes)})`, deployed.api),
      line(`baseline, 1 route + 1 \`GetCommand\` (\`${flags}\`)`, `${kb(baseline.bytes)} (+ ${kb(baseline.mapBytes)})`, deployed.baseline),
      ratioLine(`API / baseline (target ≤ ${target}×)`, deployed, true),
      line(`API with \`${SOURCE_MAP_ARGS.join(' ')}\` (what the stack set before)`, '', sourceMaps.api, false),
      line(`baseline with \`${SOURCE_MAP_ARGS.join(' ')}\``, '', sourceMaps.baseline, false),
      ratioLine(`API / baseline, with \`${SOURCE_MAP_ARGS.join(' ')}\``, sourceMaps, false),
      ...whatIf.map((w) => [`*what-if:* ${w.name}`, kb(w.bytes), fmt(w.importMs), fmt(w.firstRequestMs), `${fmt(w.totalMs)} (${fmt(w.ratio, 2)}×)`, fmt(w.processMs), fmt(w.rssMb)]),
    ],
  );
  return { result, markdown };
}
