import { keyHolderOf, type KeyHolder, type OrgUser } from '../../../functions/domain/model.js';
import { assertMayHoldKey, KEY_SCOPES, type KeyScope } from '../../../functions/domain/permissions.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { isString, type Item } from '../types.js';
import { SHA256_HEX } from './layout.js';

/** The API's own rule (global keys for org owners and admins only), as a yes or no. */
function mayHoldKey(user: Item, scope: unknown): boolean {
  try {
    assertMayHoldKey({ orgRole: user.orgRole }, scope as KeyScope);
    return true;
  } catch {
    return false;
  }
}

/**
 * A live key belongs to an existing org user of its organization, has a known scope (a global
 * one only for a user who is not a plain org member), is pinned only to a project of its own
 * organization, and stores a SHA-256 of its secret.
 */
export function checkApiKeys({ apiKeys, orgUsers, projects }: Inventory, { report }: Collector) {
  for (const key of apiKeys) {
    const user = orgUsers.get(key.userId);
    if (!user) {
      // A deleted user's keys stay as revoked tombstones; a live one is a violation.
      if (!key.revokedAt) report('key-without-user', key, `live key of org user ${key.userId}, which does not exist`);
    } else if (user.orgId !== key.orgId) report('cross-org', key, `key of org ${key.orgId} for a user of ${user.orgId}`);
    if (!(KEY_SCOPES as readonly unknown[]).includes(key.scope)) report('bad-value', key, `scope ${JSON.stringify(key.scope)}`);
    if (user && !key.revokedAt && !mayHoldKey(user, key.scope)) report('bad-value', key, 'a live global key of an org member');
    if (key.projectId !== undefined && key.projectId !== null) {
      const project = projects.get(key.projectId);
      if (project && project.orgId !== key.orgId) report('cross-org', key, `pinned to ${key.projectId} of organization ${project.orgId}`);
    }
    if (!isString(key.secretHash) || !SHA256_HEX.test(key.secretHash)) report('bad-value', key, 'secretHash is not a SHA-256 hex digest');
    if (user && !key.revokedAt && key.holder !== undefined) {
      const differing = holderDifferences(key.holder as KeyHolder, keyHolderOf(user as unknown as OrgUser));
      if (differing.length > 0) report('key-holder', key, `its holder copy differs from org user ${key.userId} in ${differing.join(', ')}`);
    }
  }
}

/** The fields in which a key's copy of its holder disagrees with the org user's own item. */
function holderDifferences(copy: KeyHolder, actual: KeyHolder): string[] {
  return (Object.keys(actual) as (keyof KeyHolder)[]).filter((field) => (copy?.[field] ?? null) !== (actual[field] ?? null));
}
