import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as LambdaAttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import type { AuditEntry, ProjectUser } from '../domain/model.js';
import { putEventsReliably, type Outgoing } from './bus.js';
import { ENTITY, TABLE_DEFINITION } from '../store/keys.js';
import { EVENT_SOURCE, PUBLISHED_ACTIONS, TTL_PRINCIPAL } from './contract.js';

/**
 * The transactional outbox, published: every audit item a write transaction stored reaches the
 * bus as one event, and so does DynamoDB TTL's removal of an expired membership. The stream
 * event source's filter criteria (infra) deliver only those records; anything else is skipped.
 */
/** The detail of every published event. `eventId` is stable across re-deliveries: de-duplicate on it. */
export interface EventDetail {
  eventId: string;
  orgId: string;
  projectId: string | null;
  projectUserId: string | null;
  userId: string | null;
  actor: { keyId: string | null; userId: string };
  rolesBefore: string[] | null;
  rolesAfter: string[] | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  time: string;
}

type Conversion = { event: { detailType: string; detail: EventDetail } } | { skip: true } | { poison: string };

export function isTtlRemoval(record: DynamoDBRecord): boolean {
  return (
    record.eventName === 'REMOVE' &&
    record.userIdentity?.type === 'Service' &&
    record.userIdentity?.principalId === TTL_PRINCIPAL
  );
}

const rolesOf = (image: Record<string, unknown> | null) =>
  image && Array.isArray(image.roles) ? (image.roles as string[]) : null;

/**
 * A stream image in the SDK's attribute type: the stream delivers the same wire format, which
 * `aws-lambda` types as one record of optional members and the SDK as a union of one-member shapes.
 */
function streamImage(image: Record<string, LambdaAttributeValue>): Record<string, AttributeValue> {
  return image as Record<string, AttributeValue>;
}

export function toEvent(record: DynamoDBRecord): Conversion {
  try {
    const newImage = record.dynamodb?.NewImage ? unmarshall(streamImage(record.dynamodb.NewImage)) : null;
    const oldImage = record.dynamodb?.OldImage ? unmarshall(streamImage(record.dynamodb.OldImage)) : null;

    if (record.eventName === 'INSERT' && newImage?.[TABLE_DEFINITION.entityAttribute] === ENTITY.audit) {
      const audit = newImage as AuditEntry;
      if (!PUBLISHED_ACTIONS.includes(audit.action)) return { skip: true };
      if (!audit.eventId || !audit.orgId || !audit.at || !audit.actor) return { poison: 'audit item lacks eventId, orgId, at or actor' };
      return {
        event: {
          detailType: audit.action,
          detail: {
            eventId: audit.eventId,
            orgId: audit.orgId,
            projectId: audit.projectId ?? null,
            projectUserId: audit.projectUserId ?? null,
            userId: audit.userId ?? null,
            actor: audit.actor,
            rolesBefore: rolesOf(audit.before),
            rolesAfter: rolesOf(audit.after),
            before: audit.before ?? null,
            after: audit.after ?? null,
            time: audit.at,
          },
        },
      };
    }

    if (isTtlRemoval(record) && oldImage?.[TABLE_DEFINITION.entityAttribute] === ENTITY.projectUser) {
      const member = oldImage as ProjectUser;
      if (!member.projectUserId || !member.projectId) return { poison: 'expired project user lacks its IDs' };
      const at = record.dynamodb?.ApproximateCreationDateTime;
      return {
        event: {
          detailType: 'ProjectUserExpired',
          detail: {
            // One membership version expires once: the same ID however often the record is delivered.
            eventId: `evt_expired_${createHash('sha256').update(`${member.projectUserId}:${member.version}`).digest('hex').slice(0, 26)}`,
            orgId: member.orgId,
            projectId: member.projectId,
            projectUserId: member.projectUserId,
            userId: member.userId,
            actor: { keyId: null, userId: 'dynamodb-ttl' },
            rolesBefore: member.roles ?? null,
            rolesAfter: null,
            before: { roles: member.roles, tags: member.tags, isOwner: member.isOwner, expiresAt: member.expiresAt ?? null },
            after: null,
            time: at ? new Date(at * 1000).toISOString() : new Date().toISOString(),
          },
        },
      };
    }
    return { skip: true };
  } catch (error) {
    return { poison: `unreadable record: ${(error as Error).message}` };
  }
}

export interface PublisherDeps {
  events: EventBridgeClient;
  sqs: SQSClient;
  busName: string;
  deadLetterQueueUrl: string | undefined;
  retry?: { attempts?: number; baseDelayMs?: number };
}

/**
 * Stream batch → events, in stream order. Entries PutEvents still rejects after its retries, and
 * poison records, go to the dead-letter queue with the original record; only if that fails too is
 * the record reported as a batch item failure, so Lambda retries it (and, after bisecting and its
 * retries, the event source's on-failure destination keeps it). Nothing is dropped silently.
 */
export function createPublisher(deps: PublisherDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const outgoing: Outgoing<DynamoDBRecord>[] = [];
    const undeliverable: { record: DynamoDBRecord; reason: string }[] = [];
    for (const record of event.Records) {
      const converted = toEvent(record);
      if ('skip' in converted) continue;
      if ('poison' in converted) {
        undeliverable.push({ record, reason: converted.poison });
        continue;
      }
      const { detail } = converted.event;
      outgoing.push({
        ref: record,
        orderingKey: detail.projectId ?? detail.orgId,
        entry: {
          Source: EVENT_SOURCE,
          DetailType: converted.event.detailType,
          Detail: JSON.stringify(converted.event.detail),
          EventBusName: deps.busName,
          Time: new Date(converted.event.detail.time),
        },
      });
    }
    const { failed } = await putEventsReliably(deps.events, outgoing, deps.retry);
    undeliverable.push(...failed.map((f) => ({ record: f.ref, reason: `PutEvents failed: ${f.error}` })));

    const notParked: DynamoDBRecord[] = [];
    for (const { record, reason } of undeliverable) {
      if (!deps.deadLetterQueueUrl) {
        notParked.push(record);
        continue;
      }
      try {
        await deps.sqs.send(
          new SendMessageCommand({
            QueueUrl: deps.deadLetterQueueUrl,
            MessageBody: JSON.stringify({ reason, record }),
          }),
        );
        console.warn(JSON.stringify({ level: 'WARN', message: 'record sent to dead-letter queue', reason, eventID: record.eventID }));
      } catch {
        notParked.push(record);
      }
    }
    // Lambda retries a stream batch from the lowest failed sequence number.
    const failedSequences = notParked
      .map((record) => record.dynamodb?.SequenceNumber)
      .filter((seq): seq is string => typeof seq === 'string')
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    return { batchItemFailures: failedSequences.slice(0, 1).map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
