import { ENTITY } from '../keys.js';
import { expectedKeys } from './rules/layout.js';
import { at, type Item } from './types.js';

/** The items sorted by entity and indexed the ways the rules look them up. */
export interface Inventory {
  items: Item[];
  /** `PK | SK` → item, every item (entity known or not). */
  byKey: Map<string, Item>;
  orgs: Set<string>;
  /** userId → OrgUser */
  orgUsers: Map<string, Item>;
  /** projectId → Project */
  projects: Map<string, Item>;
  projectUsers: Item[];
  /** projectUserId → ProjectUser */
  projectUserById: Map<string, Item>;
  /** `PK | SK` → Membership */
  memberships: Map<string, Item>;
  apiKeys: Item[];
  emailGuards: Item[];
  audits: Item[];
  /** orgId → the org's role catalog */
  catalogs: Map<string, Item>;
  /** roleId → a custom role's grant counter */
  roleMetas: Map<string, Item>;
  roleGrants: Item[];
}

/** Only items whose entity the layout knows are sorted (the others are `entity` violations). */
export function inventory(items: Item[]): Inventory {
  const inv: Inventory = {
    items,
    byKey: new Map(),
    orgs: new Set(),
    orgUsers: new Map(),
    projects: new Map(),
    projectUsers: [],
    projectUserById: new Map(),
    memberships: new Map(),
    apiKeys: [],
    emailGuards: [],
    audits: [],
    catalogs: new Map(),
    roleMetas: new Map(),
    roleGrants: [],
  };
  for (const item of items) {
    inv.byKey.set(at(item), item);
    if (!expectedKeys(item)) continue;
    switch (item.entity) {
      case ENTITY.catalog:
        inv.catalogs.set(item.orgId, item);
        break;
      case ENTITY.roleMeta:
        inv.roleMetas.set(item.roleId, item);
        break;
      case ENTITY.roleGrant:
        inv.roleGrants.push(item);
        break;
      case ENTITY.org:
        inv.orgs.add(item.orgId);
        break;
      case ENTITY.orgUser:
        inv.orgUsers.set(item.userId, item);
        break;
      case ENTITY.project:
        inv.projects.set(item.projectId, item);
        break;
      case ENTITY.projectUser:
        inv.projectUsers.push(item);
        inv.projectUserById.set(item.projectUserId, item);
        break;
      case ENTITY.membership:
        inv.memberships.set(at(item), item);
        break;
      case ENTITY.apiKey:
        inv.apiKeys.push(item);
        break;
      case ENTITY.emailGuard:
        inv.emailGuards.push(item);
        break;
      case ENTITY.audit:
        inv.audits.push(item);
        break;
    }
  }
  return inv;
}
