/**
 * `npm run bench`: cold start, round trips, flat cost at scale, throughput, memory and consumed
 * capacity, measured on this machine in one run against one in-memory DynamoDB Local. Prints each
 * section's table as it goes, writes bench/results.json and bench/PERFORMANCE.md (the one place
 * performance is documented; the README links to it). `--quick` shortens every section (for trying
 * the bench, not for figures; it writes under node_modules/.cache/bench instead).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from './lib/bundles.js';
import { renderReport, type BenchResults } from './lib/report.js';
import { round } from './lib/stats.js';
import { startWorld } from './lib/world.js';
import { capacity } from './sections/capacity.js';
import { coldStart } from './sections/cold-start.js';
import { roundTrips } from './sections/round-trips.js';
import { scale } from './sections/scale.js';
import { throughput } from './sections/throughput.js';

const quick = process.argv.includes('--quick');
const settings = quick
  ? { coldStartSamples: 4, roundTripSamples: 3, delayMs: 25, scaleSizes: [10, 1_000, 10_000], scaleSamples: 8, connections: 50, seconds: 6, rounds: 2, warmupSeconds: 2, profileSeconds: 3 }
  : { coldStartSamples: 21, roundTripSamples: 12, delayMs: 25, scaleSizes: [10, 1_000, 10_000], scaleSamples: 40, connections: 50, seconds: 20, rounds: 4, warmupSeconds: 3, profileSeconds: 8 };

const here = path.dirname(fileURLToPath(import.meta.url));
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const section = (title: string) => console.log(`\n## ${title}  (at ${elapsed()})\n`);
const loadBefore = os.loadavg();

console.log(`npm run bench${quick ? ' --quick' : ''}: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}`);
const world = await startWorld();
try {
  section('1. Cold start');
  const cold = await coldStart(world, settings.coldStartSamples);
  console.log(cold.markdown);
  console.log('\nExtra CPU self time in the API over the baseline, by package (ms):', cold.result.profile.extraSelfMsByPackage.slice(0, 8));

  section('2. Round trips');
  const trips = await roundTrips(world, settings.roundTripSamples, settings.delayMs);
  console.log(trips.markdown);

  section('3. Flat at scale');
  const flat = await scale(world, settings.scaleSizes, settings.scaleSamples);
  console.log(flat.markdown);
  console.log('\nSeeding:', flat.seeding.map((s) => `${s.members} members = ${s.items} items in ${s.seconds} s`).join('; '));

  section('4. Throughput and 5. memory');
  const load = await throughput(world, settings);
  console.log(load.markdown);
  console.log(`\n${load.diagnosisMarkdown}`);
  console.log(`\nCPU ms per request by stage (profiled window):\n${load.stagesMarkdown}`);
  console.log();
  console.log(load.memoryMarkdown);

  section('6. Consumed capacity');
  const cost = await capacity(world);
  console.log(cost.markdown);

  const results: BenchResults = {
    quick,
    date: new Date().toISOString(),
    durationSeconds: round((performance.now() - started) / 1000, 0),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverageBefore: loadBefore.map((x) => round(x, 2)),
      loadAverageAfter: os.loadavg().map((x) => round(x, 2)),
    },
    settings,
    method: {
      coldStart:
        'Fresh `node` process per sample (no tsx) with the node flags the stack starts functions with (infra/bundling.ts NODE_ARGS: none), and again with --enable-source-maps; bundles built by esbuildOptions() from infra/bundling.ts; import + first handler call with an API Gateway HTTP API v2 event (GET one project user, Bearer key); median; API, baseline (bench/baseline-handler.ts: one Hono route, one GetCommand) and what-if builds interleaved; LOG_FORMAT=json, METRICS=on, LOG_LEVEL=SILENT; --cpu-prof (100 µs) attributed to packages via the source map.',
      roundTrips:
        'In-process createApp() with KEY_CACHE_SECONDS=5 and a warm key cache, DynamoDB endpoint = local proxy adding a fixed delay per request and recording X-Amz-Target and timing; median latency with and without delay, interleaved; sequential = longest chain of non-overlapping requests; check and roles rows in an org with a custom permission and role.',
      scale:
        'Org with 50 custom permissions and 50 custom roles created through the API; members seeded with parallel BatchWriteItem in the store item shape, two in three holding a custom role (with its grant item); in-process app straight to DynamoDB Local; sizes interleaved each round; list pages of 5; middle cursor reached through the API; checks of 10 permissions about a custom-role holder, by user ID and by its key; SDK-only rows replay the list route DynamoDB calls without the app.',
      throughput:
        'bench/server.ts bundled like the Lambda and run by node with the heap limits Lambda sets for 128 MB; closed-loop keep-alive HTTP load in-process (bench/lib/load.ts: connections opened by the warm-up and kept for every measured slice); limit = bench/limit.ts (the same closed loop, createDocumentClient, same bundling) with the same concurrency against the same DynamoDB Local; CPU per process from /proc; peak RSS = VmHWM of the server.',
      capacity:
        'Store client with an SDK middleware setting ReturnConsumedCapacity=TOTAL and recording items; RCU/WCU modelled from item sizes per DynamoDB pricing (reads 0.5/1 per 4 KB per item, transactions 2 WCU per KB per item); DynamoDB Local figure kept as reported.',
    },
    coldStart: cold.result,
    roundTrips: trips.rows,
    scale: {
      sizes: settings.scaleSizes,
      samples: flat.samples,
      seeding: flat.seeding,
      customRoles: flat.customRoles,
      customPermissions: flat.customPermissions,
      rows: flat.rows,
    },
    throughput: { connections: settings.connections, seconds: settings.seconds, rounds: settings.rounds, profileSeconds: settings.profileSeconds, rows: load.rows },
    memory: load.memory,
    capacity: cost.rows,
  };
  const report = renderReport(results, {
    coldStart: cold.markdown,
    roundTrips: trips.markdown,
    scale: flat.markdown,
    throughput: `${load.markdown}\n\n${load.diagnosisMarkdown}`,
    stages: load.stagesMarkdown,
    memory: load.memoryMarkdown,
    capacity: cost.markdown,
  });
  // A quick run is for trying the bench: its figures never replace the recorded ones.
  const out = quick ? CACHE_DIR : here;
  const written = [path.join(out, quick ? 'results.quick.json' : 'results.json'), path.join(out, quick ? 'PERFORMANCE.quick.md' : 'PERFORMANCE.md')] as const;
  writeFileSync(written[0], `${JSON.stringify({ ...results, summary: report.summary }, null, 2)}\n`);
  writeFileSync(written[1], report.markdown);
  section('Summary');
  console.log(report.summaryMarkdown);
  console.log(`\nWrote ${written.map((file) => path.relative(process.cwd(), file)).join(' and ')} in ${elapsed()}.`);
} finally {
  await world.stop();
}
