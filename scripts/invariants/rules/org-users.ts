import { keys } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { at } from '../types.js';

/**
 * `cross-org`: an org user's organization exists. `email-guard`: a user with an e-mail has the
 * guard that keeps it unique in the organization, and every guard is its user's.
 */
export function checkOrgUsers({ orgs, orgUsers, emailGuards, byKey }: Inventory, { report }: Collector) {
  for (const user of orgUsers.values()) {
    if (!orgs.has(user.orgId)) report('cross-org', user, `org user of organization ${user.orgId}, which does not exist`);
    if (user.email) {
      const guard = byKey.get(at(keys.emailGuard(user.orgId, String(user.email))));
      if (!guard) report('email-guard', user, `user with e-mail ${user.email} has no e-mail guard`);
      else if (guard.userId !== user.userId) report('email-guard', user, `e-mail guard belongs to ${guard.userId}`);
    }
  }
  for (const guard of emailGuards) {
    const user = orgUsers.get(guard.userId);
    const expected = user && keys.emailGuard(user.orgId, String(user.email ?? ''));
    if (!expected || expected.PK !== guard.PK || expected.SK !== guard.SK) {
      report('email-guard', guard, `e-mail guard without a matching org user ${guard.userId}`);
    }
  }
}
