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

export function projectView(project: Project) {
  return {
    _id: project.projectId,
    orgId: project.orgId,
    name: project.name,
    ownerProjectUserId: project.ownerProjectUserId,
    createdAt: project.createdAt,
    updatedAt: project.updatedAt,
  };
}

export function orgUserView(user: OrgUser) {
  return {
    _id: user.userId,
    orgId: user.orgId,
    name: user.name,
    email: user.email ?? null,
    kind: user.kind,
    orgRole: user.orgRole,
    createdAt: user.createdAt,
  };
}

export function apiKeyView(key: ApiKey) {
  return {
    _id: key.keyId,
    userId: key.userId,
    scope: key.scope,
    projectId: key.projectId ?? null,
    name: key.name ?? null,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt ?? null,
    revokedAt: key.revokedAt ?? null,
  };
}

/** One page of a list, each item in its view: the shape of every `listOf(...)` schema. */
export function pageOf<T, V>(items: readonly T[], view: (item: T) => V, nextCursor: string | null) {
  return { data: items.map((item) => view(item)), nextCursor };
}
