import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localEndpoint } from '../aws.js';
import type { EventsConfig } from './config.js';

const MAX_ENTRIES_PER_CALL = 10;
/**
 * PutEvents refuses a whole call whose entries total 256 KB or more (AWS: "Calculating PutEvents
 * event entry size"); calls are cut below that, with a margin for what the documented sum omits.
 */
export const MAX_CALL_BYTES = 240 * 1024;

/** An entry's size as AWS counts it toward the call's limit: Time (14 bytes), Source, DetailType, Detail, Resources. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text ? Buffer.byteLength(text, 'utf8') : 0);
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

/** Entries in calls of at most 10 entries and {@link MAX_CALL_BYTES}, in their order. */
function calls<T extends { entry: PutEventsRequestEntry }>(items: T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = entrySize(item.entry);
    if (current.length > 0 && (current.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_CALL_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

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
 * entry per key (EventBridge does not order the entries of one call), up to 10 entries and
 * {@link MAX_CALL_BYTES} per call. A partial failure (`FailedEntryCount`) is retried for the failed
 * entries only, with backoff, a bounded number of times. An entry that still fails is offered to
 * `giveUp`: once it is given up (parked elsewhere), its key's later entries go on; otherwise the
 * key stops there, and the entry is returned as `held` (its later entries are not sent: they wait
 * with it, for the caller to retry them in order).
 */
export async function putEventsReliably<K>(
  client: EventBridgeClient,
  outgoing: Outgoing<K>[],
  options: { attempts?: number; baseDelayMs?: number; giveUp: (failure: { ref: K; error: string }) => Promise<boolean> },
): Promise<{ published: number; held: { ref: K; error: string }[] }> {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const queues = new Map<string, Outgoing<K>[]>();
  for (const item of outgoing) {
    const queue = queues.get(item.orderingKey) ?? [];
    queue.push(item);
    queues.set(item.orderingKey, queue);
  }
  const tries = new Map<Outgoing<K>, number>();
  const held: { ref: K; error: string }[] = [];
  let published = 0;
  while (queues.size > 0) {
    const heads = [...queues.values()].map((queue) => queue[0]!);
    const retrying = heads.some((head) => (tries.get(head) ?? 0) > 0);
    if (retrying) {
      const attempt = Math.max(...heads.map((head) => tries.get(head) ?? 0));
      await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (attempt - 1)));
    }
    for (const chunk of calls(heads)) {
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
      for (const [index, sent] of chunk.entries()) {
        const queue = queues.get(sent.orderingKey)!;
        const error = errorsByEntry[index] ?? null;
        if (error === null) published++;
        else {
          const count = (tries.get(sent) ?? 0) + 1;
          tries.set(sent, count);
          if (count < attempts) continue; // stays at the head of its queue
          if (!(await options.giveUp({ ref: sent.ref, error }))) {
            held.push({ ref: sent.ref, error });
            queues.delete(sent.orderingKey);
            continue;
          }
        }
        queue.shift();
        if (queue.length === 0) queues.delete(sent.orderingKey);
      }
    }
  }
  return { published, held };
}
