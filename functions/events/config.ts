import { regionOf } from '../aws.js';

/** Environment of the event functions, read once at load. */
export interface EventsConfig {
  busName: string;
  region: string;
  /** Overrides for tests (a local PutEvents/SendMessage endpoint); unset on AWS. */
  eventBridgeEndpoint: string | undefined;
  sqsEndpoint: string | undefined;
  /** Where records that cannot be published go, with the original record. */
  deadLetterQueueUrl: string | undefined;
}

export function readEventsConfig(env: NodeJS.ProcessEnv = process.env): EventsConfig {
  const busName = env.EVENT_BUS_NAME;
  if (!busName) throw new Error('Missing required environment variable EVENT_BUS_NAME');
  return {
    busName,
    region: regionOf(env),
    eventBridgeEndpoint: env.EVENTBRIDGE_ENDPOINT || undefined,
    sqsEndpoint: env.SQS_ENDPOINT || undefined,
    deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL || undefined,
  };
}
