/**
 * `node relative-source-map.mjs <project root> <map file>`: rewrites a bundle's source map so its
 * `sources` are relative to the project root (`functions/api.ts`, `node_modules/...`) instead of to
 * the folder esbuild wrote it in. That folder is under the checkout and the synth's `-o` directory,
 * so the map, and with it the asset hash, changed with both (infra/bundling.ts runs this after
 * bundling). Plain JavaScript: it runs in the bundling shell, outside the TypeScript toolchain.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [root, file] = process.argv.slice(2);
if (!root || !file) throw new Error('usage: relative-source-map.mjs <project root> <map file>');
const map = JSON.parse(readFileSync(file, 'utf8'));
const dir = path.dirname(file);
map.sources = map.sources.map((source) => path.relative(root, path.resolve(dir, source)).split(path.sep).join('/'));
delete map.sourceRoot;
writeFileSync(file, JSON.stringify(map));
