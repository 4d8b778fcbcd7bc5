import type { Context } from 'hono';
import { errors } from '../domain/errors.js';
import { isExpired, type Actor, type Membership, type Principal, type Project } from '../domain/model.js';
import type { Catalog } from '../domain/catalog.js';
import type { OrgCaller, ProjectCaller } from '../domain/permissions.js';
import type { Store } from '../store/store.js';
import type { AppEnv } from './router.js';

/** Who is asking, as the domain's rules and the audit log see it. */
export function actorOf(principal: Principal): Actor {
  return { keyId: principal.key.keyId, userId: principal.user.userId };
}

/**
 * The caller as one project sees it, or null when the project is not visible to this key:
 * missing, in another org, or outside the key's pin. Callers answer null with 404.
 */
export function projectCallerOf(
  principal: Principal,
  projectId: string,
  project: Project | null,
  membership: Membership | null,
  catalog?: Catalog,
): ProjectCaller | null {
  return callerIn(principal, projectId, project?.orgId ?? null, membership, catalog);
}

/** The caller in the project of one of its own memberships (which names its project and org). */
export function memberCallerOf(principal: Principal, membership: Membership, catalog: Catalog): ProjectCaller | null {
  return callerIn(principal, membership.projectId, membership.orgId, membership, catalog);
}

/** A project this key cannot see is answered like a missing one. */
export function visible(caller: ProjectCaller | null): ProjectCaller {
  if (!caller) throw errors.notFound();
  return caller;
}

/**
 * The caller in a project known to exist in `projectOrgId` (null: not known to exist), with the
 * caller's membership there, if any.
 */
function callerIn(
  principal: Principal,
  projectId: string,
  projectOrgId: string | null,
  membership: Membership | null,
  catalog?: Catalog,
): ProjectCaller | null {
  const { key } = principal;
  if (projectOrgId === null || projectOrgId !== key.orgId) return null;
  if (key.projectId !== null && key.projectId !== projectId) return null;
  return {
    userId: principal.user.userId,
    scope: key.scope,
    // An expired membership stops authorizing at once, before TTL removes it.
    membership: membership && !isExpired(membership)
      ? { projectUserId: membership.projectUserId, roles: membership.roles, isOwner: membership.isOwner }
      : null,
    ...(catalog ? { catalog } : {}),
  };
}

/**
 * What a read about one project fetches to decide who is asking, and no more, in one
 * BatchGetItem (a GetItem for one item):
 * - a `global` key asking for one project user: that item alone. It carries its project's ID and
 *   org, so it proves the project visible; when it is missing the answer is the same 404 as for a
 *   missing project.
 * - any other `global` read: the project (its org decides visibility), and the caller's
 *   membership only when `withCaller`.
 * - any other key: its membership, which exists only in a project of the caller's org (projects
 *   are never deleted), and without which such a key sees nothing (404).
 * `GET …/users/:pu` reads 1 item (global key) or 2 (member key) where it read 3.
 */
export async function readContext(
  store: Store,
  principal: Principal,
  projectId: string,
  extra: { projectUserId?: string; withCaller?: boolean } = {},
) {
  const global = principal.key.scope === 'global';
  const byTarget = global && extra.projectUserId !== undefined && !extra.withCaller;
  // The org's roles come beside the items (cached for up to KEY_CACHE_MAX_SECONDS): one round trip.
  const [context, catalog] = await Promise.all([
    store.projectContext(projectId, principal.user.userId, {
      projectUserId: extra.projectUserId,
      skipProject: !global || byTarget,
      skipCaller: global && !extra.withCaller,
    }),
    store.getCatalog(principal.key.orgId),
  ]);
  // The item that proves the project exists, and in which org.
  const evidence = byTarget ? context.projectUser : global ? context.project : context.callerMembership;
  const projectOrgId = evidence && evidence.projectId === projectId ? evidence.orgId : null;
  return { ...context, catalog, caller: callerIn(principal, projectId, projectOrgId, context.callerMembership, catalog) };
}

/** What a page of one project's listing holds: items written with their project's ID and org. */
interface ProjectPage {
  items: readonly { projectId?: string | null; orgId: string }[];
}

/**
 * A listing of one project, for a caller that must see it: one round trip.
 * - a `global` key needs no membership, and the page's own items prove the project exists and in
 *   which org (every item of the project's partition was written with both), so the page and the
 *   org's roles are all it reads. An empty page proves nothing, and a project the key cannot see
 *   must take as long as a missing one: in both cases the project is read after the page.
 * - any other key: its access and the page in parallel.
 */
export async function pageInProject<P extends ProjectPage>(c: Context<AppEnv>, projectId: string, list: (store: Store) => Promise<P>) {
  const { store } = c.var.services;
  const principal = c.get('principal');
  if (principal.key.scope === 'global') {
    const [page, catalog] = await Promise.all([list(store), store.getCatalog(principal.key.orgId)]);
    const evidence = page.items.find((item) => item.projectId === projectId);
    const caller = evidence ? callerIn(principal, projectId, evidence.orgId, null, catalog) : null;
    if (caller) return { caller, page, catalog };
    // No evidence, or a project this key cannot see: the project is read either way, so that a
    // hidden project costs the same round trips as a missing one.
    const context = await readContext(store, principal, projectId);
    return { caller: visible(context.caller), page, catalog: context.catalog };
  }
  const [context, page] = await Promise.all([readContext(store, principal, projectId), list(store)]);
  return { caller: visible(context.caller), page, catalog: context.catalog };
}

export function orgCallerOf(principal: Principal): OrgCaller & { pinnedProjectId: string | null } {
  return {
    userId: principal.user.userId,
    scope: principal.key.scope,
    orgRole: principal.user.orgRole,
    pinnedProjectId: principal.key.projectId,
  };
}

/**
 * What a project write reads, consistently: what `extra` asks for, and the caller, who must see
 * the project (so the project exists).
 */
export async function writeContext(
  store: Store,
  principal: Principal,
  projectId: string,
  extra: Parameters<Store['projectContext']>[2] = {},
) {
  // The catalog is read consistently with the rest: its version becomes a condition of the write.
  const context = await store.projectContext(projectId, principal.user.userId, { ...extra, catalogOf: principal.key.orgId }, true);
  const catalog = context.catalog!;
  const caller = visible(projectCallerOf(principal, projectId, context.project, context.callerMembership, catalog));
  return { ...context, project: context.project!, caller, catalog };
}
