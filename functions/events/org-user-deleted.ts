import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { isId } from '../domain/ids.js';
import type { Actor } from '../domain/model.js';
import { deleteOrgUserCascade } from '../store/delete-org-user.js';
import type { Store } from '../store/store.js';
import { putEventsReliably } from './bus.js';
import { EVENT_SOURCE, ORG_USER_DELETED } from './contract.js';

/**
 * Inbound `OrgUserDeleted` (EventBridge rule → SQS → this function): removes the user's
 * memberships everywhere through the same code as `DELETE /api/users/:id`. Where the user owns a
 * project, nothing is removed there and `OrgUserDeletionBlocked` reports it. Re-delivery is
 * harmless: a deleted user is simply not found, a blocked one is reported again.
 * A message that fails is reported as a batch item failure; after the queue's maxReceiveCount it
 * lands in the queue's dead-letter queue.
 */
export interface OrgUserDeletedDeps {
  store: Store;
  events: EventBridgeClient;
  busName: string;
}

interface Envelope {
  id?: string;
  'detail-type'?: string;
  detail?: { orgId?: unknown; userId?: unknown };
}

export function createOrgUserDeletedConsumer(deps: OrgUserDeletedDeps) {
  async function handleOne(body: string): Promise<void> {
    const envelope = JSON.parse(body) as Envelope;
    const { orgId, userId } = envelope.detail ?? {};
    if (envelope['detail-type'] !== ORG_USER_DELETED || typeof orgId !== 'string' || typeof userId !== 'string') {
      throw new Error('not an OrgUserDeleted event with detail { orgId, userId }');
    }
    if (!isId('org', orgId) || !isId('user', userId)) throw new Error('orgId or userId is not a valid ID');
    // The cascade pages through memberships (sealed cursors): nothing is written before the secret
    // is known, so a secret that cannot be read fails the record (retried, then the DLQ) untouched.
    await deps.store.cursors.ready();
    const user = await deps.store.getOrgUser(orgId, userId, true);
    if (!user) return; // already deleted (or never existed): nothing to do
    const actor: Actor = { keyId: null, userId: 'event:OrgUserDeleted' };
    const outcome =
      user.orgRole === 'owner'
        ? { deleted: false as const, blockedProjects: [] as string[], reason: 'organization owner' }
        : {
            ...(await deleteOrgUserCascade(deps.store, user, actor, () =>
              deps.store.markOrgUserDeleting({ user, authority: { kind: 'operator' }, actor }),
            )),
            reason: 'owns projects',
          };
    if (outcome.deleted) return;
    const blocked = {
      ref: userId,
      orderingKey: userId,
      entry: {
        Source: EVENT_SOURCE,
        DetailType: 'OrgUserDeletionBlocked',
        EventBusName: deps.busName,
        Detail: JSON.stringify({
          eventId: `evt_blocked_${envelope.id ?? userId}`,
          orgId,
          userId,
          reason: outcome.reason,
          blockedProjects: outcome.blockedProjects,
          time: new Date().toISOString(),
        }),
      },
    };
    // Never given up here: the message fails, and SQS redelivers it (then moves it to its dead-letter queue).
    const { held } = await putEventsReliably(deps.events, [blocked], { giveUp: async () => false });
    if (held.length > 0) throw new Error(`could not publish OrgUserDeletionBlocked: ${held[0]!.error}`);
  }

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      try {
        await handleOne(record.body);
      } catch (error) {
        console.error(JSON.stringify({ level: 'ERROR', message: 'OrgUserDeleted failed', messageId: record.messageId, error: String(error) }));
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
