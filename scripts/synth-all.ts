/**
 * `npm run synth`: `cdk synth` every stage of `infra/stages.ts`, offline, with the pinned CLI, each
 * into `cdk.out/<stage>`. cdk-nag runs inside every synth; any finding or error fails the run.
 *
 *   npm run synth              all stages
 *   npm run synth -- dev prod  only these
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../infra/bundling.js';
import { STAGE_NAMES, resolveStage } from '../infra/stages.js';

interface Result {
  stage: string;
  code: number;
  output: string;
  seconds: number;
}

function pinnedCliVersion(): void {
  const readJson = (file: string) => JSON.parse(readFileSync(path.join(PROJECT_ROOT, file), 'utf8'));
  const wanted: string = readJson('package.json').devDependencies['aws-cdk'];
  const installed: string = readJson('node_modules/aws-cdk/package.json').version;
  if (installed !== wanted) {
    throw new Error(`aws-cdk CLI ${installed} is installed but package.json pins ${wanted}; run npm ci`);
  }
}

function synth(stage: string): Promise<Result> {
  const started = performance.now();
  // `npx --no`: the project's own CLI or nothing; never a download.
  const args = ['--no', 'cdk', 'synth', '-c', `stage=${stage}`, '--no-notices', '--quiet', '-o', path.join('cdk.out', stage)];
  return new Promise((resolve) => {
    const child = spawn('npx', args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const done = (code: number) => resolve({ stage, code, output, seconds: (performance.now() - started) / 1000 });
    child.on('error', (error) => {
      output += `${error.message}\n`;
      done(1);
    });
    child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const stages = requested.length ? requested.map((s) => resolveStage(s)) : STAGE_NAMES;
  pinnedCliVersion();
  const started = performance.now();
  // A synth is CPU-bound (mostly CDK's built-in CloudFormation validation): one per core.
  const results: Result[] = new Array(stages.length);
  let next = 0;
  const worker = async () => {
    while (next < stages.length) {
      const index = next++;
      results[index] = await synth(stages[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(stages.length, availableParallelism()) }, worker));
  let failed = 0;
  for (const r of results) {
    // Keep what matters: drop npm's own config warnings and esbuild's progress lines.
    const lines = r.output.split('\n').filter((line) => line.trim() && !line.startsWith('npm warn'));
    const ok = r.code === 0;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.stage} -> cdk.out/${r.stage} (${r.seconds.toFixed(1)} s)`);
    if (!ok) for (const line of lines) console.log(`     ${line}`);
  }
  console.log(`${results.length - failed}/${results.length} stages synthesized in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
