import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { isString } from '../types.js';

/** How much later than a revocation a racing write's own timestamp may be (see `revoked-writer`). */
export const WRITE_CLOCK_TOLERANCE_MS = 5_000;

/**
 * Writes by dead keys, and keys that outlive their creator. Every write's transaction checks the
 * calling key, so no audited change may postdate its actor key's revocation or expiry
 * (`revoked-writer`), and a key made by a key never expires after it (`key-outlives-creator`).
 * Both times are taken before their transactions commit, so a write that raced the revocation and
 * committed first may carry a time up to one transaction's latency later: WRITE_CLOCK_TOLERANCE_MS.
 */
export function checkDeadKeyWrites({ audits, apiKeys }: Inventory, { report }: Collector) {
  const keyById = new Map(apiKeys.map((key) => [key.keyId as string, key]));
  for (const audit of audits) {
    const actorKey = isString(audit.actor?.keyId) ? keyById.get(audit.actor.keyId) : undefined;
    if (!actorKey) continue;
    if (isString(actorKey.revokedAt) && Date.parse(audit.at) > Date.parse(actorKey.revokedAt) + WRITE_CLOCK_TOLERANCE_MS) {
      report('revoked-writer', audit, `${audit.action} at ${audit.at} by key ${actorKey.keyId}, revoked at ${actorKey.revokedAt}`);
    }
    if (isString(actorKey.expiresAt) && Date.parse(audit.at) > Date.parse(actorKey.expiresAt) + WRITE_CLOCK_TOLERANCE_MS) {
      report('revoked-writer', audit, `${audit.action} at ${audit.at} by key ${actorKey.keyId}, expired at ${actorKey.expiresAt}`);
    }
    if (audit.action === 'ApiKeyCreated' && isString(actorKey.expiresAt)) {
      const created = keyById.get(audit.after?.keyId);
      if (created && (!isString(created.expiresAt) || created.expiresAt > actorKey.expiresAt)) {
        report('key-outlives-creator', created, `expires ${created.expiresAt ?? 'never'}, its creator ${actorKey.keyId} at ${actorKey.expiresAt}`);
      }
    }
  }
}
