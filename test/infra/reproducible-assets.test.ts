import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, AssetStaging, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { SOURCE_MAP_FILE } from '../../infra/bundling.js';
import { AppFunction } from '../../infra/constructs/app-function.js';

/**
 * A function's asset (what `cdk deploy` uploads and the template's S3Key names) depends only on
 * the code: not on the checkout path or the `-o` directory of the synth. One small function, the
 * same way every function is bundled (AppFunction), synthesized into two folders of different depth.
 */
const root = mkdtempSync(path.join(tmpdir(), 'reproducible-assets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function synthInto(outdir: string) {
  // A fresh bundling, not the hash the first synth cached in this process.
  AssetStaging.clearAssetHashCache();
  const app = new App({ outdir });
  const stack = new Stack(app, 'Reproducible');
  new AppFunction(stack, 'Fn', {
    entry: 'functions/events/publisher-handler.ts',
    memoryMb: 256,
    timeoutSeconds: 60,
    logRetention: RetentionDays.ONE_DAY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    tracing: false,
  });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, any> };
  const [fn] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const s3Key = String(fn.Properties.Code.S3Key);
  const map = JSON.parse(readFileSync(path.join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`, SOURCE_MAP_FILE), 'utf8'));
  return { s3Key, sources: map.sources as string[] };
}

describe('Lambda assets', () => {
  it('have the same hash whatever the output directory, with source map paths from the project root', () => {
    const shallow = synthInto(path.join(root, 'out'));
    const deep = synthInto(path.join(root, 'a', 'b', 'c', 'out'));
    expect(deep.s3Key).toBe(shallow.s3Key);
    expect(shallow.sources).toContain('functions/events/publisher-handler.ts');
    // Nothing of the build machine's layout: a logged stack reads `functions/...` (functions/stack-trace.ts).
    for (const source of shallow.sources) expect(source).toMatch(/^(functions|node_modules|infra)\//);
  });
});
