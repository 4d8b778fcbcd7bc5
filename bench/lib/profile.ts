import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Attributes a `node --cpu-prof` profile of a bundle to npm packages: each sampled frame in the
 * bundle is mapped back through the bundle's source map (a minimal VLQ decoder, no dependency)
 * to its source file, and self time is summed per package.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Per generated line: sorted [generatedColumn, sourceIndex] pairs. */
function decodeMappings(mappings: string): [number, number][][] {
  const lines: [number, number][][] = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segments: [number, number][] = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = B64_INDEX.get(char)!;
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0]!;
      if (values.length >= 4) {
        source += values[1]!;
        segments.push([column, source]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

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

export function summarizeProfile(profileFile: string, bundleFile: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const map = JSON.parse(readFileSync(`${bundleFile}.map`, 'utf8')) as { sources: string[]; mappings: string };
  const lines = decodeMappings(map.mappings);
  const bundleName = bundleFile.split('/').pop()!;

  const categoryOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { url, lineNumber, columnNumber, functionName } = node.callFrame;
    let category: string;
    if (url.endsWith(bundleName)) {
      const segments = lines[lineNumber] ?? [];
      let found = -1;
      for (let lo = 0, hi = segments.length - 1; lo <= hi; ) {
        const mid = (lo + hi) >> 1;
        if (segments[mid]![0] <= columnNumber) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      category = found >= 0 ? packageOf(path.resolve(path.dirname(bundleFile), map.sources[segments[found]![1]]!)) : '(bundle top level)';
    } else if (url.startsWith('node:') || url.startsWith('internal')) {
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
  // Each sample counts for the median sampling interval: on a busy machine the process is sometimes
  // descheduled between two samples, and that wait would otherwise be charged to whatever ran last.
  const deltas = profile.timeDeltas.filter((d) => d > 0).sort((a, b) => a - b);
  const sampleMs = (deltas[Math.floor(deltas.length / 2)] ?? 0) / 1000;
  profile.samples.forEach((nodeId) => {
    const ms = sampleMs;
    totalMs += ms;
    const category = categoryOf.get(nodeId) ?? '?';
    totals.set(category, (totals.get(category) ?? 0) + ms);
  });
  return { selfMsByPackage: [...totals.entries()].sort((a, b) => b[1] - a[1]), totalMs };
}
