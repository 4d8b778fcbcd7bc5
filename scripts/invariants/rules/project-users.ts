import { MEMBERSHIP_LIMITS } from '../../../functions/domain/limits.js';
import { isStoredTag } from '../../../functions/domain/tags.js';
import { keys } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { at, isString, type Item } from '../types.js';

const TWIN_FIELDS = ['projectUserId', 'projectId', 'orgId', 'userId', 'version', 'isOwner', 'createdAt', 'updatedAt'] as const;

const sameList = (a: unknown, b: unknown) =>
  Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Every ProjectUser has its Membership twin (the uniqueness guard and authorization record) and
 * agrees with it, holds values the API allows, belongs to an existing project of its own
 * organization and to an existing org user of it; one per (project, org user); every Membership
 * has its ProjectUser.
 */
export function checkProjectUsers(inv: Inventory, collect: Collector) {
  const { report } = collect;
  const { projectUsers, projectUserById, memberships, projects, orgUsers } = inv;
  const byProjectAndUser = new Map<string, Item[]>();
  for (const pu of projectUsers) {
    const pair = `${pu.projectId}/${pu.userId}`;
    byProjectAndUser.set(pair, [...(byProjectAndUser.get(pair) ?? []), pu]);
    const twin = memberships.get(at(keys.membership(pu.projectId, pu.userId)));
    if (!twin) report('membership-without-guard', pu, `no Membership ${keys.membership(pu.projectId, pu.userId).SK}`);
    else {
      const differs: string[] = TWIN_FIELDS.filter((f) => twin[f] !== pu[f]);
      if (!sameList(twin.roles, pu.roles)) differs.push('roles');
      if (!sameList(twin.tags, pu.tags)) differs.push('tags');
      if (differs.length > 0) report('twin-mismatch', pu, `differs from its Membership in ${differs.join(', ')}`);
    }
    checkValues(pu, collect);
    const project = projects.get(pu.projectId);
    if (!project) report('orphan', pu, `project ${pu.projectId} does not exist`);
    else if (project.orgId !== pu.orgId) report('cross-org', pu, `orgId ${pu.orgId} but the project belongs to ${project.orgId}`);
    const user = orgUsers.get(pu.userId);
    if (!user) report('member-user-missing', pu, `org user ${pu.userId} does not exist (GSI1 ${pu.GSI1PK} dangles)`);
    else if (user.orgId !== pu.orgId) report('cross-org', pu, `member ${pu.userId} belongs to organization ${user.orgId}`);
  }
  for (const [pair, list] of byProjectAndUser) {
    if (list.length > 1) report('duplicate-membership', list[1]!, `${list.length} ProjectUsers for ${pair}: ${list.map((p) => p.projectUserId).join(', ')}`);
  }
  for (const membership of memberships.values()) {
    const twin = projectUserById.get(membership.projectUserId);
    if (!twin || twin.projectId !== membership.projectId || twin.userId !== membership.userId) {
      report('guard-without-membership', membership, `no ProjectUser ${keys.projectUser(membership.projectId, membership.projectUserId).SK}`);
    }
    if (!projects.has(membership.projectId)) report('orphan', membership, `project ${membership.projectId} does not exist`);
  }
}

/** `bad-value`: roles, tags and isOwner within the API's domain (domain/limits.ts, domain/tags.ts). */
function checkValues(pu: Item, { report }: Collector) {
  if (!Array.isArray(pu.roles) || pu.roles.length === 0 || pu.roles.length > MEMBERSHIP_LIMITS.roles || pu.roles.some((r: unknown) => !isString(r))) {
    report('bad-value', pu, `roles ${JSON.stringify(pu.roles)}`);
  } else if (new Set(pu.roles).size !== pu.roles.length) report('bad-value', pu, `duplicate roles ${JSON.stringify(pu.roles)}`);
  if (
    !Array.isArray(pu.tags) ||
    pu.tags.length > MEMBERSHIP_LIMITS.tags ||
    !pu.tags.every(isStoredTag) ||
    new Set(pu.tags).size !== pu.tags.length
  ) {
    report('bad-value', pu, `tags ${JSON.stringify(pu.tags)}`);
  }
  if (typeof pu.isOwner !== 'boolean') report('bad-value', pu, `isOwner ${JSON.stringify(pu.isOwner)}`);
}
