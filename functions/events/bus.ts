import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localEndpoint } from '../aws.js';
import type { EventsConfig } from './config.js';

const MAX_ENTRIES_PER_CALL = 10;

/** The event functions' AWS clients: a few attempts each, and a local stand-in where the config names one. */
const clientOptions = (region: string, endpoint: string | undefined) => ({ region, maxAttempts: 3, ...localEndpoint(endpoint) });

export function createEventBridgeClient(config: Pick<EventsConfig, 'region' | 'eventBridgeEndpoint'>): EventBridgeClient {
  return new EventBridgeClient(clientOptions(config.region, config.eventBridgeEndpoint));
}

export function createSqsClient(config: Pick<EventsConfig, 'region' | 'sqsEndpoint'>): SQSClient {
  return new SQSClient(clientOptions(config.region, config.sqsEndpoint));
}

export interface Outgoing<K> {
  /** What the caller needs back for entries that could not be published (e.g. a stream record). */
  ref: K;
  /** Entries with the same key are published strictly in order (e.g. a project's events). */
  orderingKey: string;
  entry: PutEventsRequestEntry;
}

/**
 * PutEvents, keeping each ordering key's entries in order: a call carries at most one pending
 * entry per key (EventBridge does not order the entries of one call), up to 10 per call. A
 * partial failure (`FailedEntryCount`) is retried for the failed entries only, with backoff, a
 * bounded number of times; later entries of that key wait for it. What still fails is returned.
 */
export async function putEventsReliably<K>(
  client: EventBridgeClient,
  outgoing: Outgoing<K>[],
  options: { attempts?: number; baseDelayMs?: number } = {},
): Promise<{ published: number; failed: { ref: K; error: string }[] }> {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const queues = new Map<string, Outgoing<K>[]>();
  for (const item of outgoing) {
    const queue = queues.get(item.orderingKey) ?? [];
    queue.push(item);
    queues.set(item.orderingKey, queue);
  }
  const tries = new Map<Outgoing<K>, number>();
  const failed: { ref: K; error: string }[] = [];
  let published = 0;
  while (queues.size > 0) {
    const heads = [...queues.values()].map((queue) => queue[0]!);
    const retrying = heads.some((head) => (tries.get(head) ?? 0) > 0);
    if (retrying) {
      const attempt = Math.max(...heads.map((head) => tries.get(head) ?? 0));
      await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (attempt - 1)));
    }
    for (let i = 0; i < heads.length; i += MAX_ENTRIES_PER_CALL) {
      const chunk = heads.slice(i, i + MAX_ENTRIES_PER_CALL);
      let errorsByEntry: (string | null)[];
      try {
        const out = await client.send(new PutEventsCommand({ Entries: chunk.map((o) => o.entry) }));
        errorsByEntry = chunk.map((_, index) => {
          const result = out.Entries?.[index];
          return result?.ErrorCode ? `${result.ErrorCode}: ${result.ErrorMessage ?? ''}` : null;
        });
      } catch (error) {
        errorsByEntry = chunk.map(() => String((error as Error).name ?? error));
      }
      chunk.forEach((sent, index) => {
        const queue = queues.get(sent.orderingKey)!;
        const error = errorsByEntry[index] ?? null;
        if (error === null) published++;
        else {
          const count = (tries.get(sent) ?? 0) + 1;
          tries.set(sent, count);
          if (count < attempts) return; // stays at the head of its queue
          failed.push({ ref: sent.ref, error });
        }
        queue.shift();
        if (queue.length === 0) queues.delete(sent.orderingKey);
      });
    }
  }
  return { published, failed };
}
