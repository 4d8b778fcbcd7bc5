import { checkRoles } from './rules/roles.js';
import { collector } from './collector.js';
import { inventory } from './inventory.js';
import { checkApiKeys } from './rules/api-keys.js';
import { checkAudit } from './rules/audit.js';
import { checkDeadKeyWrites } from './rules/dead-keys.js';
import { checkIndexEntries } from './rules/index-entries.js';
import { checkLayout } from './rules/layout.js';
import { checkOrgUsers } from './rules/org-users.js';
import { checkProjects } from './rules/projects.js';
import { checkProjectUsers } from './rules/project-users.js';
import type { Item, Violation } from './types.js';

/**
 * Every broken invariant in a set of items: a pure function of them, so tests can feed it
 * hand-made items. `indexEntries` (GSI1 as read from the index), when given, are checked against
 * their base items.
 */
export function findViolations(items: Item[], indexEntries: Item[] | null = null): Violation[] {
  const collect = collector();
  const inv = inventory(items);
  checkLayout(items, collect);
  checkOrgUsers(inv, collect);
  checkProjectUsers(inv, collect);
  checkProjects(inv, collect);
  checkApiKeys(inv, collect);
  checkAudit(inv, collect);
  checkDeadKeyWrites(inv, collect);
  checkRoles(inv, collect);
  if (indexEntries) checkIndexEntries(inv, indexEntries, collect);
  return collect.violations;
}
