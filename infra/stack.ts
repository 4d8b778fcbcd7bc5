import { DOCS_SCRIPT_ASSET } from '../functions/http/docs.js';
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Stats,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Operation, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../functions/store/keys.js';
import { AppFunction } from './constructs/app-function.js';
import { MembershipEvents } from './constructs/membership-events.js';
import { stackName, stageConfig, type StageConfig, type StageName } from './stages.js';

export interface ProjectUsersStackProps extends StackProps {
  readonly stage: StageName;
  /** Overrides `STAGES[stage]` (tests use it for variants such as an alarm e-mail). */
  readonly config?: StageConfig;
}

/** Tags on the stack and every taggable resource, besides `stage`. */
export const STACK_TAGS = { service: 'project-users' } as const;

/** Routes the API function serves; everything else is API Gateway's own 404. */
export const API_ROUTES = [
  {
    path: '/api/{proxy+}',
    methods: [HttpMethod.ANY],
    // cdk-nag AwsSolutions-APIG4 (no API Gateway authorizer), acknowledged with this reason:
    authorization:
      'Authenticated in the function: every /api route requires `Authorization: Bearer <API key>`, checked against the hashed keys in the table (401 otherwise). An API Gateway authorizer would be a second Lambda and a second key lookup per request for the same check.',
  },
  { path: '/health', methods: [HttpMethod.GET], authorization: 'Public by design: liveness probe, answers without touching data.' },
  { path: '/openapi.json', methods: [HttpMethod.GET], authorization: 'Public by design: the OpenAPI document of the API.' },
  { path: '/docs', methods: [HttpMethod.GET], authorization: 'Public by design: the API documentation page.' },
  { path: '/docs/{proxy+}', methods: [HttpMethod.GET], authorization: "Public by design: the documentation page's script." },
] as const;

/** One HTTP API access log line per request, as JSON. */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  userAgent: '$context.identity.userAgent',
};

/**
 * `ProjectUsers-<stage>`: the table, the API function, the HTTP API, logs and alarms of one stage.
 * No physical names: CloudFormation names every resource, so stages and accounts never collide.
 */
export class ProjectUsersStack extends Stack {
  readonly stage: StageName;
  readonly table: Table;
  readonly api: HttpApi;
  readonly apiFunction: AppFunction;
  readonly events: MembershipEvents;

  constructor(scope: Construct, id: string, props: ProjectUsersStackProps) {
    const { stage: stageName, config: override, ...stackProps } = props;
    const config = override ?? stageConfig(stageName);
    super(scope, id, {
      stackName: stackName(stageName),
      description: `Project Users API (${stageName})`,
      env: config.env,
      // Prod: `cdk destroy` is refused too, not only the table's deletion.
      terminationProtection: config.table.deletionProtection,
      // The stack's own tags (CloudFormation propagates them); `Tags.of` below tags each resource.
      tags: { ...STACK_TAGS, stage: stageName },
      ...stackProps,
    });
    this.stage = stageName;
    for (const [key, value] of Object.entries({ ...STACK_TAGS, stage: stageName })) Tags.of(this).add(key, value);
    const removalPolicy = config.table.removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // --- Table: built from the same definition the store uses, so keys cannot drift. ---
    const def = TABLE_DEFINITION;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
      sortKey: { name: def.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: def.ttlAttribute,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: config.table.deletionProtection,
      removalPolicy,
    });
    for (const gsi of def.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }

    // --- API function ---
    const apiEnvironment: Record<string, string> = {
      TABLE_NAME: this.table.tableName,
      KEY_CACHE_SECONDS: String(config.api.keyCacheSeconds),
      // Signs pagination cursors. The UUID part of this stack's ID: generated by CloudFormation
      // once per stage (at stack creation), stable across deploys, in no template and no repo,
      // and needs no secret store. Readable only by those who can read the stack or the function
      // configuration, who could read the table anyway.
      CURSOR_SECRET: Fn.join(':', ['project-users-cursor', Fn.select(2, Fn.split('/', Aws.STACK_ID))]),
    };
    this.apiFunction = new AppFunction(this, 'ApiFunction', {
      entry: 'functions/api.ts',
      description: `Project Users HTTP API (${this.stage})`,
      // GET /docs/scalar.js reads it beside the bundle on first use (not bundled: 3.5 MB, cold start).
      assets: [{ from: 'node_modules/@scalar/api-reference/dist/browser/standalone.js', to: DOCS_SCRIPT_ASSET }],
      memoryMb: config.api.memoryMb,
      timeoutSeconds: config.api.timeoutSeconds,
      logRetention: config.logRetention,
      logRemovalPolicy: removalPolicy,
      tracing: config.tracing,
      environment: apiEnvironment,
    });
    this.apiFunction.grantTable(this.table, 'readWrite');

    // --- HTTP API: $default stage only, so the path reaches the function without a stage prefix. ---
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: config.logRetention,
      removalPolicy,
    });
    const cors = config.api.cors;
    this.api = new HttpApi(this, 'HttpApi', {
      apiName: stackName(this.stage), // a display name: API Gateway identifies APIs by generated IDs
      description: `Project Users API (${this.stage})`,
      createDefaultStage: false,
      corsPreflight: cors && {
        allowOrigins: [...cors.allowOrigins],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
          CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key'],
        exposeHeaders: ['etag', 'location', 'retry-after', 'www-authenticate'],
        maxAge: Duration.seconds(cors.maxAgeSeconds),
      },
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.api.throttle.rateLimit, burstLimit: config.api.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', this.apiFunction.function);
    for (const route of API_ROUTES) {
      for (const created of this.api.addRoutes({ path: route.path, methods: [...route.methods], integration })) {
        Validations.of(created).acknowledge({ id: 'AwsSolutions-APIG4', reason: route.authorization });
      }
    }

    // --- Membership events: stream → bus, OrgUserDeleted → consumer ---
    this.events = new MembershipEvents(this, 'Events', {
      table: this.table,
      stage: this.stage,
      logRetention: config.logRetention,
      removalPolicy,
      tracing: config.tracing,
      apiEnvironment,
    });

    // --- Alarms ---
    const alarms = [...this.createAlarms(config), ...this.events.alarms];
    if (config.alarms.email) {
      const topic = new Topic(this, 'AlarmTopic', { displayName: `Project Users alarms (${this.stage})`, enforceSSL: true });
      topic.addSubscription(new EmailSubscription(config.alarms.email));
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no customer data. CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed KMS key only for alarms is not worth its cost.',
      });
      const action = new SnsAction(topic);
      for (const alarm of alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    // --- Outputs ---
    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the HTTP API (no trailing slash)' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'DynamoDB table (for the admin CLI)' });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName, description: 'EventBridge bus of membership events' });

  }

  private createAlarms(config: StageConfig): Alarm[] {
    const period = Duration.minutes(5);
    const fn = this.apiFunction.function;
    const alarm = (id: string, metric: IMetric, threshold: number, description: string) =>
      new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} (${this.stage})`,
      });

    const serverErrorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
      usingMetrics: {
        errors: this.api.metricServerError({ period, statistic: Stats.SUM }),
        requests: this.api.metricCount({ period, statistic: Stats.SUM }),
      },
      period,
      label: 'API 5xx rate (%)',
    });

    return [
      alarm(
        'Api5xxRateAlarm',
        serverErrorRate,
        config.alarms.serverErrorRatePercent,
        `HTTP API 5xx responses >= ${config.alarms.serverErrorRatePercent}% of requests in 5 minutes`,
      ),
      alarm(
        'ApiLatencyP99Alarm',
        this.api.metricLatency({ period, statistic: Stats.p(99) }),
        config.alarms.p99LatencyMs,
        `HTTP API p99 latency >= ${config.alarms.p99LatencyMs} ms over 5 minutes`,
      ),
      alarm(
        'ApiFunctionErrorsAlarm',
        fn.metricErrors({ period, statistic: Stats.SUM }),
        config.alarms.functionErrors,
        `API function errors >= ${config.alarms.functionErrors} in 5 minutes`,
      ),
      alarm(
        'ApiFunctionThrottlesAlarm',
        fn.metricThrottles({ period, statistic: Stats.SUM }),
        config.alarms.functionThrottles,
        `API function throttles >= ${config.alarms.functionThrottles} in 5 minutes`,
      ),
      alarm(
        'TableThrottlesAlarm',
        this.table.metricThrottledRequestsForOperations({
          period,
          operations: [
            Operation.GET_ITEM,
            Operation.BATCH_GET_ITEM,
            Operation.QUERY,
            Operation.PUT_ITEM,
            Operation.UPDATE_ITEM,
            Operation.DELETE_ITEM,
            Operation.BATCH_WRITE_ITEM,
            Operation.TRANSACT_GET_ITEMS,
            Operation.TRANSACT_WRITE_ITEMS,
          ],
        }),
        config.alarms.dynamoThrottles,
        `DynamoDB throttled requests >= ${config.alarms.dynamoThrottles} in 5 minutes`,
      ),
    ];
  }
}
