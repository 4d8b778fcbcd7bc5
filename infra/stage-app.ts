import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from './bundling.js';
import { ProjectUsersStack } from './stack.js';
import { stackName, type StageConfig, type StageName } from './stages.js';

export interface StageAppOptions {
  /** An existing app (the CLI's, which carries `cdk.json` context); otherwise a new one built from `cdk.json`. */
  readonly app?: App;
  readonly appProps?: AppProps;
  /** Overrides `STAGES[stage]` (tests). */
  readonly config?: StageConfig;
}

/** The `context` of `cdk.json` (feature flags): an app built outside the CLI must use the same. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * The whole CDK app for one stage, the same for `cdk synth|deploy` and the tests: the stack
 * `ProjectUsers-<stage>` and cdk-nag's AwsSolutions pack as a validation plugin, so any
 * unacknowledged finding fails the synth. Acknowledgments (with reasons) live in `stack.ts`.
 */
export function createStageApp(stage: StageName, options: StageAppOptions = {}) {
  const app =
    options.app ??
    new App({ ...options.appProps, context: { ...cdkJsonContext(), ...options.appProps?.context, stage } });
  const stack = new ProjectUsersStack(app, stackName(stage), { stage, config: options.config });
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}
