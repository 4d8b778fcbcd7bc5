import { keyHolderOf, type ApiKey } from '../domain/model.js';
import { about, auditEntry, authorityCheck, check, combine, idempotencyEntry, put, update, withoutNulls } from './conditions.js';
import { ENTITY, GSI1, gsi1, keys, partitions, prefixes } from './keys.js';
import { equals, rangeQuery } from './queries.js';
import { methods, type Method, type StoreContext } from './types.js';

/* API keys: one item per key, listed per org user through GSI1. */

const getApiKey: Method<'getApiKey'> = ({ table }) => (keyId) => table.getItem<ApiKey>(keys.apiKey(keyId), true);

/** `pinnedTo`: only keys pinned to that project (what a pinned caller may see). */
const listKeysOfUser: Method<'listKeysOfUser'> = ({ table }) => (userId, page) => {
  const pin = page.pinnedTo ?? null;
  return table.queryPage(
    `user-keys:${userId}:${pin ?? ''}`,
    rangeQuery({
      index: GSI1,
      pk: partitions.user(userId),
      prefix: prefixes.key,
      filters: [equals('projectId', pin || undefined)],
    }),
    page,
  );
};

const createApiKey: Method<'createApiKey'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const key: ApiKey = {
    keyId: input.keyId,
    orgId: input.orgId,
    userId: input.userId,
    scope: input.scope,
    projectId: input.projectId,
    name: input.name,
    secretHash: input.secretHash,
    createdAt: now,
    expiresAt: input.expiresAt,
    revokedAt: null,
    holder: keyHolderOf(input.holder),
  };
  const audited = { keyId: key.keyId, scope: key.scope, projectId: key.projectId, expiresAt: key.expiresAt };
  await table.transact(
    combine(
      // Absent, not null: conditions test `attribute_not_exists(revokedAt|expiresAt)`.
      put(ENTITY.apiKey, { ...keys.apiKey(key.keyId), ...gsi1.keyOfUser(key.userId, key.keyId), ...withoutNulls(key) }),
      check(keys.orgUser(key.orgId, key.userId), 'version = :v AND attribute_not_exists(deletingAt)', { ':v': input.holder.version }),
      ...authorityCheck(input.authority),
      auditEntry('ApiKeyCreated', about.orgUser(key.orgId, key.userId), input.actor, { after: audited }, now),
      idempotencyEntry(input.idempotency, key, now),
    ),
  );
  return key;
};

const revokeApiKey: Method<'revokeApiKey'> = ({ table, clock }) => async ({ key, authority, actor }) => {
  const now = clock.now();
  if (key.revokedAt) return key;
  const change = { before: { keyId: key.keyId, revokedAt: null }, after: { keyId: key.keyId, revokedAt: now } };
  await table.transact([
    update(keys.apiKey(key.keyId), {
      condition: 'attribute_exists(PK) AND attribute_not_exists(revokedAt)',
      update: 'SET revokedAt = :now',
      values: { ':now': now },
    }),
    ...authorityCheck(authority),
    auditEntry('ApiKeyRevoked', about.orgUser(key.orgId, key.userId), actor, change, now),
  ]);
  return { ...key, revokedAt: now };
};

export const apiKeys = (context: StoreContext) => methods(context, { getApiKey, listKeysOfUser, createApiKey, revokeApiKey });
