import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Attributes a `node --cpu-prof` profile of a bundle to npm packages: each sampled frame in the
 * bundle is mapped back through the bundle's source map (`node:module`'s `SourceMap`) to its
 * source file, and self time is summed per package.
 */

export function packageOf(sourcePath: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(sourcePath);
  if (match) return match[1]!;
  const project = /\/(functions|bench|scripts)\/[^/]+/.exec(sourcePath);
  return project ? `(project) ${project[0].slice(1)}` : sourcePath;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface ProfileSummary {
  /** Sampled time, ms, by package (or V8 category), largest first. */
  selfMsByPackage: [string, number][];
  /** Inclusive time of the top-level evaluation of each package's modules is not separable; see selfMs. */
  totalMs: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Maps a profile's frames in `bundleFile` back to their source files through the bundle's map. */
function frameSources(bundleFile: string) {
  const map = new SourceMap(JSON.parse(readFileSync(`${bundleFile}.map`, 'utf8')) as SourceMapPayload);
  const bundleUrl = pathToFileURL(path.resolve(bundleFile)).href;
  /** The frame's source file, '' when it is in the bundle but outside any mapped segment; null outside the bundle. */
  return ({ url, lineNumber, columnNumber }: ProfileNode['callFrame']): string | null => {
    if (url !== bundleUrl && url !== bundleFile) return null;
    const entry = map.findEntry(lineNumber, columnNumber);
    // findEntry falls back to an earlier line's last segment: a frame before its line's first one is unmapped.
    if (!('originalSource' in entry) || entry.generatedLine !== lineNumber || !entry.originalSource) return '';
    return path.resolve(path.dirname(bundleFile), entry.originalSource);
  };
}

/**
 * Each sample counts for the median sampling interval: on a busy machine the process is sometimes
 * descheduled between two samples, and that wait would otherwise be charged to whatever ran last.
 */
function sampleMsOf(profile: CpuProfile): number {
  const deltas = profile.timeDeltas.filter((d) => d > 0).sort((a, b) => a - b);
  return (deltas[Math.floor(deltas.length / 2)] ?? 0) / 1000;
}

export function summarizeProfile(profileFile: string, bundleFile: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const sourceOf = frameSources(bundleFile);

  const categoryOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame;
    const source = sourceOf(node.callFrame);
    let category: string;
    if (source !== null) category = source ? packageOf(source) : '(bundle top level)';
    else if (url.startsWith('node:') || url.startsWith('internal')) {
      if (functionName === 'compileSourceTextModule') category = '(V8 compiling the bundle)';
      else if (url.includes('source_map')) category = '(node: source maps)';
      else category = '(node built-ins)';
    }
    else if (url === '') category = functionName || '(native)';
    else category = url.replace(/^.*\//, '');
    categoryOf.set(node.id, category);
  }
  const totals = new Map<string, number>();
  let totalMs = 0;
  const sampleMs = sampleMsOf(profile);
  profile.samples.forEach((nodeId) => {
    totalMs += sampleMs;
    const category = categoryOf.get(nodeId) ?? '?';
    totals.set(category, (totals.get(category) ?? 0) + sampleMs);
  });
  return { selfMsByPackage: [...totals.entries()].sort((a, b) => b[1] - a[1]), totalMs };
}

/**
 * What a request's CPU time is spent on, by stage of the request's life. Each stage is known by
 * where its code lives: the npm package, or the project file (functions/…) that does that part.
 */
export const STAGES = {
  sdk: 'AWS SDK: the DynamoDB call (build, sign, send, parse, unmarshall)',
  node: 'Node.js from its event loop: incoming HTTP, socket reads, deferred socket writes, timers',
  gc: 'garbage collection',
  hono: 'Hono and its Node adapter: request, routing, context, headers, JSON body, response',
  validation: 'request validation (zod, `@hono/zod-openapi`)',
  observability: 'logging and metrics (Powertools, functions/http/observability.ts)',
  auth: 'key check (functions/http/auth.ts, domain/api-key.ts, store/api-keys.ts)',
  views: 'response shaping (functions/http/views.ts, etag.ts)',
  store: 'store: reads to records, cursors (functions/store/)',
  project: 'other project code: middleware, routes, permissions (functions/)',
  bench: 'the bench\'s own request loop (bench/)',
  v8: 'V8 and native code outside any JavaScript function (microtask queue, `(program)`)',
} as const;
export type Stage = keyof typeof STAGES;

/** A process's CPU ms per request over all its stages. */
export const totalOf = (stages: Record<Stage, number>) => Object.values(stages).reduce((n, ms) => n + ms, 0);

const PROJECT_FILE_STAGES: [RegExp, Stage][] = [
  [/\/functions\/http\/observability\.ts$/, 'observability'],
  [/\/functions\/(http\/auth|domain\/api-key|store\/api-keys)\.ts$/, 'auth'],
  [/\/functions\/http\/(views[\w-]*|etag)\.ts$/, 'views'],
  [/\/functions\/store\//, 'store'],
  [/\/functions\//, 'project'],
  [/\/bench\//, 'bench'],
];

function stageOfSource(source: string): Stage {
  // zod, as bundled: the alias that leaves its translations out (infra/bundling.ts).
  if (source.includes('/infra/bundle-shims/zod')) return 'validation';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
  if (pkg === undefined) return PROJECT_FILE_STAGES.find(([pattern]) => pattern.test(source))?.[1] ?? 'project';
  if (/^@(aws-sdk|smithy|aws-crypto|aws)\//.test(pkg) || ['tslib', 'fast-xml-parser', 'mnemonist', 'obliterator'].includes(pkg)) return 'sdk';
  if (pkg === 'hono' || pkg.startsWith('@hono/node-server')) return 'hono';
  if (pkg === 'zod' || pkg.startsWith('@hono/zod') || pkg === '@asteasolutions/zod-to-openapi') return 'validation';
  if (pkg.startsWith('@aws-lambda-powertools/')) return 'observability';
  return 'project';
}

/**
 * CPU ms per request by stage, from a profile of a window in which `requests` requests were
 * served. Node's own JavaScript (`node:*`) and native functions (a hash, `JSON.stringify`, a socket
 * write) count for the bundled code that called them: a key's SHA-256 is the key check's. What
 * runs from Node's event loop with no bundled code on the stack (parsing an incoming request,
 * reading a socket, a socket write Node deferred to the next tick, a timer) is Node's own; garbage
 * collection stands alone; idle time is left out.
 */
export function stagesOf(profileFile: string, bundleFile: string, requests: number): Record<Stage, number> {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const sourceOf = frameSources(bundleFile);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** The frame's stage, and whether it comes from bundled code (its own or a caller's). */
  const memo = new Map<number, [Stage | null, boolean]>();
  const stageOf = (id: number): [Stage | null, boolean] => {
    const known = memo.get(id);
    if (known) return known;
    const { callFrame } = byId.get(id)!;
    const { url, functionName } = callFrame;
    let result: [Stage | null, boolean];
    if (functionName === '(idle)' || functionName === '(root)') result = [null, false];
    else if (functionName === '(garbage collector)') result = ['gc', true];
    else if (functionName === '(program)') result = ['v8', true];
    else {
      const source = sourceOf(callFrame);
      if (source !== null) result = [source ? stageOfSource(source) : 'project', true];
      else {
        const parent = parentOf.get(id);
        const [callerStage, fromBundle] = parent === undefined ? [null, false] : stageOf(parent);
        const own: Stage = url.startsWith('node:') || url.startsWith('internal') || callerStage === 'node' ? 'node' : url === '' ? 'v8' : 'project';
        result = fromBundle && callerStage ? [callerStage, true] : [own, false];
      }
    }
    memo.set(id, result);
    return result;
  };
  const sampleMs = sampleMsOf(profile);
  const totals = Object.fromEntries(Object.keys(STAGES).map((stage) => [stage, 0])) as Record<Stage, number>;
  for (const id of profile.samples) {
    const [stage] = stageOf(id);
    if (stage) totals[stage] += sampleMs;
  }
  if (!(requests > 0)) throw new Error(`no request was served in the profiled window (${profileFile})`);
  return Object.fromEntries(Object.entries(totals).map(([stage, ms]) => [stage, ms / requests])) as Record<Stage, number>;
}
