import { ENTITY } from '../../functions/store/keys.js';
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
  const byKey = new Map<string, Item>();
  const byEntity = new Map<string, Item[]>();
  for (const item of items) {
    byKey.set(at(item), item);
    if (!expectedKeys(item)) continue;
    const same = byEntity.get(item.entity);
    if (same) same.push(item);
    else byEntity.set(item.entity, [item]);
  }
  const all = (entity: string) => byEntity.get(entity) ?? [];
  const keyed = (entity: string, key: (item: Item) => string) => new Map(all(entity).map((item) => [key(item), item]));
  return {
    items,
    byKey,
    orgs: new Set(all(ENTITY.org).map((org) => org.orgId)),
    orgUsers: keyed(ENTITY.orgUser, (user) => user.userId),
    projects: keyed(ENTITY.project, (project) => project.projectId),
    projectUsers: all(ENTITY.projectUser),
    projectUserById: keyed(ENTITY.projectUser, (pu) => pu.projectUserId),
    memberships: keyed(ENTITY.membership, at),
    apiKeys: all(ENTITY.apiKey),
    emailGuards: all(ENTITY.emailGuard),
    audits: all(ENTITY.audit),
    catalogs: keyed(ENTITY.catalog, (catalog) => catalog.orgId),
    roleMetas: keyed(ENTITY.roleMeta, (meta) => meta.roleId),
    roleGrants: all(ENTITY.roleGrant),
  };
}
