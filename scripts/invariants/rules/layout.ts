import { isId, type IdKind } from '../../../functions/domain/ids.js';
import { ENTITY, gsi1, keys, partitions, prefixes } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import { isString, type Item } from '../types.js';

/** A SHA-256 digest in hex: an API key's `secretHash`, an idempotency record's sort key. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

type ExpectedKeys = { PK: string; SK: string; GSI1PK?: string; GSI1SK?: string };

const ORG_PARTITION = partitions.org('');
const IDEMPOTENCY_PARTITION = keys.idempotency('', '').PK;

/**
 * What an item's keys must be, given its own attributes, built by the store's own key builders
 * (keys.ts); null when the item has no entity this layout knows.
 */
export function expectedKeys(item: Item): ExpectedKeys | null {
  switch (item.entity) {
    case ENTITY.org:
      return { ...keys.org(item.orgId), ...gsi1.orgInDirectory(item.orgId) };
    case ENTITY.orgUser:
      return keys.orgUser(item.orgId, item.userId);
    case ENTITY.emailGuard:
      // The guard's own attributes do not hold the e-mail: only its shape is checked here.
      return isString(item.PK) && item.PK.startsWith(ORG_PARTITION) && isString(item.SK) && item.SK.startsWith(prefixes.emailGuard)
        ? { PK: item.PK, SK: item.SK }
        : null;
    case ENTITY.project:
      return { ...keys.project(item.projectId), ...gsi1.projectOfOrg(item.orgId, item.projectId) };
    case ENTITY.projectUser:
      return { ...keys.projectUser(item.projectId, item.projectUserId), ...gsi1.membershipOfUser(item.userId, item.projectId) };
    case ENTITY.membership:
      return keys.membership(item.projectId, item.userId);
    case ENTITY.apiKey:
      return { ...keys.apiKey(item.keyId), ...gsi1.keyOfUser(item.userId, item.keyId) };
    case ENTITY.audit:
      return item.projectId ? keys.projectAudit(item.projectId, item.eventId) : keys.orgAudit(item.orgId, item.eventId);
    case ENTITY.catalog:
      return keys.catalog(item.orgId);
    case ENTITY.roleMeta:
      return keys.roleMeta(item.roleId);
    case ENTITY.roleGrant:
      return keys.roleGrant(item.roleId, item.projectId, item.projectUserId);
    case ENTITY.bootstrapMarker:
      return keys.bootstrapMarker();
    case ENTITY.idempotencyRecord:
      return isString(item.PK) &&
        item.PK.startsWith(IDEMPOTENCY_PARTITION) &&
        isId('key', item.PK.slice(IDEMPOTENCY_PARTITION.length)) &&
        isString(item.SK) &&
        SHA256_HEX.test(item.SK)
        ? { PK: item.PK, SK: item.SK }
        : null;
    default:
      // An entity the layout knows (keys.ts) but these rules do not yet: its keys are not checked.
      return (Object.values(ENTITY) as string[]).includes(item.entity) && isString(item.PK) && isString(item.SK) ? { PK: item.PK, SK: item.SK } : null;
  }
}

const ID_FIELDS: Record<string, [string, IdKind][]> = {
  [ENTITY.org]: [['orgId', 'org']],
  [ENTITY.orgUser]: [['orgId', 'org'], ['userId', 'user']],
  [ENTITY.project]: [['orgId', 'org'], ['projectId', 'project'], ['ownerProjectUserId', 'projectUser'], ['ownerUserId', 'user']],
  [ENTITY.projectUser]: [['orgId', 'org'], ['projectId', 'project'], ['projectUserId', 'projectUser'], ['userId', 'user']],
  [ENTITY.membership]: [['orgId', 'org'], ['projectId', 'project'], ['projectUserId', 'projectUser'], ['userId', 'user']],
  [ENTITY.apiKey]: [['orgId', 'org'], ['keyId', 'key'], ['userId', 'user']],
  [ENTITY.audit]: [['orgId', 'org'], ['eventId', 'audit']],
};

/**
 * `entity`: every item has a known entity, the keys its layout gives it and well-formed IDs;
 * `dangling-gsi`: an entity without GSI1 keys in the layout carries none.
 */
export function checkLayout(items: Item[], { report }: Collector) {
  for (const item of items) {
    const expected = expectedKeys(item);
    if (!expected) {
      report('entity', item, `unknown or missing entity ${JSON.stringify(item.entity)}`);
      continue;
    }
    for (const [name, value] of Object.entries(expected)) {
      if (item[name] !== value) report('entity', item, `${item.entity}: ${name} is ${JSON.stringify(item[name])}, expected ${JSON.stringify(value)}`);
    }
    if (!expected.GSI1PK && (item.GSI1PK !== undefined || item.GSI1SK !== undefined)) {
      report('dangling-gsi', item, `${item.entity} carries GSI1 keys ${item.GSI1PK} / ${item.GSI1SK}`);
    }
    for (const [field, kind] of ID_FIELDS[item.entity] ?? []) {
      if (!isString(item[field]) || !isId(kind, item[field])) report('entity', item, `${item.entity}.${field} is not a ${kind} ID: ${JSON.stringify(item[field])}`);
    }
  }
}
