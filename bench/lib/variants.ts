import { build, type Plugin } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { esbuildOptions } from '../../infra/bundling.js';
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
  stub('powertools-logger', /^@aws-lambda-powertools\/logger$/, 'export class Logger { info(){} error(){} }'),
  stub(
    'powertools-metrics',
    /^@aws-lambda-powertools\/metrics$/,
    "export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds' }; export class Metrics { addDimensions(){} addMetric(){} publishStoredMetrics(){} }",
  ),
];

export async function variantBundle(name: string, entry: string, plugins: Plugin[]): Promise<Bundle> {
  const dir = path.join(CACHE_DIR, name);
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, 'index.mjs');
  await build({ ...esbuildOptions(entry, outfile), plugins });
  return { name, entry, outfile, bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, byPackage: [] };
}
