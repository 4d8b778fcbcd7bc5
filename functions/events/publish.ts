import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as LambdaAttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import type { AuditEntry, ProjectUser } from '../domain/model.js';
import { putEventsReliably, type Outgoing } from './bus.js';
import { ENTITY, TABLE_DEFINITION } from '../store/keys.js';
import { EVENT_SOURCE, HOLD_FAILING_EVENT_SECONDS, PUBLISHED_ACTIONS, TTL_PRINCIPAL } from './contract.js';

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
          // A removal like any other (SPEC §3 names four membership types); its actor says TTL made it.
          detailType: 'ProjectUserRemoved',
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
  /** {@link HOLD_FAILING_EVENT_SECONDS}, unless a test says otherwise. */
  holdSeconds?: number;
}

const sequenceOf = (record: DynamoDBRecord) => BigInt(record.dynamodb?.SequenceNumber ?? '0');

/** The record with the lowest sequence number: where Lambda's retry of the batch starts. */
const earliest = (records: DynamoDBRecord[]) =>
  records.reduce<DynamoDBRecord | undefined>((first, record) => (first && sequenceOf(first) <= sequenceOf(record) ? first : record), undefined);

/**
 * Stream batch → events, in stream order, in order per project (SPEC §3).
 * - A poison record (one that cannot become an event) goes to the dead-letter queue with the
 *   original record at once: no retry can mend it.
 * - An entry PutEvents still rejects after its retries is held while its record is younger than
 *   `holdSeconds`: it is reported as a batch item failure, so Lambda retries the batch from it,
 *   and its project's later events in the batch are not sent before it. An older one is parked in
 *   the dead-letter queue with its record, and its project goes on.
 * - Whatever cannot be parked (the queue unreachable) is held the same way; nothing with a later
 *   sequence number is published past an unparked poison record. Nothing is dropped silently.
 */
export function createPublisher(deps: PublisherDeps) {
  const holdSeconds = deps.holdSeconds ?? HOLD_FAILING_EVENT_SECONDS;

  async function park(record: DynamoDBRecord, reason: string): Promise<boolean> {
    if (!deps.deadLetterQueueUrl) return false;
    try {
      await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.deadLetterQueueUrl, MessageBody: JSON.stringify({ reason, record }) }));
    } catch {
      return false;
    }
    console.warn(JSON.stringify({ level: 'WARN', message: 'record sent to dead-letter queue', reason, eventID: record.eventID }));
    return true;
  }

  /** Whether the record has waited long enough: without a creation time it is not held at all. */
  const heldLongEnough = (record: DynamoDBRecord) => {
    const created = record.dynamodb?.ApproximateCreationDateTime;
    return created === undefined || Date.now() / 1000 - created >= holdSeconds;
  };

  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const outgoing: Outgoing<DynamoDBRecord>[] = [];
    const unparked: DynamoDBRecord[] = [];
    for (const record of event.Records) {
      const converted = toEvent(record);
      if ('skip' in converted) continue;
      if ('poison' in converted) {
        if (!(await park(record, converted.poison))) unparked.push(record);
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
    // Lambda retries from the lowest failed sequence number: nothing after an unparked poison
    // record is published now (its project is unknown), so the retry publishes it in order.
    const blockedAt = earliest(unparked);
    const sendable = blockedAt ? outgoing.filter((o) => sequenceOf(o.ref) < sequenceOf(blockedAt)) : outgoing;
    const { held } = await putEventsReliably(deps.events, sendable, {
      ...deps.retry,
      giveUp: ({ ref, error }) => (heldLongEnough(ref) ? park(ref, `PutEvents failed: ${error}`) : Promise.resolve(false)),
    });
    const failed = earliest([...unparked, ...held.map((h) => h.ref)]);
    return { batchItemFailures: failed?.dynamodb?.SequenceNumber ? [{ itemIdentifier: failed.dynamodb.SequenceNumber }] : [] };
  };
}
