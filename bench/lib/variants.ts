import { build, type Plugin } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { esbuildOptions, PROJECT_ROOT } from '../../infra/bundling.js';
import { CACHE_DIR, type Bundle } from './bundles.js';

/**
 * What-if bundles of the API for the cold-start diagnosis (never deployed): the same entry and the
 * same esbuild options, with one dependency replaced by a stub, to measure what that dependency
 * costs at cold start.
 */
const stub = (name: string, filter: RegExp, contents: string, importer?: RegExp): Plugin => ({
  name,
  setup(b) {
    b.onResolve({ filter }, (args) =>
      importer && !importer.test(args.importer) ? undefined : { path: args.path, namespace: `stub-${name}` },
    );
    b.onLoad({ filter: /.*/, namespace: `stub-${name}` }, () => ({ contents, loader: 'js' }));
  },
});

/** Powertools Logger and Metrics, as if replaced by a few lines writing the same JSON / EMF lines. */
export const withoutPowertools = [
  stub('powertools-logger', /^@aws-lambda-powertools\/logger$/, 'export class Logger { info(){} error(){} addContext(){} }'),
  stub(
    'powertools-metrics',
    /^@aws-lambda-powertools\/metrics$/,
    "export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds' }; export class Metrics { addDimensions(){} addMetric(){} publishStoredMetrics(){} }",
  ),
];

/**
 * The API with no zod at all: `zod` and `@hono/zod-openapi` replaced by stubs (bench/lib/stubs/)
 * whose schemas accept anything, so nothing is validated and no schema is built. Not a working API:
 * the upper bound of what replacing zod on the request path (validators compiled ahead of time,
 * the document built at deploy time) could save at cold start.
 */
export const withoutZod: Plugin[] = [
  {
    name: 'without-zod',
    setup(b) {
      const stubs = path.join(PROJECT_ROOT, 'bench', 'lib', 'stubs');
      b.onResolve({ filter: /^zod(\/.*)?$/ }, () => ({ path: path.join(stubs, 'zod.mjs') }));
      b.onResolve({ filter: /^@hono\/zod-openapi$/ }, () => ({ path: path.join(stubs, 'zod-openapi.mjs') }));
    },
  },
];

/**
 * The API with only the cold request's router (project users): every other router of
 * `functions/http/routes/` replaced by an empty one. What lazily loaded routers could save at most.
 */
export function onlyRouter(kept: string): Plugin[] {
  const dir = path.join(PROJECT_ROOT, 'functions', 'http', 'routes');
  const exported = readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && file !== `${kept}.ts`)
    .flatMap((file) => [...readFileSync(path.join(dir, file), 'utf8').matchAll(/^export const (\w+Routes)\b/gm)].map((m) => m[1]!));
  // esbuild filters are Go regular expressions (no lookahead): the kept router is let through below.
  const routerImport = /^\.\/routes\/[a-z-]+\.js$/;
  return [
    {
      name: 'only-router',
      setup(b) {
        b.onResolve({ filter: routerImport }, (args) =>
          args.path === `./routes/${kept}.js` ? undefined : { path: args.path, namespace: 'empty-router' },
        );
        b.onLoad({ filter: /.*/, namespace: 'empty-router' }, () => ({
          contents: `import { OpenAPIHono } from '@hono/zod-openapi'; const empty = new OpenAPIHono(); export { ${exported.map((name) => `empty as ${name}`).join(', ')} };`,
          loader: 'js',
          resolveDir: PROJECT_ROOT,
        }));
      },
    },
  ];
}

/**
 * The baseline (bench/baseline-handler.ts) reading its item `count` times in a row: what the
 * sequential round trips of a cold first request cost before any feature is added.
 */
export const sequentialReads = (count: number) => ({ define: { BASELINE_SEQUENTIAL_READS: String(count) } });

export async function variantBundle(name: string, entry: string, plugins: Plugin[], options: { define?: Record<string, string> } = {}): Promise<Bundle> {
  const dir = path.join(CACHE_DIR, name);
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, 'index.mjs');
  const deployed = esbuildOptions(entry, outfile);
  await build({ ...deployed, plugins, define: { ...deployed.define, ...options.define } });
  return { name, entry, outfile, bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, byPackage: [] };
}
