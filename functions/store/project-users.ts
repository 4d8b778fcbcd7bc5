import { errors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { ProjectUser } from '../domain/model.js';
import {
  about,
  activeOrgUserCheck,
  auditEntry,
  authorityCheck,
  check,
  combine,
  idempotencyEntry,
  memberSnapshot,
  pairKeys,
  putMemberPair,
  remove,
  updateMemberPair,
} from './conditions.js';
import { catalogCheck, grantChanges } from './catalog.js';
import { GSI1, keys, partitions, prefixes } from './keys.js';
import { contains, rangeQuery } from './queries.js';
import { STALE, StaleReadError } from './table.js';
import { methods, type Method, type Store, type StoreContext } from './types.js';

/*
 * Project users: a member of a project, stored twice (the project user, found by its ID, and the
 * membership, found by (project, org user)) and always written in pairs.
 */

const listProjectUsers: Method<'listProjectUsers'> = ({ table }) => (projectId, query) =>
  table.queryPage(
    `project-users:${projectId}:${query.role ?? ''}:${query.tag ?? ''}`,
    rangeQuery({
      pk: partitions.project(projectId),
      prefix: prefixes.projectUser,
      filters: [contains('roles', query.role), contains('tags', query.tag)],
    }),
    query,
  );

const listMembershipsOfUser: Method<'listMembershipsOfUser'> = ({ table }) => (userId, page) =>
  table.queryPage(`user-memberships:${userId}`, rangeQuery({ index: GSI1, pk: partitions.user(userId), prefix: prefixes.project }), page);

const addProjectUser: Method<'addProjectUser'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const pu: ProjectUser = {
    projectUserId: newId('projectUser'),
    projectId: input.project.projectId,
    orgId: input.project.orgId,
    userId: input.userId,
    roles: input.roles,
    tags: input.tags,
    isOwner: false,
    expiresAt: input.expiresAt ?? null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await table.transact(
    combine(
      ...putMemberPair(pu, errors.alreadyMember()),
      activeOrgUserCheck(pu.orgId, pu.userId, errors.notFound()),
      input.catalog ? catalogCheck(pu.orgId, input.catalog.version) : null,
      ...grantChanges(null, pu),
      ...authorityCheck(input.authority),
      auditEntry('ProjectUserAdded', about.member(pu), input.actor, { after: memberSnapshot(pu) }, now),
      idempotencyEntry(input.idempotency, pu, now),
    ),
  );
  return pu;
};

const updateProjectUser: Method<'updateProjectUser'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const { before, change } = input;
  const after: ProjectUser = {
    ...before,
    roles: change.roles ?? before.roles,
    tags: change.tags ?? before.tags,
    expiresAt: change.expiresAt === undefined ? (before.expiresAt ?? null) : change.expiresAt,
    updatedAt: now,
    version: before.version + 1,
  };
  const onStale = input.ifMatch ? errors.preconditionFailed() : STALE;
  const accessChanged = change.roles !== undefined || change.expiresAt !== undefined;
  await table.transact(
    combine(
      ...updateMemberPair(before, after, onStale),
      // A role or expiry change must not land on a member who became owner in the meantime.
      accessChanged ? check(keys.project(before.projectId), 'ownerProjectUserId <> :target', { ':target': before.projectUserId }) : null,
      input.catalog ? catalogCheck(before.orgId, input.catalog.version) : null,
      ...grantChanges(before, after),
      ...authorityCheck(input.authority),
      auditEntry('ProjectUserUpdated', about.member(before), input.actor, { before: memberSnapshot(before), after: memberSnapshot(after) }, now),
    ),
  );
  return after;
};

const removeProjectUser: Method<'removeProjectUser'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const { target } = input;
  const onStale = input.ifMatch ? errors.preconditionFailed() : STALE;
  const notOwnerAtVersion = {
    condition: 'version = :expected AND isOwner = :false',
    values: { ':expected': target.version, ':false': false },
  };
  await table.transact(
    combine(
      ...pairKeys(target).map((key) => remove(key, notOwnerAtVersion, onStale)),
      input.catalog ? catalogCheck(target.orgId, input.catalog.version) : null,
      ...grantChanges(target, null),
      ...authorityCheck(input.authority),
      auditEntry('ProjectUserRemoved', about.member(target), input.actor, { before: memberSnapshot(target) }, now),
    ),
  );
};

/** Authorized by the deletion of the org user, not by a project role. */
const removeMembershipOfDeletedUser: Method<'removeMembershipOfDeletedUser'> = (context) => {
  const removeMember = removeProjectUser(context);
  const removeOfDeleted: Store['removeMembershipOfDeletedUser'] = async ({ target, actor }) => {
    try {
      await removeMember({ target, ifMatch: false, authority: { kind: 'operator' }, actor });
      return 'removed';
    } catch (error) {
      if (!(error instanceof StaleReadError)) throw error;
      const current = await context.table.getItem<ProjectUser>(keys.projectUser(target.projectId, target.projectUserId), true);
      if (!current) return 'removed';
      if (current.isOwner) return 'owner';
      return removeOfDeleted({ target: current, actor });
    }
  };
  return removeOfDeleted;
};

export const projectUsers = (context: StoreContext) =>
  methods(context, { listProjectUsers, listMembershipsOfUser, addProjectUser, updateProjectUser, removeProjectUser, removeMembershipOfDeletedUser });
