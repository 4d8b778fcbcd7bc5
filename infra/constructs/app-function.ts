import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../../functions/store/keys.js';
import { NODE_ARGS, NODE_MAJOR, PROJECT_ROOT, nodejsBundling, type BundleAsset } from '../bundling.js';

/**
 * The DynamoDB operations the deployed functions call (functions/store/table.ts: Get, BatchGet,
 * Query, TransactWrite; `ensureTable` in schema.ts runs only locally). The throttle alarm watches
 * exactly these; a stack test fails when functions/ starts sending another command.
 */
export const TABLE_OPERATIONS = ['GetItem', 'BatchGetItem', 'Query', 'TransactWriteItems'] as const;

/**
 * The DynamoDB actions a function may be granted on the table: item reads and writes, queries and
 * condition checks. Transactions need no actions of their own: TransactWriteItems is authorized per
 * item action (Put, Update, Delete, ConditionCheck), which is why those are here although the
 * functions never send them alone. No batch writes (never sent), no `Scan`, no table management,
 * no stream access. On the indexes only INDEX_ACTIONS.
 */
export const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
} as const;

/** On each GSI, by name: queries only (items are only ever read or written through the table). */
export const INDEX_ACTIONS = ['dynamodb:Query'] as const;

export interface AppFunctionProps {
  /** Handler module, relative to the repository root, e.g. `functions/api.ts` (export `handler`). */
  readonly entry: string;
  readonly description?: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly logRetention: RetentionDays;
  /** Removal policy of the function's log group. */
  readonly logRemovalPolicy: RemovalPolicy;
  readonly tracing: boolean;
  readonly environment?: Record<string, string>;
  /** Files copied next to the bundle, e.g. the docs page's script. */
  readonly assets?: readonly BundleAsset[];
}

/**
 * One Lambda function with the project's defaults: Node.js 22 on arm64, ESM bundled by the local
 * esbuild with the options in `infra/bundling.ts`, its own log group with retention, a role that
 * may write only that log group (no `AWSLambdaBasicExecutionRole`, which allows every log group),
 * and table access granted through `grantTable`.
 */
export class AppFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    this.logGroup.grantWrite(this.role);

    const runtime = Runtime.NODEJS_22_X;
    if (runtime.name !== `nodejs${NODE_MAJOR}.x`) throw new Error('runtime and bundle target disagree');

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: { ...(NODE_ARGS.length > 0 ? { NODE_OPTIONS: NODE_ARGS.join(' ') } : {}), ...props.environment },
      bundling: nodejsBundling(props.assets),
    });

    // cdk-nag findings every function of the project shares, acknowledged once, here:
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The runtime is fixed at Node.js 22 by the product specification (section 4); moving to a newer runtime is a deliberate, tested change.',
    });
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so their resource must be `*`. The stack tests assert which actions have resource `*`.',
      });
    }
  }

  /**
   * Reading one secret's value: `secretsmanager:GetSecretValue` on that secret only (no
   * `DescribeSecret`, which `grantRead` adds). The secret is encrypted with the AWS managed key
   * `aws/secretsmanager`, which needs no grant of its own.
   */
  grantSecretValue(secret: ISecret): void {
    if (secret.encryptionKey) throw new Error('grantSecretValue: a secret with its own KMS key also needs kms:Decrypt');
    Grant.addToPrincipal({ grantee: this.function, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secret.secretArn] });
  }

  /** Least-privilege data access to one table (built from TABLE_DEFINITION) and its indexes. */
  grantTable(table: ITable, access: keyof typeof TABLE_ACTIONS): void {
    Grant.addToPrincipal({ grantee: this.function, actions: [...TABLE_ACTIONS[access]], resourceArns: [table.tableArn] });
    Grant.addToPrincipal({
      grantee: this.function,
      actions: [...INDEX_ACTIONS],
      resourceArns: TABLE_DEFINITION.globalSecondaryIndexes.map((gsi) => `${table.tableArn}/index/${gsi.indexName}`),
    });
  }
}
