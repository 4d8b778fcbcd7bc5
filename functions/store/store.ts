import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.js';
import { apiKeys } from './api-keys.js';
import { auditRecords } from './audit.js';
import { catalogs } from './catalog.js';
import { createDocumentClient } from './client.js';
import { orgUsers } from './org-users.js';
import { orgs } from './orgs.js';
import { projectUsers } from './project-users.js';
import { projects } from './projects.js';
import { createTable } from './table.js';
import { systemClock, type Clock, type Store, type StoreContext } from './types.js';

/**
 * The store's public entry: `createStore` builds the table kit (table.ts) and composes one module
 * per entity into the `Store` contract (types.ts). Keys are laid out in keys.ts, the conditions
 * every write is made of in conditions.ts.
 */

export { IDEMPOTENCY_WINDOW_SECONDS } from './conditions.js';
export { IdempotencyRaceError, mergeSameItem, StaleReadError, WriteContentionError, type Page } from './table.js';
export type * from './types.js';
export { systemClock } from './types.js';

export function createStore(
  config: Config,
  client: DynamoDBDocumentClient = createDocumentClient(config),
  options: { clock?: Clock } = {},
): Store {
  const table = createTable(client, config);
  const context: StoreContext = { table, clock: options.clock ?? systemClock };
  return {
    cursors: table.cursors,
    ...orgs(context),
    ...orgUsers(context),
    ...projects(context),
    ...projectUsers(context),
    ...apiKeys(context),
    ...auditRecords(context),
    ...catalogs(context),
  };
}
