import { build, type Metafile } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { esbuildOptions, PROJECT_ROOT } from '../../infra/bundling.js';

/** Where the bench builds its bundles (never shipped, never committed). */
export const CACHE_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'bench');

export interface Bundle {
  name: string;
  entry: string;
  outfile: string;
  bytes: number;
  mapBytes: number;
  /** Output bytes by npm package (or `(project)`), largest first. */
  byPackage: [string, number][];
}

/**
 * Bundles an entry with exactly the options the stack deploys with (`esbuildOptions` from
 * infra/bundling.ts); `metafile` only adds a report and changes no output byte.
 */
export async function bundle(name: string, entry: string): Promise<Bundle> {
  const dir = path.join(CACHE_DIR, name);
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, 'index.mjs');
  const result = await build({ ...esbuildOptions(entry, outfile), metafile: true });
  return { name, entry, outfile, bytes: statSync(outfile).size, mapBytes: statSync(`${outfile}.map`).size, byPackage: packages(result.metafile!) };
}

function packages(metafile: Metafile): [string, number][] {
  const totals: Record<string, number> = {};
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match ? match[1]! : '(project)';
      totals[name] = (totals[name] ?? 0) + bytesInOutput;
    }
  }
  return Object.entries(totals).sort((a, b) => b[1] - a[1]);
}
