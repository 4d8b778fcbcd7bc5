import { isBuiltInRole } from '../../../functions/domain/catalog.js';
import { isExpired } from '../../../functions/domain/model.js';
import { keys } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { at, isString } from '../types.js';

/**
 * Roles as data: every role on a live membership exists in its org's catalog (no membership ends
 * up holding a deleted role); every custom role has its grant counter; every membership holding a
 * custom role has its grant item, with the membership's expiry, and every grant item its membership,
 * so holder counts are exact.
 */
export function checkRoles(inv: Inventory, { report }: Collector) {
  const customRolesOf = (orgId: string) => new Set(Object.keys(inv.catalogs.get(orgId)?.roles ?? {}).filter((id) => !isBuiltInRole(id)));
  const expectedGrants = new Set<string>();
  for (const pu of inv.projectUsers) {
    if (!Array.isArray(pu.roles)) continue;
    const known = customRolesOf(pu.orgId);
    for (const roleId of pu.roles) {
      if (!isString(roleId) || isBuiltInRole(roleId)) continue;
      expectedGrants.add(at(keys.roleGrant(roleId, pu.projectId, pu.projectUserId)));
      if (!known.has(roleId) && !isExpired(pu)) report('unknown-role', pu, `holds role ${roleId}, which its organization does not have`);
      // TTL removes an expired membership and its grants independently: only live ones must agree.
      const grant = inv.byKey.get(at(keys.roleGrant(roleId, pu.projectId, pu.projectUserId)));
      if (!isExpired(pu) && !grant) report('role-grant', pu, `holds ${roleId} without its grant item`);
      // A role's holders are counted from its grants, expired ones left out: a grant must expire
      // when its membership does, not before.
      if (!isExpired(pu) && grant && (grant.expiresAt ?? null) !== (pu.expiresAt ?? null)) {
        report('role-grant', pu, `holds ${roleId} until ${pu.expiresAt ?? 'forever'}, its grant item says ${grant.expiresAt ?? 'forever'}`);
      }
    }
  }
  for (const grant of inv.roleGrants) {
    if (!expectedGrants.has(at(grant))) report('role-grant', grant, `grant of ${grant.roleId} to ${grant.projectUserId}, which does not hold it`);
  }
  for (const catalog of inv.catalogs.values()) {
    for (const roleId of customRolesOf(catalog.orgId)) {
      if (!inv.roleMetas.has(roleId)) report('role-meta', catalog, `custom role ${roleId} has no grant counter`);
    }
  }
  for (const meta of inv.roleMetas.values()) {
    const owner = [...inv.catalogs.values()].find((catalog) => meta.roleId in (catalog.roles ?? {}));
    if (!owner && inv.catalogs.size > 0) report('role-meta', meta, `grant counter of ${meta.roleId}, a role no catalog has`);
  }
}
