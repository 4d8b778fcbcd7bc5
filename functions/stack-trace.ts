import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * An error's stack as a reader wants it in a log: each frame of a bundled file mapped back to its
 * source (`functions/store/table.ts:187:19`) through the `.map` esbuild writes beside the bundle
 * (infra/bundling.ts). The map is read when the first error is logged, not at start-up: Node's
 * `--enable-source-maps` parses it at every cold start (1.2 MB for the API: 30–45 ms of the
 * import, measured by `npm run bench`), to serve the rare unhandled error.
 * Frames of files without a map beside them (the tests, `npm start` through tsx) stay as they are.
 */
export function readableStack(error: unknown): string {
  const stack = error instanceof Error ? error.stack ?? String(error) : String(error);
  return stack.replace(FRAME, (frame, file: string, line: string, column: string) => {
    const origin = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    // A position before any mapping, or on a segment that names no source, stays as it is.
    if (!origin || !('originalSource' in origin) || !origin.originalSource) return frame;
    return `${readablePath(origin.originalSource)}:${origin.originalLine + 1}:${origin.originalColumn + 1}`;
  });
}

/** `file:///var/task/index.mjs:1:2345` or `/var/task/index.mjs:1:2345` in a stack frame. */
const FRAME = /((?:file:\/\/)?\/[^\s():]+\.[cm]?js):(\d+):(\d+)/g;

/** Per bundled file: its source map, or null when it has none (read once either way). */
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      const path = file.startsWith('file://') ? fileURLToPath(file) : file;
      map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/** A map's sources are relative to the bundle's folder: `../../functions/x.ts` reads `functions/x.ts`. */
function readablePath(source: string): string {
  return source.replace(/^(?:\.\.\/)+/, '');
}
