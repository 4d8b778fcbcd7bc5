import { createEventBridgeClient, createSqsClient } from './bus.js';
import { readEventsConfig } from './config.js';
import { createPublisher } from './publish.js';

/** Lambda entry: DynamoDB stream (filtered to audit inserts and TTL removals) → EventBridge. */
const config = readEventsConfig();
export const handler = createPublisher({
  events: createEventBridgeClient(config),
  sqs: createSqsClient(config),
  busName: config.busName,
  deadLetterQueueUrl: config.deadLetterQueueUrl,
});
