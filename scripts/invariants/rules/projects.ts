import { keys } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { at, type Item } from '../types.js';

const sameRoles = (a: unknown, b: unknown) =>
  Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((role) => b.includes(role));

/**
 * Every project belongs to an existing organization (its GSI1 entry), has exactly one owner, and
 * its owner pointer (`ownerProjectUserId`, `ownerUserId`, `ownerRoles`) agrees with that owner,
 * who is a member with a Membership.
 */
export function checkProjects({ orgs, projects, projectUsers, projectUserById, memberships }: Inventory, { report }: Collector) {
  const byProject = new Map<string, Item[]>();
  for (const pu of projectUsers) byProject.set(pu.projectId, [...(byProject.get(pu.projectId) ?? []), pu]);
  for (const project of projects.values()) {
    if (!orgs.has(project.orgId)) report('dangling-gsi', project, `GSI1 ${project.GSI1PK}: organization does not exist`);
    const owners = (byProject.get(project.projectId) ?? []).filter((pu) => pu.isOwner === true);
    if (owners.length !== 1) {
      report('owner-count', project, `${owners.length} owners: ${owners.map((o) => o.projectUserId).join(', ') || 'none'}`);
    }
    const owner = projectUserById.get(project.ownerProjectUserId);
    if (!owner || owner.projectId !== project.projectId) {
      report('owner-not-member', project, `ownerProjectUserId ${project.ownerProjectUserId} is not a member`);
      continue;
    }
    if (owner.isOwner !== true) report('owner-pointer', project, `points at ${owner.projectUserId}, whose isOwner is ${owner.isOwner}`);
    if (owner.userId !== project.ownerUserId) report('owner-pointer', project, `ownerUserId ${project.ownerUserId} but the owner item's user is ${owner.userId}`);
    // Absent on projects written before ownerRoles existed; a transfer then reads the owner.
    if (project.ownerRoles !== undefined && !sameRoles(project.ownerRoles, owner.roles)) {
      report('owner-pointer', project, `ownerRoles ${JSON.stringify(project.ownerRoles)} but the owner's roles are ${JSON.stringify(owner.roles)}`);
    }
    if (!memberships.has(at(keys.membership(project.projectId, owner.userId)))) {
      report('owner-not-member', project, `owner ${owner.userId} has no Membership`);
    }
  }
}
