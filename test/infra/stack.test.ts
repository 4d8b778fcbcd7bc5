import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../functions/domain/model.js';
import { EVENT_SOURCE, ORG_USER_DELETED, PUBLISHED_ACTIONS, TTL_PRINCIPAL } from '../../functions/events/contract.js';
import { ENTITY, TABLE_DEFINITION } from '../../functions/store/keys.js';
import { PROJECT_ROOT } from '../../infra/bundling.js';
import { INDEX_ACTIONS, TABLE_ACTIONS, TABLE_OPERATIONS, type AppFunction } from '../../infra/constructs/app-function.js';
import {
  MAX_RECEIVE_COUNT,
  ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS,
  PUBLISHER_ITERATOR_AGE_ALARM_SECONDS,
  STREAM_BATCH_SIZE,
  STREAM_MAX_RECORD_AGE_SECONDS,
  STREAM_FAILURE_RETENTION_DAYS,
} from '../../infra/constructs/membership-events.js';
import { HOLD_FAILING_EVENT_SECONDS } from '../../functions/events/contract.js';
import { STAGE_ENV } from '../../functions/http/observability.js';
import { API_ROUTES, type ProjectUsersStack } from '../../infra/stack.js';
import { createStageApp } from '../../infra/stage-app.js';
import { STAGES, STAGE_NAMES, resolveStage, type StageConfig, type StageName } from '../../infra/stages.js';

/**
 * The stack of every stage, asserted resource by resource. Each stage is synthesized once per file
 * (bundling included); CDK's built-in CloudFormation schema validation is left to `npm run synth`.
 */

type Json = Record<string, any>;

interface Synth {
  app: App;
  stack: ProjectUsersStack;
  template: Template;
  resources: Record<string, Json>;
  nag: ReturnType<typeof createStageApp>['nag'];
}

const cache = new Map<string, Synth>();

function synth(stage: StageName, config?: StageConfig, key: string = stage): Synth {
  let entry = cache.get(key);
  if (!entry) {
    const { app, stack, nag } = createStageApp(stage, { config, appProps: { builtinCloudFormationValidation: false } });
    const template = Template.fromStack(stack);
    entry = { app, stack, template, nag, resources: template.toJSON().Resources as Record<string, Json> };
    cache.set(key, entry);
  }
  return entry;
}

const ofType = (s: Synth, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const only = (s: Synth, type: string): [string, Json] => {
  const found = ofType(s, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const getAtt = (logicalId: string, attr: string) => ({ 'Fn::GetAtt': [logicalId, attr] });
const arn = (logicalId: string) => getAtt(logicalId, 'Arn');
/** The logical ID of a construct's CloudFormation resource (its default child for an L2). */
function logicalIdOf(s: Synth, construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return s.stack.resolve(s.stack.getLogicalId(element)) as string;
}
/** A construct's resource in the template, of the expected type. */
function resourceOf(s: Synth, construct: IConstruct, type: string): [string, Json] {
  const id = logicalIdOf(s, construct);
  const resource = s.resources[id];
  expect(resource?.Type, id).toBe(type);
  return [id, resource!];
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** The event source mappings of a function. */
const mappingsOf = (s: Synth, fnId: string) =>
  ofType(s, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => sameJson(m.Properties.FunctionName, { Ref: fnId }));
/** The one queue policy of a queue, and its statements. */
function queuePolicyStatements(s: Synth, queueId: string): Json[] {
  const found = ofType(s, 'AWS::SQS::QueuePolicy').filter(([, qp]) => sameJson(qp.Properties.Queues, [{ Ref: queueId }]));
  expect(found, `policy of ${queueId}`).toHaveLength(1);
  return found[0]![1].Properties.PolicyDocument.Statement as Json[];
}

/** The three functions of the stack, and what the template holds for each. */
type FunctionName = 'api' | 'publisher' | 'consumer';
const FUNCTION_NAMES: FunctionName[] = ['api', 'publisher', 'consumer'];
function appFunction(s: Synth, name: FunctionName): AppFunction {
  return { api: s.stack.apiFunction, publisher: s.stack.events.publisher, consumer: s.stack.events.consumer }[name];
}
interface FunctionResources {
  fnId: string;
  fn: Json;
  roleId: string;
  role: Json;
  logsId: string;
  policyId: string;
  policy: Json;
}
function functionResources(s: Synth, name: FunctionName): FunctionResources {
  const f = appFunction(s, name);
  const [fnId, fn] = resourceOf(s, f.function, 'AWS::Lambda::Function');
  const [roleId, role] = resourceOf(s, f.role, 'AWS::IAM::Role');
  const [logsId] = resourceOf(s, f.logGroup, 'AWS::Logs::LogGroup');
  const policies = ofType(s, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`));
  expect(policies, `policies of ${roleId}`).toHaveLength(1);
  const [policyId, policy] = policies[0]!;
  return { fnId, fn, roleId, role, logsId, policyId, policy };
}
/** Each function's description: how the template tells them apart. */
const DESCRIPTIONS: Record<FunctionName, (stage: string) => string> = {
  api: (stage) => `Project Users HTTP API (${stage})`,
  publisher: (stage) => `Publishes membership changes to EventBridge (${stage})`,
  consumer: (stage) => `Removes a deleted org user's memberships (${stage})`,
};

const actionsOf = (st: Json) => [st.Action].flat() as string[];
/**
 * What a policy allows, as action → resources (sorted JSON), whatever the statement grouping CDK
 * chose. Every statement must be a plain Allow (no Deny, NotAction, NotResource or Condition).
 */
function grants(policy: Json): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const st of policy.Properties.PolicyDocument.Statement as Json[]) {
    expect(Object.keys(st).sort()).toEqual(['Action', 'Effect', 'Resource']);
    expect(st.Effect).toBe('Allow');
    for (const action of actionsOf(st)) {
      for (const resource of [st.Resource].flat()) (out[action] ??= new Set()).add(JSON.stringify(resource));
    }
  }
  return Object.fromEntries(Object.entries(out).map(([a, r]) => [a, [...r].sort()]));
}
/** The expected grants: [actions, resources] pairs, in the same shape as `grants`. */
function expectedGrants(...pairs: Array<[readonly string[], Json[] | '*']>): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const [actions, resources] of pairs) {
    for (const action of actions) {
      for (const resource of resources === '*' ? ['*'] : resources) (out[action] ??= new Set()).add(JSON.stringify(resource));
    }
  }
  return Object.fromEntries(Object.entries(out).map(([a, r]) => [a, [...r].sort()]));
}
const LOG_WRITE = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** Each GSI of the table, by name. */
const indexArns = (tableId: string) =>
  TABLE_DEFINITION.globalSecondaryIndexes.map((gsi) => ({ 'Fn::Join': ['', [arn(tableId), `/index/${gsi.indexName}`]] }));
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const STREAM_READ = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];
/** The cursor secret's value, and nothing else about it (no DescribeSecret, no write). */
const SECRET_READ = ['secretsmanager:GetSecretValue'];
/** `Queue.grantSendMessages`: sending, plus the two reads the SDK and Lambda's DLQ check need. */
const SQS_SEND = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
/** `SqsEventSource`: what Lambda's poller needs on the queue. */
const SQS_CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];

/** The attribute of an audit item the stream filter matches on (a compile error if the model renames it). */
const AUDIT_ACTION_ATTRIBUTE: keyof AuditEntry = 'action';

/** The stream filter the publisher must get: audit inserts of published actions, TTL removals of project users. */
const EXPECTED_STREAM_PATTERNS = [
  {
    eventName: ['INSERT'],
    dynamodb: {
      NewImage: {
        [TABLE_DEFINITION.entityAttribute]: { S: [ENTITY.audit] },
        [AUDIT_ACTION_ATTRIBUTE]: { S: [...PUBLISHED_ACTIONS] },
      },
    },
  },
  {
    eventName: ['REMOVE'],
    userIdentity: { type: ['Service'], principalId: [TTL_PRINCIPAL] },
    dynamodb: { OldImage: { [TABLE_DEFINITION.entityAttribute]: { S: [ENTITY.projectUser] } } },
  },
];

/** Every `Validations.of(x).acknowledge()` in the tree: [construct path, rule id, reason]. */
function acknowledgments(root: IConstruct): Array<[string, string, string]> {
  const found: Array<[string, string, string]> = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push([c.node.path, id.replace(/^annotation::/i, ''), reason]);
      }
    }
  }
  return found;
}

/**
 * A CloudWatch metric-math sum of `id` and `FILL(id, 0)` terms, evaluated for one period where
 * only the series in `values` have a datapoint. As in CloudWatch, a sum with a missing term is
 * missing (undefined), which `TreatMissingData: notBreaching` treats as OK.
 */
function sparseSum(expression: string, values: Record<string, number>): number | undefined {
  let sum = 0;
  for (const term of expression.split('+').map((t) => t.trim())) {
    const filled = /^FILL\((\w+),\s*0\)$/.exec(term);
    const id = filled ? filled[1]! : term;
    if (!/^\w+$/.test(id)) throw new Error(`not a sum of series: ${expression}`);
    const value = values[id] ?? (filled ? 0 : undefined);
    if (value === undefined) return undefined;
    sum += value;
  }
  return sum;
}

/** Resource types whose CloudFormation schema has no `Tags`. */
const UNTAGGABLE = new Set([
  'AWS::IAM::Policy',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::Lambda::Permission',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::S3::BucketPolicy',
]);

describe.each(STAGE_NAMES)('stage %s', (stage) => {
  const config: StageConfig = STAGES[stage];
  const s = () => synth(stage);
  const removal = config.table.removal === 'retain' ? 'Retain' : 'Delete';

  it('is the stack ProjectUsers-<stage>, tagged with its stage', () => {
    const { stack } = s();
    expect(stack.stackName).toBe(`ProjectUsers-${stage}`);
    expect(stack.tags.tagValues()).toMatchObject({ stage, service: 'project-users' });
    expect(stack.terminationProtection).toBe(config.table.deletionProtection);
  });

  it('has exactly the expected resources', () => {
    const { template } = s();
    const counts: Record<string, number> = {
      'AWS::DynamoDB::Table': 1,
      // API, stream publisher, OrgUserDeleted consumer: each with its own role, policy and log group.
      'AWS::Lambda::Function': 3,
      'AWS::IAM::Role': 3,
      'AWS::IAM::Policy': 3,
      'AWS::Logs::LogGroup': 4, // + API access logs
      'AWS::ApiGatewayV2::Api': 1,
      'AWS::ApiGatewayV2::Stage': 1,
      'AWS::ApiGatewayV2::Integration': 1,
      'AWS::ApiGatewayV2::Route': API_ROUTES.length,
      'AWS::Lambda::Permission': API_ROUTES.length,
      'AWS::Lambda::EventSourceMapping': 2, // table stream → publisher, queue → consumer
      'AWS::Events::EventBus': 1,
      'AWS::Events::Rule': 1,
      'AWS::SQS::Queue': 3, // publisher DLQ, consumer queue, consumer DLQ
      'AWS::SQS::QueuePolicy': 3,
      'AWS::CloudWatch::Alarm': 12, // 5 API and table, 7 events pipeline
      'AWS::S3::Bucket': 1, // what the stream mapping gives up on, records included
      'AWS::S3::BucketPolicy': 1, // TLS only
      'AWS::SecretsManager::Secret': 1, // the cursor signing secret
      'AWS::SecretsManager::RotationSchedule': 0,
      'AWS::SNS::Topic': 1, // alarm notifications, in every stage
      'AWS::SNS::TopicPolicy': 1, // SSL only
      'AWS::SNS::Subscription': 0, // on-call subscribes outside the repo; an e-mail only if the stage sets one
      'Custom::LogRetention': 0,
      'AWS::Lambda::Url': 0,
    };
    for (const [type, count] of Object.entries(counts)) template.resourceCountIs(type, count);
    const types = new Set(Object.values(s().resources).map((r) => r.Type));
    types.delete('AWS::CDK::Metadata'); // only when the CLI synthesizes
    expect([...types].sort()).toEqual(Object.keys(counts).filter((t) => counts[t]! > 0).sort());
  });

  it('tags every taggable resource with the stage', () => {
    const all = Object.entries(s().resources);
    const taggable = all.filter(([, r]) => !UNTAGGABLE.has(r.Type));
    expect(taggable.length).toBe(35);
    for (const [id, r] of taggable) {
      const tags: Json | undefined = r.Properties?.Tags;
      expect(tags, id).toBeDefined();
      const value = Array.isArray(tags) ? tags.find((t: Json) => t.Key === 'stage')?.Value : tags!.stage;
      expect(value, id).toBe(stage);
    }
    for (const [id, r] of all.filter(([, r]) => UNTAGGABLE.has(r.Type))) expect(r.Properties.Tags, id).toBeUndefined();
  });

  it('builds the table from TABLE_DEFINITION: keys, GSIs (projection ALL), TTL', () => {
    const [, table] = only(s(), 'AWS::DynamoDB::Table');
    const p = table.Properties;
    expect(p.KeySchema).toEqual([
      { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toEqual(
      TABLE_DEFINITION.globalSecondaryIndexes.map((gsi) => ({
        IndexName: gsi.indexName,
        KeySchema: [
          { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
          { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    const keyAttributes = [
      TABLE_DEFINITION.partitionKey,
      TABLE_DEFINITION.sortKey,
      ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
    ];
    expect(p.AttributeDefinitions).toHaveLength(keyAttributes.length);
    expect(p.AttributeDefinitions).toEqual(expect.arrayContaining(keyAttributes.map((a) => ({ AttributeName: a, AttributeType: 'S' }))));
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_DEFINITION.ttlAttribute, Enabled: true });
  });

  it('table: on demand, PITR, NEW_AND_OLD_IMAGES stream, deletion policy of the stage', () => {
    const [, table] = only(s(), 'AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: config.table.deletionProtection,
    });
    // The publisher needs both images: INSERT filters on NewImage, TTL REMOVE on OldImage.
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    expect(table.Properties.TableName).toBeUndefined();
    expect(table.DeletionPolicy).toBe(removal);
    expect(table.UpdateReplacePolicy).toBe(removal);
    if (stage === 'prod') {
      expect([table.DeletionPolicy, table.Properties.DeletionProtectionEnabled]).toEqual(['Retain', true]);
    }
    if (stage === 'dev') expect([table.DeletionPolicy, table.Properties.DeletionProtectionEnabled]).toEqual(['Delete', false]);
  });

  it.each(FUNCTION_NAMES)('%s function: Node.js 22 on arm64, ESM bundle, own role and log group, tracing of the stage', (name) => {
    const { fn, roleId, logsId } = functionResources(s(), name);
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Description: DESCRIPTIONS[name](stage),
      Role: getAtt(roleId, 'Arn'),
      LoggingConfig: { LogGroup: { Ref: logsId } },
    });
    expect(fn.Properties.TracingConfig).toEqual(config.tracing ? { Mode: 'Active' } : undefined);
    expect(fn.Properties.FunctionName).toBeUndefined();
    // No --enable-source-maps: it would parse the whole map at every cold start (functions/stack-trace.ts maps logged errors).
    expect(fn.Properties.Environment?.Variables?.NODE_OPTIONS).toBeUndefined();
    // Descriptions tell the functions apart: exactly one function has each.
    const same = ofType(s(), 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Description === DESCRIPTIONS[name](stage));
    expect(same).toHaveLength(1);
  });

  it('the functions share no role and no log group', () => {
    const all = FUNCTION_NAMES.map((name) => functionResources(s(), name));
    expect(new Set(all.map((f) => f.roleId)).size).toBe(3);
    expect(new Set(all.map((f) => f.logsId)).size).toBe(3);
    expect(new Set(all.map((f) => f.policyId)).size).toBe(3);
  });

  it('API function: memory/timeout/env from the stage', () => {
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    const [secretId] = only(s(), 'AWS::SecretsManager::Secret');
    const { fn } = functionResources(s(), 'api');
    expect(fn.Properties).toMatchObject({ MemorySize: config.api.memoryMb, Timeout: config.api.timeoutSeconds });
    const env = fn.Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual(['CURSOR_SECRET_ARN', 'KEY_CACHE_SECONDS', STAGE_ENV, 'TABLE_NAME'].sort());
    expect(env.TABLE_NAME).toEqual({ Ref: tableId });
    // The stage, a dimension of every custom metric: stages in one account never share a series.
    expect(env[STAGE_ENV]).toBe(stage);
    expect(env.KEY_CACHE_SECONDS).toBe(String(config.api.keyCacheSeconds));
    // The secret's ARN (a secret's Ref), never its value: the function reads the value at cold start.
    expect(env.CURSOR_SECRET_ARN).toEqual({ Ref: secretId });
  });

  it('cursor secret: generated by Secrets Manager (64 letters and digits), in no template, removal policy of the stage', () => {
    const [secretId, secret] = only(s(), 'AWS::SecretsManager::Secret');
    expect(secretId).toBe(logicalIdOf(s(), s().stack.cursorSecret));
    expect(secret.Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.Name).toBeUndefined();
    expect(secret.Properties.KmsKeyId).toBeUndefined(); // the AWS managed key: GetSecretValue needs no KMS grant
    expect(secret.Properties.Description).toBe(`Seals the pagination cursors of the Project Users API (${stage})`);
    // Like the table: kept on prod when the stack or the resource goes, deleted on the other stages.
    expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual([removal, removal]);
    if (stage === 'prod') expect(secret.DeletionPolicy).toBe('Retain');
    // Nothing but the two functions that build a store may read it, and nothing may change it.
    const readers = ofType(s(), 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('secretsmanager:'))
      .map(([, p]) => p.Properties.Roles);
    expect(readers.sort()).toEqual(
      (['api', 'consumer'] as const).map((name) => [{ Ref: functionResources(s(), name).roleId }]).sort(),
    );
  });

  it('publisher function: 256 MB, 60 s, the bus and its dead-letter queue in its environment', () => {
    const [busId] = only(s(), 'AWS::Events::EventBus');
    const [dlqId] = resourceOf(s(), s().stack.events.publisherDeadLetters, 'AWS::SQS::Queue');
    const { fn } = functionResources(s(), 'publisher');
    expect(fn.Properties).toMatchObject({ MemorySize: 256, Timeout: 60 });
    expect(fn.Properties.Environment.Variables).toEqual({
      EVENT_BUS_NAME: { Ref: busId },
      DEAD_LETTER_QUEUE_URL: { Ref: dlqId }, // a queue's Ref is its URL
    });
  });

  it("consumer function: 256 MB, 120 s, the API's table settings and the bus in its environment", () => {
    const [busId] = only(s(), 'AWS::Events::EventBus');
    const api = functionResources(s(), 'api').fn.Properties.Environment.Variables;
    const { fn } = functionResources(s(), 'consumer');
    expect(fn.Properties).toMatchObject({ MemorySize: 256, Timeout: 120 });
    expect(fn.Properties.Environment.Variables).toEqual({ ...api, EVENT_BUS_NAME: { Ref: busId } });
  });

  it('IAM: every role is assumed by Lambda only, with one inline policy of its own and no managed policy', () => {
    for (const name of FUNCTION_NAMES) {
      const { roleId, role, policy } = functionResources(s(), name);
      expect(role.Properties.ManagedPolicyArns, name).toBeUndefined();
      expect(role.Properties.Policies, name).toBeUndefined();
      expect(role.Properties.PermissionsBoundary, name).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument.Statement, name).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
      expect(policy.Properties.Roles, name).toEqual([{ Ref: roleId }]);
      expect(policy.Properties.Users, name).toBeUndefined();
      expect(policy.Properties.Groups, name).toBeUndefined();
    }
  });

  it('IAM: the API role may touch only this table and its indexes, and write only its own log group', () => {
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    const [secretId] = only(s(), 'AWS::SecretsManager::Secret');
    const { policy, logsId } = functionResources(s(), 'api');
    expect(grants(policy)).toEqual(
      expectedGrants(
        [LOG_WRITE, [arn(logsId)]],
        [TABLE_ACTIONS.readWrite, [arn(tableId)]],
        [INDEX_ACTIONS, indexArns(tableId)],
        [SECRET_READ, [{ Ref: secretId }]], // the cursor secret, read at cold start
        ...(config.tracing ? [[XRAY, '*'] as [string[], '*']] : []),
      ),
    );
    expect(Object.keys(grants(policy))).not.toContain('dynamodb:Scan');
  });

  it('IAM: the table grants are the actions the functions need, items on the table only, Query on each named index only', () => {
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    for (const name of ['api', 'consumer'] as const) {
      const dynamo = Object.entries(grants(functionResources(s(), name).policy)).filter(([action]) => action.startsWith('dynamodb:'));
      expect(Object.fromEntries(dynamo), name).toEqual({
        'dynamodb:GetItem': [JSON.stringify(arn(tableId))],
        'dynamodb:BatchGetItem': [JSON.stringify(arn(tableId))],
        // The base table, and each GSI by name (never `index/*`).
        'dynamodb:Query': [arn(tableId), ...indexArns(tableId)].map((r) => JSON.stringify(r)).sort(),
        // TransactWriteItems is authorized per item action.
        'dynamodb:ConditionCheckItem': [JSON.stringify(arn(tableId))],
        'dynamodb:PutItem': [JSON.stringify(arn(tableId))],
        'dynamodb:UpdateItem': [JSON.stringify(arn(tableId))],
        'dynamodb:DeleteItem': [JSON.stringify(arn(tableId))],
      });
    }
  });

  it('IAM: the consumer role may touch only this table and its indexes, its queue, PutEvents on this bus and its own log group', () => {
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    const [busId] = only(s(), 'AWS::Events::EventBus');
    const [queueId] = resourceOf(s(), s().stack.events.consumerQueue, 'AWS::SQS::Queue');
    const [secretId] = only(s(), 'AWS::SecretsManager::Secret');
    const { policy, logsId } = functionResources(s(), 'consumer');
    expect(grants(policy)).toEqual(
      expectedGrants(
        [LOG_WRITE, [arn(logsId)]],
        [TABLE_ACTIONS.readWrite, [arn(tableId)]],
        [INDEX_ACTIONS, indexArns(tableId)],
        [SECRET_READ, [{ Ref: secretId }]], // the same store as the API: the same cursor secret
        [['events:PutEvents'], [arn(busId)]], // OrgUserDeletionBlocked
        [SQS_CONSUME, [arn(queueId)]],
        ...(config.tracing ? [[XRAY, '*'] as [string[], '*']] : []),
      ),
    );
  });

  it("IAM: the publisher role may read this table's stream (no table data), PutEvents on this bus, send to its DLQ, put objects in the stream failures bucket, write its log group", () => {
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    const [busId] = only(s(), 'AWS::Events::EventBus');
    const [dlqId] = resourceOf(s(), s().stack.events.publisherDeadLetters, 'AWS::SQS::Queue');
    const [bucketId] = resourceOf(s(), s().stack.events.streamFailures, 'AWS::S3::Bucket');
    const { policy, logsId } = functionResources(s(), 'publisher');
    expect(grants(policy)).toEqual(
      expectedGrants(
        [LOG_WRITE, [arn(logsId)]],
        [STREAM_READ, [getAtt(tableId, 'StreamArn')]],
        [['dynamodb:ListStreams'], '*'],
        [['events:PutEvents'], [arn(busId)]],
        [SQS_SEND, [arn(dlqId)]],
        // Write only (CDK's S3OnFailureDestination would grant read and delete too).
        [['s3:PutObject'], [{ 'Fn::Join': ['', [arn(bucketId), '/*']] }]],
        [['s3:ListBucket'], [arn(bucketId)]],
        ...(config.tracing ? [[XRAY, '*'] as [string[], '*']] : []),
      ),
    );
  });

  it('IAM: the only actions on resource `*` are dynamodb:ListStreams and X-Ray; no action has a wildcard', () => {
    const policies = ofType(s(), 'AWS::IAM::Policy').map(([, p]) => p);
    const wildcard = new Set<string>();
    for (const policy of policies) {
      for (const [action, resources] of Object.entries(grants(policy))) {
        expect(action).not.toMatch(/\*/);
        if (resources.includes('"*"')) wildcard.add(action);
      }
    }
    expect([...wildcard].sort()).toEqual(['dynamodb:ListStreams', ...(config.tracing ? XRAY : [])].sort());
  });

  it('HTTP API: the five routes to the API function, $default stage with throttling and JSON access logs', () => {
    const { template } = s();
    const [apiId, api] = only(s(), 'AWS::ApiGatewayV2::Api');
    const [integrationId, integration] = only(s(), 'AWS::ApiGatewayV2::Integration');
    const { fnId } = functionResources(s(), 'api');
    const [accessLogsId] = ofType(s(), 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('ApiAccessLogs'))!;
    expect(api.Properties.ProtocolType).toBe('HTTP');
    expect(integration.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: getAtt(fnId, 'Arn'),
    });
    const routes = ofType(s(), 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['ANY /api/{proxy+}', 'GET /docs', 'GET /docs/{proxy+}', 'GET /health', 'GET /openapi.json']);
    for (const r of routes) {
      expect(r.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
      expect(r.AuthorizationType).toBe('NONE');
    }
    // API Gateway may invoke the API function only, never the event functions.
    for (const [id, permission] of ofType(s(), 'AWS::Lambda::Permission')) {
      expect(permission.Properties, id).toMatchObject({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(fnId, 'Arn'),
        Principal: 'apigateway.amazonaws.com',
      });
    }
    const [, stageResource] = only(s(), 'AWS::ApiGatewayV2::Stage');
    expect(stageResource.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: config.api.throttle.rateLimit,
        ThrottlingBurstLimit: config.api.throttle.burstLimit,
      },
      AccessLogSettings: { DestinationArn: getAtt(accessLogsId, 'Arn') },
    });
    const format = JSON.parse(stageResource.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({
      requestId: '$context.requestId', // the function's lines: apiRequestId
      lambdaRequestId: '$context.integration.requestId', // the function's lines: function_request_id
      status: '$context.status',
      routeKey: '$context.routeKey',
      responseLatency: '$context.responseLatency',
      integrationError: '$context.integrationErrorMessage',
    });
    template.hasOutput('ApiUrl', { Value: getAtt(apiId, 'ApiEndpoint') });
  });

  it('CORS comes from the stage config', () => {
    const [, api] = only(s(), 'AWS::ApiGatewayV2::Api');
    const cors = config.api.cors;
    if (!cors) {
      expect(api.Properties.CorsConfiguration).toBeUndefined();
      return;
    }
    expect(api.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: [...cors.allowOrigins],
      AllowHeaders: expect.arrayContaining(['authorization', 'content-type', 'if-match', 'idempotency-key']),
      ExposeHeaders: expect.arrayContaining(['etag', 'location', 'retry-after', 'www-authenticate']),
      MaxAge: cors.maxAgeSeconds,
    });
  });

  it('every log group has the stage retention and removal policy; none never expires', () => {
    const groups = ofType(s(), 'AWS::Logs::LogGroup');
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ApiAccessLogs',
      'ApiFunctionLogs',
      'EventsOrgUserDeletedConsumerLogs',
      'EventsPublisherLogs',
    ]);
    for (const [id, g] of groups) {
      expect(g.Properties.RetentionInDays, id).toBe(config.logRetention);
      expect(g.Properties.LogGroupName, id).toBeUndefined();
      expect(g.DeletionPolicy, id).toBe(removal);
    }
  });

  it('alarms: 5xx rate, p99 latency, function errors and throttles, DynamoDB throttles, with stage thresholds', () => {
    const [apiId] = only(s(), 'AWS::ApiGatewayV2::Api');
    const { fnId } = functionResources(s(), 'api');
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    const alarms = Object.fromEntries(ofType(s(), 'AWS::CloudWatch::Alarm').map(([id, a]) => [id.replace(/[0-9A-F]{8}$/, ''), a.Properties]));
    expect(Object.keys(alarms).sort()).toEqual([
      'Api5xxRateAlarm',
      'ApiFunctionErrorsAlarm',
      'ApiFunctionThrottlesAlarm',
      'ApiLatencyP99Alarm',
      'EventsConsumerDeadLettersAlarm',
      'EventsConsumerErrorsAlarm',
      'EventsOrgUserDeletedQueueAgeAlarm',
      'EventsPublisherDeadLettersAlarm',
      'EventsPublisherErrorsAlarm',
      'EventsPublisherIteratorAgeAlarm',
      'EventsStreamFailuresAlarm',
      'TableThrottlesAlarm',
    ]);
    const a = config.alarms;
    for (const alarm of Object.values(alarms)) {
      expect(alarm).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(alarm.AlarmDescription).toMatch(new RegExp(`\\(${stage}\\)$`));
    }

    const rate = alarms.Api5xxRateAlarm!;
    expect(rate.Threshold).toBe(a.serverErrorRatePercent);
    const byId = Object.fromEntries((rate.Metrics as Json[]).map((m) => [m.Id, m]));
    expect(byId.expr_1?.Expression).toBe('IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)');
    expect(byId.errors?.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }] },
      Period: 300,
      Stat: 'Sum',
    });
    expect(byId.requests?.MetricStat).toMatchObject({ Metric: { MetricName: 'Count' }, Stat: 'Sum' });

    expect(alarms.ApiLatencyP99Alarm).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: a.p99LatencyMs,
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
    });
    for (const [id, metric, threshold] of [
      ['ApiFunctionErrorsAlarm', 'Errors', a.functionErrors],
      ['ApiFunctionThrottlesAlarm', 'Throttles', a.functionThrottles],
    ] as const) {
      expect(alarms[id]).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Statistic: 'Sum',
        Period: 300,
        Threshold: threshold,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      });
    }
    const dynamo = alarms.TableThrottlesAlarm!;
    expect(dynamo.Threshold).toBe(a.dynamoThrottles);
    const inputs = (dynamo.Metrics as Json[]).filter((m) => m.MetricStat);
    for (const m of inputs) {
      expect(m.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/DynamoDB' }, Period: 300, Stat: 'Sum' });
      expect(m.MetricStat.Metric.Dimensions).toContainEqual({ Name: 'TableName', Value: { Ref: tableId } });
    }
    const dimension = (m: Json, name: string) => m.MetricStat.Metric.Dimensions.find((d: Json) => d.Name === name)?.Value;
    const throttled = inputs.filter((m) => m.MetricStat.Metric.MetricName === 'ThrottledRequests');
    // Exactly the operations the functions send, each in its own series.
    expect(throttled.map((m) => dimension(m, 'Operation')).sort()).toEqual([...TABLE_OPERATIONS].sort());
    // ... and every GSI's read and write throttle events.
    const indexes = inputs.filter((m) => dimension(m, 'GlobalSecondaryIndexName') !== undefined);
    expect(indexes.map((m) => `${dimension(m, 'GlobalSecondaryIndexName')} ${m.MetricStat.Metric.MetricName}`).sort()).toEqual(
      TABLE_DEFINITION.globalSecondaryIndexes.flatMap((g) => [`${g.indexName} ReadThrottleEvents`, `${g.indexName} WriteThrottleEvents`]).sort(),
    );
    expect(inputs).toHaveLength(throttled.length + indexes.length);
  });

  it('alarms: the DynamoDB throttle alarm fires when any one operation or index throttles, the others having no datapoint', () => {
    const [, dynamo] = ofType(s(), 'AWS::CloudWatch::Alarm').find(([id]) => id.startsWith('TableThrottlesAlarm'))!;
    const metrics = dynamo.Properties.Metrics as Json[];
    const [expression] = metrics.filter((m) => m.Expression);
    expect(expression?.ReturnData).not.toBe(false);
    const ids = metrics.filter((m) => m.MetricStat).map((m) => m.Id as string);
    const threshold = config.alarms.dynamoThrottles;
    // ThrottledRequests and the throttle events are published only for a period with a throttle.
    for (const id of ids) {
      const value = sparseSum(expression!.Expression, { [id]: threshold });
      expect(value, `${id} alone at ${threshold}: the sum has no value, the alarm stays OK`).toBeDefined();
      expect(value!, `${id} alone at ${threshold}`).toBeGreaterThanOrEqual(threshold);
    }
    expect(sparseSum(expression!.Expression, {}) ?? 0).toBeLessThan(threshold);
  });

  it('alarms: a message in either dead-letter queue raises an alarm (threshold 1)', () => {
    for (const [alarmId, queue] of [
      ['EventsPublisherDeadLettersAlarm', s().stack.events.publisherDeadLetters],
      ['EventsConsumerDeadLettersAlarm', s().stack.events.consumerDeadLetters],
    ] as const) {
      const [queueId] = resourceOf(s(), queue, 'AWS::SQS::Queue');
      const [, alarm] = ofType(s(), 'AWS::CloudWatch::Alarm').find(([id]) => id.replace(/[0-9A-F]{8}$/, '') === alarmId)!;
      expect(alarm.Properties, alarmId).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(queueId, 'QueueName') }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
    }
  });

  it('alarms: the events pipeline raises an alarm on function errors, a stream falling behind and an undrained queue', () => {
    const alarms = Object.fromEntries(ofType(s(), 'AWS::CloudWatch::Alarm').map(([id, a]) => [id.replace(/[0-9A-F]{8}$/, ''), a.Properties]));
    const publisher = functionResources(s(), 'publisher');
    const consumer = functionResources(s(), 'consumer');
    const [queueId, queue] = resourceOf(s(), s().stack.events.consumerQueue, 'AWS::SQS::Queue');
    const onFunction = (fnId: string) => ({ Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }] });
    for (const [id, fnId] of [
      ['EventsPublisherErrorsAlarm', publisher.fnId],
      ['EventsConsumerErrorsAlarm', consumer.fnId],
    ] as const) {
      expect(alarms[id], id).toMatchObject({
        ...onFunction(fnId),
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 300,
        Threshold: config.alarms.functionErrors,
      });
    }
    expect(alarms.EventsPublisherIteratorAgeAlarm).toMatchObject({
      ...onFunction(publisher.fnId),
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: PUBLISHER_ITERATOR_AGE_ALARM_SECONDS * 1000, // milliseconds
    });
    // A held failing event keeps the iterator back for up to the hold: that alone must not page,
    // and the alarm must come long before the mapping gives records up.
    expect(PUBLISHER_ITERATOR_AGE_ALARM_SECONDS).toBeGreaterThanOrEqual(2 * HOLD_FAILING_EVENT_SECONDS);
    expect(PUBLISHER_ITERATOR_AGE_ALARM_SECONDS).toBeLessThanOrEqual(STREAM_MAX_RECORD_AGE_SECONDS / 4);
    expect(alarms.EventsOrgUserDeletedQueueAgeAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(queueId, 'QueueName') }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS,
    });
    // Not on one failed delivery (retried after the visibility timeout), well before the DLQ.
    expect(ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS).toBeGreaterThan(queue.Properties.VisibilityTimeout);
    expect(ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS).toBeLessThan(MAX_RECEIVE_COUNT * queue.Properties.VisibilityTimeout);
  });

  it('every alarm notifies the alarm topic, when it fires and when it recovers', () => {
    const [topicId, topic] = only(s(), 'AWS::SNS::Topic');
    expect(topicId).toBe(logicalIdOf(s(), s().stack.alarmTopic));
    expect(topic.Properties.DisplayName).toBe(`Project Users alarms (${stage})`);
    const alarms = ofType(s(), 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.ActionsEnabled, id).not.toBe(false);
    }
    // CloudWatch may publish to it; nothing may use it without TLS. A topic policy replaces SNS's
    // default one, so without its own Allow for CloudWatch every alarm's publish would be refused.
    s().template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it('outputs the API URL, the table name, the event bus name and the alarm topic ARN', () => {
    const { template } = s();
    const [tableId] = only(s(), 'AWS::DynamoDB::Table');
    const [busId] = only(s(), 'AWS::Events::EventBus');
    const [topicId] = only(s(), 'AWS::SNS::Topic');
    template.hasOutput('TableName', { Value: { Ref: tableId } });
    template.hasOutput('EventBusName', { Value: { Ref: busId } }); // an event bus's Ref is its name
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } }); // a topic's Ref is its ARN
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(['AlarmTopicArn', 'ApiUrl', 'EventBusName', 'StreamFailuresBucket', 'TableName']);
  });

  describe('membership events', () => {
    it('an event bus of the stage', () => {
      const [busId, bus] = only(s(), 'AWS::Events::EventBus');
      expect(busId).toBe(logicalIdOf(s(), s().stack.events.bus));
      expect(bus.Properties.Description).toBe(`Project Users membership events (${stage})`);
      // EventBus requires a name; CDK derives it from the construct path, which carries the stage.
      expect(bus.Properties.Name).toMatch(new RegExp(`^ProjectUsers${stage}EventsBus[0-9A-F]{8}$`));
      expect(bus.Properties.EventSourceName).toBeUndefined(); // a custom bus, not a partner bus
      expect(bus.Properties.Policy).toBeUndefined();
    });

    it("the publisher reads this table's stream: TRIM_HORIZON, bisect, partial batch failures, retries, a bucket for what fails, filter", () => {
      const [tableId] = only(s(), 'AWS::DynamoDB::Table');
      const { fnId } = functionResources(s(), 'publisher');
      const [bucketId] = resourceOf(s(), s().stack.events.streamFailures, 'AWS::S3::Bucket');
      const mappings = mappingsOf(s(), fnId);
      expect(mappings).toHaveLength(1);
      const p = mappings[0]![1].Properties;
      expect(p).toMatchObject({
        EventSourceArn: getAtt(tableId, 'StreamArn'),
        StartingPosition: 'TRIM_HORIZON',
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRecordAgeInSeconds: STREAM_MAX_RECORD_AGE_SECONDS,
        BatchSize: STREAM_BATCH_SIZE,
        // S3, not the SQS DLQ: an SQS destination keeps only shard and sequence numbers, which the
        // stream forgets after 24 h; S3 keeps the invocation with its records.
        DestinationConfig: { OnFailure: { Destination: arn(bucketId) } },
      });
      // Retried until that age, not a number of times: the publisher's hold of a failing event
      // (then the dead-letter queue, with its record) ends well before.
      expect(p.MaximumRetryAttempts).toBeUndefined();
      expect(STREAM_MAX_RECORD_AGE_SECONDS).toBeGreaterThanOrEqual(10 * HOLD_FAILING_EVENT_SECONDS);
      expect(p.Enabled).not.toBe(false);
      expect(p.FilterCriteria.Filters).toHaveLength(EXPECTED_STREAM_PATTERNS.length);
      const patterns = (p.FilterCriteria.Filters as Json[]).map((f) => JSON.parse(f.Pattern as string));
      expect(patterns).toEqual(EXPECTED_STREAM_PATTERNS);
    });

    it('the stream failures bucket: private, encrypted, TLS only, objects kept 14 days, an alarm on any write, its name an output', () => {
      const [bucketId, bucket] = resourceOf(s(), s().stack.events.streamFailures, 'AWS::S3::Bucket');
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([{ ExpirationInDays: STREAM_FAILURE_RETENTION_DAYS, Status: 'Enabled' }]);
      expect(bucket.DeletionPolicy).toBe(stage === 'prod' ? 'Retain' : 'Delete');
      const [, policy] = ofType(s(), 'AWS::S3::BucketPolicy').find(([, r]) => JSON.stringify(r.Properties.Bucket) === JSON.stringify({ Ref: bucketId }))!;
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      const metricsId = bucket.Properties.MetricsConfigurations[0].Id;
      const [, alarm] = ofType(s(), 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.MetricName === 'PutRequests')!;
      expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/S3', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(alarm.Properties.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'BucketName', Value: { Ref: bucketId } },
          { Name: 'FilterId', Value: metricsId },
        ]),
      );
      expect(s().template.toJSON().Outputs.StreamFailuresBucket.Value).toEqual({ Ref: bucketId });
    });

    it('a rule on the bus sends OrgUserDeleted from any other source to the queue, with a dead-letter queue', () => {
      const [busId] = only(s(), 'AWS::Events::EventBus');
      const [ruleId, rule] = only(s(), 'AWS::Events::Rule');
      const [queueId] = resourceOf(s(), s().stack.events.consumerQueue, 'AWS::SQS::Queue');
      const [dlqId] = resourceOf(s(), s().stack.events.consumerDeadLetters, 'AWS::SQS::Queue');
      expect(rule.Properties).toMatchObject({ EventBusName: { Ref: busId }, State: 'ENABLED' });
      expect(rule.Properties.ScheduleExpression).toBeUndefined();
      // Our own events (source EVENT_SOURCE) never trigger it.
      expect(rule.Properties.EventPattern).toEqual({
        'detail-type': [ORG_USER_DELETED],
        source: [{ 'anything-but': [EVENT_SOURCE] }],
      });
      expect(rule.Properties.Targets).toEqual([{ Id: 'Target0', Arn: arn(queueId), DeadLetterConfig: { Arn: arn(dlqId) } }]);
      // EventBridge may send to the queue and its DLQ only on behalf of this rule.
      for (const queue of [queueId, dlqId]) {
        const allows = queuePolicyStatements(s(), queue).filter((st) => st.Effect === 'Allow');
        expect(allows, queue).toHaveLength(1);
        expect(allows[0]).toMatchObject({
          Principal: { Service: 'events.amazonaws.com' },
          Resource: arn(queue),
          Condition: { ArnEquals: { 'aws:SourceArn': arn(ruleId) } },
        });
        expect(actionsOf(allows[0]!)).toContain('sqs:SendMessage');
        expect(actionsOf(allows[0]!).every((a) => SQS_SEND.includes(a)), queue).toBe(true);
      }
    });

    it('the OrgUserDeleted queue: redrive after MAX_RECEIVE_COUNT, visibility timeout >= 6 x consumer timeout', () => {
      const [queueId, queue] = resourceOf(s(), s().stack.events.consumerQueue, 'AWS::SQS::Queue');
      const [dlqId, dlq] = resourceOf(s(), s().stack.events.consumerDeadLetters, 'AWS::SQS::Queue');
      const { fn } = functionResources(s(), 'consumer');
      expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: arn(dlqId), maxReceiveCount: MAX_RECEIVE_COUNT });
      expect(MAX_RECEIVE_COUNT).toBeGreaterThan(1);
      expect(queue.Properties.VisibilityTimeout, queueId).toBeGreaterThanOrEqual(6 * fn.Properties.Timeout);
      expect(queue.Properties.FifoQueue).toBeUndefined();
      // A standard queue's message keeps its original enqueue time in the DLQ: the DLQ must keep it longer.
      const retention = (q: Json) => q.Properties.MessageRetentionPeriod ?? 4 * 24 * 3600;
      expect(retention(dlq)).toBeGreaterThan(retention(queue));
    });

    it('the consumer polls the queue with partial batch failures', () => {
      const [queueId] = resourceOf(s(), s().stack.events.consumerQueue, 'AWS::SQS::Queue');
      const { fnId } = functionResources(s(), 'consumer');
      const mappings = mappingsOf(s(), fnId);
      expect(mappings).toHaveLength(1);
      const p = mappings[0]![1].Properties;
      expect(p).toMatchObject({
        EventSourceArn: arn(queueId),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
      });
      expect(p.Enabled).not.toBe(false);
      expect(p.StartingPosition).toBeUndefined();
      // The API function has no event source: API Gateway is its only trigger.
      const { fnId: apiId } = functionResources(s(), 'api');
      expect(mappingsOf(s(), apiId)).toEqual([]);
    });

    it('every queue is encrypted, refuses non-TLS requests and follows the stage removal policy', () => {
      const queues = ofType(s(), 'AWS::SQS::Queue');
      const { events } = s().stack;
      const dlqs = [events.publisherDeadLetters, events.consumerDeadLetters].map((q) => logicalIdOf(s(), q));
      expect(queues.map(([id]) => id).sort()).toEqual([...dlqs, logicalIdOf(s(), events.consumerQueue)].sort());
      for (const [id, queue] of queues) {
        expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
        expect(queue.Properties.QueueName, id).toBeUndefined();
        expect(queue.DeletionPolicy, id).toBe(removal);
        if (dlqs.includes(id)) expect(queue.Properties.MessageRetentionPeriod, id).toBe(14 * 24 * 3600);
        const denies = queuePolicyStatements(s(), id).filter((st) => st.Effect === 'Deny');
        expect(denies, id).toEqual([
          {
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: arn(id),
          },
        ]);
      }
      // Nothing but EventBridge (on behalf of the rule) is allowed by a queue policy; the publisher DLQ allows no one.
      expect(queuePolicyStatements(s(), dlqs[0]!).filter((st) => st.Effect === 'Allow')).toEqual([]);
    });
  });

  it('cdk-nag AwsSolutions: no finding left; every acknowledgment has a reason', () => {
    const { app, nag, stack } = s();
    const report = nag.validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
    const acks = acknowledgments(app);
    for (const [where, id, reason] of acks) expect(reason.length, `${id} on ${where}`).toBeGreaterThan(40);
    const normalized = acks.map(([where, id]) => [where, id] as const);
    // The complete list: a new acknowledgment must be added here on purpose.
    expect([...new Set(normalized.map(([, id]) => id))].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(s(), stack.events.streamFailures)}.Arn>/*]`,
      'AwsSolutions-L1',
      'AwsSolutions-S1',
      'AwsSolutions-SMG4',
      'AwsSolutions-SNS2',
      'AwsSolutions-SQS3',
    ]);
    // ... and where each one applies, as narrowly as possible.
    const where = (id: string) => [...new Set(normalized.filter(([, i]) => i === id).map(([w]) => w))].sort();
    const { apiFunction: api, events } = stack;
    const paths = (...cs: IConstruct[]) => cs.map((c) => c.node.path).sort();
    expect(where('AwsSolutions-L1')).toEqual(paths(api.function, events.publisher.function, events.consumer.function));
    // ListStreams (publisher) always; X-Ray (every function) only where tracing is on.
    expect(where('AwsSolutions-IAM5[Resource::*]')).toEqual(
      config.tracing ? paths(api.role, events.publisher.role, events.consumer.role) : paths(events.publisher.role),
    );
    expect(where('AwsSolutions-SQS3')).toEqual(paths(events.publisherDeadLetters, events.consumerDeadLetters));
    expect(where('AwsSolutions-S1')).toEqual(paths(events.streamFailures));
    expect(where(`AwsSolutions-IAM5[Resource::<${logicalIdOf(s(), events.streamFailures)}.Arn>/*]`)).toEqual(paths(events.publisher.role));
    expect(where('AwsSolutions-SMG4')).toEqual(paths(stack.cursorSecret));
    expect(where('AwsSolutions-SNS2')).toEqual(paths(stack.alarmTopic));
    expect(where('AwsSolutions-APIG4')).toHaveLength(API_ROUTES.length);
    for (const w of where('AwsSolutions-APIG4')) expect(w.startsWith(`${stack.api.node.path}/`), w).toBe(true);
  });
});

describe('a stage with an alarm e-mail', () => {
  const config: StageConfig = { ...STAGES.prod, alarms: { ...STAGES.prod.alarms, email: 'oncall@example.com' } };
  const s = () => synth('prod', config, 'prod+email');

  it('subscribes the e-mail to the alarm topic every alarm notifies, dead-letter queue alarms included', () => {
    const { template } = s();
    const [topicId] = only(s(), 'AWS::SNS::Topic');
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: topicId },
    });
    const alarms = ofType(s(), 'AWS::CloudWatch::Alarm');
    const names = alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(names).toEqual(expect.arrayContaining(['EventsPublisherDeadLettersAlarm', 'EventsConsumerDeadLettersAlarm']));
    for (const [id, a] of alarms) {
      expect(a.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions, id).toEqual([{ Ref: topicId }]);
    }
  });

  it('passes cdk-nag', () => {
    const { app, nag } = s();
    expect(nag.validateScope(app).violations).toEqual([]);
  });
});

describe('the DynamoDB operations the functions send', () => {
  /** `@aws-sdk/lib-dynamodb` and client command names → DynamoDB operations (IAM actions and metrics). */
  const OPERATION_OF: Record<string, string> = {
    GetCommand: 'GetItem',
    GetItemCommand: 'GetItem',
    BatchGetCommand: 'BatchGetItem',
    BatchGetItemCommand: 'BatchGetItem',
    QueryCommand: 'Query',
    ScanCommand: 'Scan',
    PutCommand: 'PutItem',
    PutItemCommand: 'PutItem',
    UpdateCommand: 'UpdateItem',
    UpdateItemCommand: 'UpdateItem',
    DeleteCommand: 'DeleteItem',
    DeleteItemCommand: 'DeleteItem',
    BatchWriteCommand: 'BatchWriteItem',
    BatchWriteItemCommand: 'BatchWriteItem',
    TransactGetCommand: 'TransactGetItems',
    TransactGetItemsCommand: 'TransactGetItems',
    TransactWriteCommand: 'TransactWriteItems',
    TransactWriteItemsCommand: 'TransactWriteItems',
    ExecuteStatementCommand: 'PartiQLSelect',
  };
  /** Other services' commands, and the table management only `npm start` and the admin CLI run (schema.ts). */
  const NOT_TABLE_DATA = ['GetSecretValueCommand', 'PutEventsCommand', 'SendMessageCommand'];
  const LOCAL_ONLY = 'functions/store/schema.ts';

  it('are exactly TABLE_OPERATIONS, which the IAM grants and the throttle alarm follow', () => {
    const files = readdirSync(path.join(PROJECT_ROOT, 'functions'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.posix.join('functions', f.split(path.sep).join('/')))
      .filter((f) => f !== LOCAL_ONLY);
    const sent = new Set<string>();
    for (const file of files) {
      for (const [, name] of readFileSync(path.join(PROJECT_ROOT, file), 'utf8').matchAll(/new (\w+Command)\(/g)) {
        if (NOT_TABLE_DATA.includes(name!)) continue;
        expect(OPERATION_OF[name!], `${name} in ${file}`).toBeDefined();
        sent.add(OPERATION_OF[name!]!);
      }
    }
    expect([...sent].sort()).toEqual([...TABLE_OPERATIONS].sort());
  });
});

describe('cdk-nag runs on every synth', () => {
  it('an unacknowledged finding fails the synth', () => {
    const { app, stack } = createStageApp('dev', { appProps: { builtinCloudFormationValidation: false } });
    new Topic(stack, 'Unencrypted'); // AwsSolutions-SNS2 and SNS3
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS[23]/);
  });
});

describe('stage selection', () => {
  it('knows dev, staging and prod', () => {
    expect(STAGE_NAMES).toEqual(['dev', 'staging', 'prod']);
    for (const name of STAGE_NAMES) expect(resolveStage(name)).toBe(name);
  });

  it('rejects an unknown or missing stage, listing the valid ones', () => {
    expect(() => resolveStage('qa')).toThrow('unknown stage "qa". Select one with -c stage=<name>; valid stages: dev, staging, prod.');
    expect(() => resolveStage(undefined)).toThrow(/^no stage given\. .*valid stages: dev, staging, prod\.$/);
    expect(() => resolveStage('toString')).toThrow(/unknown stage/);
  });

  it('the CDK app exits 1 with that message when run without a stage', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ stage: 'qa' }) },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('unknown stage "qa"');
    expect(run.stderr).toContain('valid stages: dev, staging, prod');
  });

  it('stacks of different stages never share physical names', () => {
    const names = (st: Stack) =>
      Object.values(Template.fromStack(st).toJSON().Resources as Record<string, Json>).flatMap((r) =>
        ['TableName', 'FunctionName', 'RoleName', 'LogGroupName', 'Name', 'AlarmName', 'TopicName', 'QueueName']
          .map((k) => r.Properties?.[k])
          .filter((v) => typeof v === 'string'),
      );
    const all = STAGE_NAMES.flatMap((stage) => names(synth(stage).stack));
    // CloudFormation names everything except the API's display name and the event bus's name
    // (required; CDK derives it from the construct path), which both carry the stage.
    expect(all.length).toBe(2 * STAGE_NAMES.length);
    expect(new Set(all).size).toBe(all.length);
  });
});
