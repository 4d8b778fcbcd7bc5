import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Metric, Stats, type Alarm, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { DlqDestinationConfig, IEventSourceDlq, IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alarmAtLeast } from './alarm.js';
import { EVENT_SOURCE, HOLD_FAILING_EVENT_SECONDS, ORG_USER_DELETED, PUBLISHED_ACTIONS, TTL_PRINCIPAL } from '../../functions/events/contract.js';
import { ENTITY, TABLE_DEFINITION } from '../../functions/store/keys.js';
import { AppFunction } from './app-function.js';

export interface MembershipEventsProps {
  readonly table: Table;
  readonly stage: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly tracing: boolean;
  /** Environment the consumer shares with the API (table name, cursor secret...). */
  readonly apiEnvironment: Record<string, string>;
  /** Function errors in 5 minutes that raise an alarm (the stage's, as for the API function). */
  readonly functionErrorsAlarm: number;
}

/**
 * Publisher: stream batch size, and how long a failing record is retried (bisected, in order). The
 * publisher parks an event it cannot publish in its dead-letter queue once it is older than
 * HOLD_FAILING_EVENT_SECONDS; retries last well past that, so only a record the queue cannot take
 * either (or a function that keeps failing) reaches the mapping's on-failure destination.
 */
export const STREAM_BATCH_SIZE = 100;
export const STREAM_MAX_RECORD_AGE_SECONDS = 12 * HOLD_FAILING_EVENT_SECONDS;
/**
 * How long the stream mapping's last-resort records (whole batches, records included) are kept in
 * their bucket: long enough to be noticed (the bucket's alarm) and replayed, as the queues' 14 days.
 */
export const STREAM_FAILURE_RETENTION_DAYS = 14;
const STREAM_FAILURES_METRICS_ID = 'EntireBucket';
/** Consumer: deliveries of one message before it moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
export const CONSUMER_TIMEOUT_SECONDS = 120;
/** Lambda's guidance: at least six times the function timeout. */
export const CONSUMER_VISIBILITY_TIMEOUT_SECONDS = 6 * CONSUMER_TIMEOUT_SECONDS;

/**
 * Publisher IteratorAge alarm: a stream record this old has outlived any hold of a failing event
 * (which legitimately keeps the iterator back for up to HOLD_FAILING_EVENT_SECONDS before the
 * event is parked), so the publisher is not getting through at all (crashing, throttled, or
 * unable to park). Raised after minutes, not when maxRecordAge finally sends it to the DLQ.
 */
export const PUBLISHER_ITERATOR_AGE_ALARM_SECONDS = 2 * HOLD_FAILING_EVENT_SECONDS;
/**
 * OrgUserDeleted queue age alarm: a message the consumer failed once becomes visible again after
 * the visibility timeout; one still there after two of them has failed again, or the consumer is
 * not keeping up. Raised long before MAX_RECEIVE_COUNT receives move it to the DLQ.
 */
export const ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS = 2 * CONSUMER_VISIBILITY_TIMEOUT_SECONDS;

/**
 * An S3 bucket as a stream mapping's on-failure destination, granting the function only what Lambda
 * needs to write there (s3:PutObject, s3:ListBucket); CDK's S3OnFailureDestination grants read and
 * delete as well.
 */
class S3WriteOnlyDestination implements IEventSourceDlq {
  constructor(private readonly bucket: IBucket) {}

  bind(_target: unknown, handler: IFunction): DlqDestinationConfig {
    handler.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }));
    handler.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    const stack = Stack.of(this.bucket);
    const bucketLogicalId = stack.resolve(stack.getLogicalId(this.bucket.node.defaultChild as CfnElement)) as string;
    if (handler.role) {
      Validations.of(handler.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
        reason: 'Lambda names the objects it writes to the stream failures bucket; the wildcard covers the objects of that one bucket, for s3:PutObject only.',
      });
    }
    return { destination: this.bucket.bucketArn };
  }
}

/**
 * Membership events in and out (SPEC §3):
 * - out: the table stream, filtered by the event source (not in code) to audit-item inserts and
 *   TTL removals of project users → publisher function → PutEvents on the stage's bus;
 * - in: a rule for `OrgUserDeleted` on that bus → SQS queue → consumer function, which removes the
 *   user's memberships everywhere.
 * Every failure path ends in a dead-letter queue with an alarm on its depth, or (the stream mapping's
 * last resort) in a bucket with an alarm on every write, records kept whole; function errors, a
 * stream that falls behind and a queue that is not drained raise alarms before that.
 */
export class MembershipEvents extends Construct {
  readonly bus: EventBus;
  readonly publisher: AppFunction;
  readonly consumer: AppFunction;
  readonly publisherDeadLetters: Queue;
  /** Where the stream mapping puts what it gives up on: the whole invocation, records included. */
  readonly streamFailures: Bucket;
  readonly consumerQueue: Queue;
  readonly consumerDeadLetters: Queue;
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: MembershipEventsProps) {
    super(scope, id);
    const queueDefaults = { enforceSSL: true, encryption: QueueEncryption.SQS_MANAGED, removalPolicy: props.removalPolicy };
    const retention = Duration.days(14);

    this.bus = new EventBus(this, 'Bus', { description: `Project Users membership events (${props.stage})` });

    // --- out: stream → publisher → bus ---
    this.publisherDeadLetters = new Queue(this, 'PublisherDeadLetters', { ...queueDefaults, retentionPeriod: retention });
    this.streamFailures = new Bucket(this, 'StreamFailures', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [{ expiration: Duration.days(STREAM_FAILURE_RETENTION_DAYS) }],
      // Request metrics, so that a single record written here raises an alarm within minutes.
      metrics: [{ id: STREAM_FAILURES_METRICS_ID }],
    });
    Validations.of(this.streamFailures).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Written only by the Lambda service for the publisher, read by operators; its request metrics raise an alarm on every write. Server access logs would need a second bucket for nothing more.',
    });
    this.publisher = new AppFunction(this, 'Publisher', {
      entry: 'functions/events/publisher-handler.ts',
      description: `Publishes membership changes to EventBridge (${props.stage})`,
      memoryMb: 256,
      timeoutSeconds: 60,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      tracing: props.tracing,
      environment: {
        EVENT_BUS_NAME: this.bus.eventBusName,
        DEAD_LETTER_QUEUE_URL: this.publisherDeadLetters.queueUrl,
      },
    });
    this.bus.grantPutEventsTo(this.publisher.function);
    this.publisherDeadLetters.grantSendMessages(this.publisher.function);
    this.publisher.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: STREAM_BATCH_SIZE,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        // Retried without a count, until the record is this old: the publisher's hold must end first.
        maxRecordAge: Duration.seconds(STREAM_MAX_RECORD_AGE_SECONDS),
        // What is still failing then (the DLQ itself down, or a function that keeps crashing): an SQS
        // destination would keep only the shard and sequence numbers, which the stream forgets after
        // 24 h; S3 keeps the whole invocation, records included, in a store other than that DLQ.
        onFailure: new S3WriteOnlyDestination(this.streamFailures),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: {
              NewImage: {
                [TABLE_DEFINITION.entityAttribute]: { S: FilterRule.isEqual(ENTITY.audit) },
                action: { S: FilterRule.or(...PUBLISHED_ACTIONS) },
              },
            },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('REMOVE'),
            userIdentity: { type: FilterRule.isEqual('Service'), principalId: FilterRule.isEqual(TTL_PRINCIPAL) },
            dynamodb: { OldImage: { [TABLE_DEFINITION.entityAttribute]: { S: FilterRule.isEqual(ENTITY.projectUser) } } },
          }),
        ],
      }),
    );

    Validations.of(this.publisher.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Reading the table stream: dynamodb:ListStreams supports no resource-level permissions (the other stream actions are scoped to this table\'s stream ARN); with tracing, also X-Ray, which has none either.',
    });

    // --- in: rule → queue → consumer ---
    this.consumerDeadLetters = new Queue(this, 'ConsumerDeadLetters', { ...queueDefaults, retentionPeriod: retention });
    this.consumerQueue = new Queue(this, 'OrgUserDeletedQueue', {
      ...queueDefaults,
      visibilityTimeout: Duration.seconds(CONSUMER_VISIBILITY_TIMEOUT_SECONDS),
      deadLetterQueue: { queue: this.consumerDeadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    new Rule(this, 'OrgUserDeletedRule', {
      eventBus: this.bus,
      description: 'OrgUserDeleted from other services: remove the user from every project',
      // Our own events never trigger it.
      eventPattern: { detailType: [ORG_USER_DELETED], source: Match.anythingBut(EVENT_SOURCE) },
      targets: [new SqsQueue(this.consumerQueue, { deadLetterQueue: this.consumerDeadLetters })],
    });
    this.consumer = new AppFunction(this, 'OrgUserDeletedConsumer', {
      entry: 'functions/events/org-user-deleted-handler.ts',
      description: `Removes a deleted org user's memberships (${props.stage})`,
      memoryMb: 256,
      timeoutSeconds: CONSUMER_TIMEOUT_SECONDS,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      tracing: props.tracing,
      environment: { ...props.apiEnvironment, EVENT_BUS_NAME: this.bus.eventBusName },
    });
    this.consumer.grantTable(props.table, 'readWrite');
    this.bus.grantPutEventsTo(this.consumer.function);
    this.consumer.function.addEventSource(new SqsEventSource(this.consumerQueue, { batchSize: 10, reportBatchItemFailures: true }));

    // --- alarms: anything in a dead-letter queue needs a person; so does a pipeline that stalls ---
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) =>
      alarmAtLeast(this, alarmId, props.stage, metric, threshold, description);
    const fiveMinutes = Duration.minutes(5);
    const oneMinute = Duration.minutes(1);
    const errors = props.functionErrorsAlarm;
    this.alarms = [
      ...(
        [
          ['PublisherDeadLettersAlarm', this.publisherDeadLetters, 'Membership events that could not be published'],
          ['ConsumerDeadLettersAlarm', this.consumerDeadLetters, 'OrgUserDeleted messages that could not be processed'],
        ] as const
      ).map(([alarmId, queue, what]) =>
        alarm(
          alarmId,
          queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: Stats.MAXIMUM }),
          1,
          `${what}: dead-letter queue not empty`,
        ),
      ),
      alarm(
        'StreamFailuresAlarm',
        new Metric({
          namespace: 'AWS/S3',
          metricName: 'PutRequests',
          dimensionsMap: { BucketName: this.streamFailures.bucketName, FilterId: STREAM_FAILURES_METRICS_ID },
          period: fiveMinutes,
          statistic: Stats.SUM,
        }),
        1,
        'Membership events the stream mapping gave up on: kept whole in the stream-failures bucket, to be replayed',
      ),
      alarm(
        'PublisherErrorsAlarm',
        this.publisher.function.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
        errors,
        `Events publisher function errors >= ${errors} in 5 minutes`,
      ),
      alarm(
        'PublisherIteratorAgeAlarm',
        this.publisher.function.metric('IteratorAge', { period: oneMinute, statistic: Stats.MAXIMUM }),
        PUBLISHER_ITERATOR_AGE_ALARM_SECONDS * 1000, // IteratorAge is in milliseconds
        `Membership events not published for ${PUBLISHER_ITERATOR_AGE_ALARM_SECONDS / 60} minutes: the table stream is falling behind`,
      ),
      alarm(
        'ConsumerErrorsAlarm',
        this.consumer.function.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
        errors,
        `OrgUserDeleted consumer function errors >= ${errors} in 5 minutes`,
      ),
      alarm(
        'OrgUserDeletedQueueAgeAlarm',
        this.consumerQueue.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: Stats.MAXIMUM }),
        ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS,
        `OrgUserDeleted message waiting ${ORG_USER_DELETED_QUEUE_AGE_ALARM_SECONDS / 60} minutes: the consumer keeps failing or is not keeping up`,
      ),
    ];

    for (const deadLetters of [this.publisherDeadLetters, this.consumerDeadLetters]) {
      Validations.of(deadLetters).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue; its depth raises an alarm.',
      });
    }
  }
}
