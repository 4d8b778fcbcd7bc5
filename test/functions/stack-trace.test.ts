import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readableStack } from '../../functions/stack-trace.js';

/**
 * The stack of a logged error, mapped through the map beside a bundle. The bundle itself is
 * test/infra/lambda-bundle.test.ts's; here, a hand-written map with the cases a map may hold.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'stack-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bundleWithMap(mappings: string): string {
  const sub = mkdtempSync(path.join(dir, 'b-'));
  const file = path.join(sub, 'index.mjs');
  writeFileSync(file, '');
  // Sources relative to the bundle's folder, as esbuild writes them.
  writeFileSync(`${file}.map`, JSON.stringify({ version: 3, sources: ['../../functions/store/table.ts'], names: [], mappings }));
  return file;
}

const errorAt = (frames: string[]) => Object.assign(new Error('boom'), { stack: ['Error: boom', ...frames].join('\n') });

describe('readableStack', () => {
  it('maps a bundled frame, as a file URL or a path, to its source file, line and column', () => {
    // Generated column 0 of line 1 is line 3, column 5 of the source; column 10 is line 4, column 1.
    const file = bundleWithMap('AAEK,UACJ');
    const stack = readableStack(errorAt([`    at HP (${pathToFileURL(file).href}:1:1)`, `    at async ${file}:1:11`]));
    expect(stack.split('\n')).toEqual(['Error: boom', '    at HP (functions/store/table.ts:3:6)', '    at async functions/store/table.ts:4:2']);
  });

  it('leaves a frame on a segment that names no source as it is, and logs the rest', () => {
    // Columns 0 and 5 are mapped; column 4 is a segment with a generated column alone.
    const file = bundleWithMap('AAAA,I,CAAC');
    const frames = [`    at a (${file}:1:5)`, `    at b (${file}:1:6)`];
    expect(readableStack(errorAt(frames)).split('\n')).toEqual(['Error: boom', frames[0], '    at b (functions/store/table.ts:1:2)']);
  });

  it('leaves frames of files without a map, and non-errors, as they are', () => {
    const frames = ['    at c (/nowhere/index.mjs:1:2)', '    at d (node:internal/process/task_queues:95:5)'];
    expect(readableStack(errorAt(frames))).toBe(['Error: boom', ...frames].join('\n'));
    expect(readableStack('plain text')).toBe('plain text');
  });
});
