import type { AuditEntry } from '../domain/model.js';
import { IDEMPOTENCY_WINDOW_SECONDS } from './conditions.js';
import { keys, partitions, prefixes } from './keys.js';
import { equals, rangeQuery } from './queries.js';
import { methods, type IdempotencyRecord, type Method, type StoreContext } from './types.js';

/*
 * The records writes leave behind: audit entries (every write adds one, see `auditEntry`) and
 * stored POST responses (see `idempotencyEntry`). Both are written in conditions.ts, read here.
 */

/** Newest first; one Query per page (filters read ahead, like lists). */
const listAudit: Method<'listAudit'> = ({ table }) => (projectId, query) =>
  table.queryPage<AuditEntry>(
    `project-audit:${projectId}:${query.projectUserId ?? ''}:${query.action ?? ''}`,
    rangeQuery({
      pk: partitions.project(projectId),
      prefix: prefixes.audit,
      filters: [equals('projectUserId', query.projectUserId), equals('action', query.action)],
      newestFirst: true,
    }),
    query,
  );

/** Only a live record counts: TTL deletion can lag by hours. */
const getIdempotencyRecord: Method<'getIdempotencyRecord'> = ({ table, clock }) => async (apiKeyId, keyHash) => {
  const item = await table.getItem<IdempotencyRecord & { body: string }>(keys.idempotency(apiKeyId, keyHash), true);
  if (!item) return null;
  if (Date.parse(item.createdAt) < Date.parse(clock.now()) - IDEMPOTENCY_WINDOW_SECONDS * 1000) return null;
  return { ...item, body: JSON.parse(item.body) };
};

export const auditRecords = (context: StoreContext) => methods(context, { listAudit, getIdempotencyRecord });
