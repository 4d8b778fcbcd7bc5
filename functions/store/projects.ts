import { errors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Project, ProjectUser } from '../domain/model.js';
import { normalizeRoles } from '../domain/permissions.js';
import {
  about,
  activeOrgUserCheck,
  auditEntry,
  authorityCheck,
  combine,
  idempotencyEntry,
  memberSnapshot,
  pairKeys,
  put,
  putMemberPair,
  update,
  updateMemberPair,
} from './conditions.js';
import { catalogOf, grantChanges } from './catalog.js';
import { ENTITY, GSI1, gsi1, keys, partitions, prefixes, type ItemKey } from './keys.js';
import { rangeQuery } from './queries.js';
import { STALE } from './table.js';
import { methods, type Method, type StoreContext } from './types.js';

/* Projects: the project item, which points at its single owner, and the reads around it. */

const getProject: Method<'getProject'> = ({ table }) => (projectId) => table.getItem<Project>(keys.project(projectId));

const getProjects: Method<'getProjects'> = ({ table }) => async (projectIds) => {
  const items = await table.batchGet(projectIds.map((id) => keys.project(id)), false);
  return items.filter((p) => p !== null) as unknown as Project[];
};

/**
 * One BatchGetItem. A read leaves out what cannot change its answer (`skipProject`,
 * `skipCaller`: see `readContext` in the HTTP layer); a skipped item comes back as null.
 */
const projectContext: Method<'projectContext'> = ({ table }) => async (projectId, callerUserId, extra = {}, consistent = false) => {
  const wanted: ItemKey[] = [];
  const slot = (key: ItemKey | undefined) => (key ? wanted.push(key) - 1 : -1);
  const at = {
    project: slot(extra.skipProject ? undefined : keys.project(projectId)),
    caller: slot(extra.skipCaller ? undefined : keys.membership(projectId, callerUserId)),
    projectUser: slot(extra.projectUserId ? keys.projectUser(projectId, extra.projectUserId) : undefined),
    member: slot(extra.memberUserId ? keys.membership(projectId, extra.memberUserId) : undefined),
    orgUser: slot(extra.orgUser ? keys.orgUser(extra.orgUser.orgId, extra.orgUser.userId) : undefined),
    catalog: slot(extra.catalogOf ? keys.catalog(extra.catalogOf) : undefined),
  };
  const items = await table.batchGet(wanted, consistent);
  const pick = <T>(index: number) => (index < 0 ? null : ((items[index] ?? null) as T | null));
  return {
    project: pick(at.project),
    callerMembership: pick(at.caller),
    projectUser: pick(at.projectUser),
    memberMembership: pick(at.member),
    orgUser: pick(at.orgUser),
    catalog: at.catalog < 0 ? null : catalogOf(pick(at.catalog)),
  };
};

const listOrgProjects: Method<'listOrgProjects'> = ({ table }) => (orgId, page) =>
  table.queryPage(`org-projects:${orgId}`, rangeQuery({ index: GSI1, pk: partitions.org(orgId), prefix: prefixes.project }), page);

const createProject: Method<'createProject'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const projectId = newId('project');
  const owner: ProjectUser = {
    projectUserId: newId('projectUser'),
    projectId,
    orgId: input.orgId,
    userId: input.ownerUserId,
    roles: ['admin'],
    tags: [],
    isOwner: true,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const project: Project = {
    projectId,
    orgId: input.orgId,
    name: input.name,
    ownerProjectUserId: owner.projectUserId,
    ownerUserId: owner.userId,
    ownerRoles: owner.roles,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await table.transact(
    combine(
      put(ENTITY.project, { ...keys.project(projectId), ...gsi1.projectOfOrg(input.orgId, projectId), ...project }),
      ...putMemberPair(owner),
      // The owner becomes a member: the same check as any join.
      activeOrgUserCheck(input.orgId, owner.userId, errors.unauthenticated()),
      ...authorityCheck(input.authority),
      auditEntry('ProjectCreated', about.member(owner), input.actor, { after: { name: project.name, ...memberSnapshot(owner) } }, now),
      idempotencyEntry(input.idempotency, { project, owner }, now),
    ),
  );
  return { project, owner };
};

/**
 * Moves the project's single owner pointer and both members' `isOwner` in one transaction;
 * the old owner keeps its roles plus `admin`. The old owner is not read: its roles are on the
 * project (`ownerRoles`, for projects written before that, the caller passes the member it
 * read), its items are updated in place on condition that they still say `isOwner`, and the
 * project's version and owner pointer guard against any concurrent transfer.
 */
const transferOwnership: Method<'transferOwnership'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const { project, newOwner } = input;
  const oldOwnerRoles = project.ownerRoles ?? input.oldOwner?.roles;
  if (!oldOwnerRoles) throw new Error('transferOwnership needs the old owner for a project without ownerRoles');
  const demotedRoles = normalizeRoles([...oldOwnerRoles, 'admin']);
  const project2: Project = {
    ...project,
    ownerProjectUserId: newOwner.projectUserId,
    ownerUserId: newOwner.userId,
    ownerRoles: newOwner.roles,
    updatedAt: now,
    version: project.version + 1,
  };
  // The owner never expires.
  const newOwner2: ProjectUser = { ...newOwner, isOwner: true, expiresAt: null, updatedAt: now, version: newOwner.version + 1 };
  const oldOwner = { projectId: project.projectId, projectUserId: project.ownerProjectUserId, userId: project.ownerUserId };
  const demote = {
    condition: 'isOwner = :true',
    update: 'SET isOwner = :false, #roles = :roles, updatedAt = :now, version = version + :one',
    names: { '#roles': 'roles' },
    values: { ':true': true, ':false': false, ':roles': demotedRoles, ':now': now, ':one': 1 },
  };
  await table.transact(
    combine(
      update(keys.project(project.projectId), {
        condition: 'version = :v AND ownerProjectUserId = :old',
        update: 'SET ownerProjectUserId = :new, ownerUserId = :newUser, ownerRoles = :newRoles, updatedAt = :now, version = :v2',
        values: {
          ':v': project.version,
          ':old': project.ownerProjectUserId,
          ':new': newOwner.projectUserId,
          ':newUser': newOwner.userId,
          ':newRoles': newOwner.roles,
          ':now': now,
          ':v2': project2.version,
        },
      }),
      ...pairKeys(oldOwner).map((key) => update(key, demote)),
      ...updateMemberPair(newOwner, newOwner2, STALE),
      // Its custom roles' grants lose the expiry with it: an expired grant no longer counts as a
      // holder, and the owner would go on holding a role its deletion did not see.
      ...grantChanges(newOwner, newOwner2),
      // A user being deleted is gone for the API: it can take no project, as it can join none.
      activeOrgUserCheck(project.orgId, newOwner.userId, errors.notFound()),
      ...authorityCheck(input.authority),
      auditEntry(
        'ProjectOwnershipTransferred',
        { ...about.member(newOwner), orgId: project.orgId },
        input.actor,
        // The entry is about the new owner (its snapshot: roles, isOwner, the expiry it loses) and
        // names the old one, whose roles gain `admin`: both memberships' changes in one event.
        {
          before: { ...memberSnapshot(newOwner), ownerProjectUserId: project.ownerProjectUserId, ownerUserId: project.ownerUserId, oldOwnerRoles },
          after: { ...memberSnapshot(newOwner2), ownerProjectUserId: newOwner.projectUserId, ownerUserId: newOwner.userId, oldOwnerRoles: demotedRoles },
        },
        now,
      ),
      idempotencyEntry(input.idempotency, { project: project2 }, now),
    ),
  );
  return { project: project2, newOwner: newOwner2 };
};

export const projects = (context: StoreContext) =>
  methods(context, { getProject, getProjects, projectContext, listOrgProjects, createProject, transferOwnership });
