/**
 * CDK entry (`cdk.json`: `npx tsx infra/app.ts`). Select the stage with `-c stage=<name>`:
 *   npx cdk synth -c stage=dev
 *   npx cdk deploy -c stage=prod
 */
import { App } from 'aws-cdk-lib';
import { createStageApp } from './stage-app.js';
import { resolveStage } from './stages.js';

const app = new App();
let stage;
try {
  stage = resolveStage(app.node.tryGetContext('stage'));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
createStageApp(stage, { app });
app.synth();
