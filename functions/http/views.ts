import type { ApiKey, AuditEntry, OrgUser, Project, ProjectUser } from '../domain/model.js';
import type { Catalog } from '../domain/catalog.js';
import { membershipPermissions } from '../domain/permissions.js';

/** The representations the API returns, as its schemas (schemas.ts) declare them. */

/** `catalog`: the org's roles, which decide what `permissions` holds (default: the built-in ones). */
export function projectUserView(pu: ProjectUser, catalog?: Catalog) {
  return {
    _id: pu.projectUserId,
    projectId: pu.projectId,
    userId: pu.userId,
    roles: pu.roles,
    tags: pu.tags,
    isOwner: pu.isOwner,
    expiresAt: pu.expiresAt ?? null,
    permissions: membershipPermissions(pu, catalog),
    createdAt: pu.createdAt,
    updatedAt: pu.updatedAt,
    version: pu.version,
  };
}

export function auditView(entry: AuditEntry) {
  return {
    _id: entry.eventId,
    projectId: entry.projectId!,
    action: entry.action,
    actor: entry.actor,
    projectUserId: entry.projectUserId,
    userId: entry.userId,
    before: entry.before,
    after: entry.after,
    at: entry.at,
  };
}

type StringKey<R> = { [K in keyof R]: R[K] extends string ? K : never }[keyof R];

/**
 * A record as the API shows it: its own ID as `_id`, then `fields` in that order, a field the
 * record leaves out shown as null (stored items omit null fields) and anything else left out.
 */
function viewOf<R extends object>() {
  return <K extends keyof R>(id: StringKey<R>, fields: readonly K[]) =>
    (record: R) => {
      const view: Record<string, unknown> = { _id: record[id] };
      for (const field of fields) view[field as string] = record[field] ?? null;
      return view as { _id: string } & { [F in K]-?: Exclude<R[F], undefined> | (undefined extends R[F] ? null : never) };
    };
}

export const projectView = viewOf<Project>()('projectId', ['orgId', 'name', 'ownerProjectUserId', 'createdAt', 'updatedAt']);

export const orgUserView = viewOf<OrgUser>()('userId', ['orgId', 'name', 'email', 'kind', 'orgRole', 'createdAt']);

export const apiKeyView = viewOf<ApiKey>()('keyId', ['userId', 'scope', 'projectId', 'name', 'createdAt', 'expiresAt', 'revokedAt']);

/** A whole collection as one page: the shape of every `onePageOf(...)` schema. */
export function onePage<V>(items: V[]) {
  return { data: items, nextCursor: null };
}

/** One page of a list, each item in its view: the shape of every `listOf(...)` schema. */
export function pageOf<T, V>(items: readonly T[], view: (item: T) => V, nextCursor: string | null) {
  return { data: items.map((item) => view(item)), nextCursor };
}
