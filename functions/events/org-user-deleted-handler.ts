import { loadConfig } from '../config.js';
import { createStore } from '../store/store.js';
import { createEventBridgeClient } from './bus.js';
import { readEventsConfig } from './config.js';
import { createOrgUserDeletedConsumer } from './org-user-deleted.js';

/** Lambda entry: SQS queue fed by the bus rule for `OrgUserDeleted`. */
const events = readEventsConfig();
export const handler = createOrgUserDeletedConsumer({
  store: createStore(await loadConfig()),
  events: createEventBridgeClient(events),
  busName: events.busName,
});
