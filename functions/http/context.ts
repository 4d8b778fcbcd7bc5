import { OpenAPIHono } from '@hono/zod-openapi';
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { Config } from '../config.js';
import { DomainError, errors } from '../domain/errors.js';
import { isExpired, type Actor, type ApiKey, type AuditEntry, type Membership, type OrgUser, type Principal, type Project, type ProjectUser } from '../domain/model.js';
import { membershipPermissions, type OrgCaller, type ProjectCaller } from '../domain/permissions.js';
import {
  IdempotencyRaceError,
  StaleReadError,
  WriteContentionError,
  type Authority,
  type CallerKey,
  type IdempotencyWrite,
  type Store,
  type StoredResponse,
} from '../store/store.js';
import type { Authenticator } from './auth.js';
import { fromZodError } from './problem.js';

export interface Services {
  store: Store;
  config: Config;
  auth: Authenticator;
}

export type AppEnv = { Variables: { principal: Principal; requestId: string } };

/** Every router validates the same way: a failed schema is a 400 problem with field errors. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw fromZodError(result.error, result.target === 'json' ? 'body' : result.target);
    },
  });
}

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
): ProjectCaller | null {
  return callerIn(principal, projectId, project?.orgId ?? null, membership);
}

/**
 * The caller in a project known to exist in `projectOrgId` (null: not known to exist), with the
 * caller's membership there, if any.
 */
function callerIn(principal: Principal, projectId: string, projectOrgId: string | null, membership: Membership | null): ProjectCaller | null {
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
  services: Services,
  principal: Principal,
  projectId: string,
  extra: { projectUserId?: string; withCaller?: boolean } = {},
) {
  const global = principal.key.scope === 'global';
  const byTarget = global && extra.projectUserId !== undefined && !extra.withCaller;
  const context = await services.store.projectContext(projectId, principal.user.userId, {
    projectUserId: extra.projectUserId,
    skipProject: !global || byTarget,
    skipCaller: global && !extra.withCaller,
  });
  // The item that proves the project exists, and in which org.
  const evidence = byTarget ? context.projectUser : global ? context.project : context.callerMembership;
  const projectOrgId = evidence && evidence.projectId === projectId ? evidence.orgId : null;
  return { ...context, caller: callerIn(principal, projectId, projectOrgId, context.callerMembership) };
}

export function orgCallerOf(principal: Principal): OrgCaller & { pinnedProjectId: string | null } {
  return {
    userId: principal.user.userId,
    scope: principal.key.scope,
    orgRole: principal.user.orgRole,
    pinnedProjectId: principal.key.projectId,
  };
}

function callerKeyOf(principal: Principal): CallerKey {
  return { keyId: principal.key.keyId, orgId: principal.key.orgId, userId: principal.user.userId };
}

/** What a project write re-asserts about its caller at commit time (always its live key and user). */
export function projectAuthority(principal: Principal, membership: Membership | null): Authority {
  const caller = callerKeyOf(principal);
  if (principal.key.scope === 'global') return { kind: 'globalKey', caller };
  if (!membership) return { kind: 'selfJoin', caller };
  return { kind: 'membership', caller, projectId: membership.projectId, userId: membership.userId, version: membership.version };
}

/** What an org-level write re-asserts: the key is live and, unless global, the org role unchanged. */
export function orgAuthority(principal: Principal): Authority {
  if (principal.key.scope === 'global') return { kind: 'globalKey', caller: callerKeyOf(principal) };
  return selfAuthority(principal);
}

/** A write about the caller's own keys: its live key and its unchanged org user. */
export function selfAuthority(principal: Principal): Authority {
  const { user } = principal;
  return { kind: 'orgUser', caller: callerKeyOf(principal), orgId: user.orgId, userId: user.userId, version: user.version };
}

const MAX_STALE_RETRIES = 3;

/**
 * Read → decide → transact, again from a fresh read (and a fresh principal) whenever something
 * read changed before the transaction committed. The decision is always made on current facts.
 */
export async function withFreshReads<T>(
  c: Context<AppEnv>,
  services: Services,
  attempt: (principal: Principal, consistent: boolean) => Promise<T>,
): Promise<T> {
  let principal = c.get('principal');
  for (let i = 0; ; i++) {
    try {
      return await attempt(principal, i > 0);
    } catch (error) {
      // The write's transaction found the calling key revoked or expired: reads here stop trusting it too.
      if (error instanceof DomainError && error.status === 401) services.auth.forget(principal.key.keyId);
      // Contention can hide the reason a write could not commit; a dead key is a 401, not a retryable 503.
      if (error instanceof WriteContentionError) {
        await services.auth.authenticate(c.req.header('Authorization'), true).catch((refused: unknown) => {
          if (refused instanceof DomainError && refused.status === 401) throw refused;
        });
      }
      if (!(error instanceof StaleReadError)) throw error;
      if (i >= MAX_STALE_RETRIES) throw errors.conflict('The resource is being changed concurrently; retry the request.');
      principal = await services.auth.authenticate(c.req.header('Authorization'), true);
      c.set('principal', principal);
    }
  }
}

// ---- representations ----------------------------------------------------------------------------

export function projectUserView(pu: ProjectUser) {
  return {
    _id: pu.projectUserId,
    projectId: pu.projectId,
    userId: pu.userId,
    roles: pu.roles,
    tags: pu.tags,
    isOwner: pu.isOwner,
    expiresAt: pu.expiresAt ?? null,
    permissions: membershipPermissions(pu),
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

// ---- ETag / If-Match ------------------------------------------------------------------------------

/** Resources with a version use it; others hash their representation. */
export function etagOf(resource: { version?: number } | object): string {
  const version = (resource as { version?: unknown }).version;
  if (typeof version === 'number') return `"${version}"`;
  return `"${createHash('sha256').update(JSON.stringify(resource)).digest('base64url').slice(0, 16)}"`;
}

/** If-Match: absent or `*` always matches; otherwise one of its (weak or strong) tags must. */
export function ifMatchSatisfied(header: string | undefined, version: number): boolean {
  if (header === undefined || header.trim() === '*') return true;
  return header
    .split(',')
    .map((part) => part.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))
    .some((v) => v === String(version));
}

// ---- Idempotency-Key ------------------------------------------------------------------------------

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface IdempotencyScope {
  /** What the write's transaction must store, or undefined when the request has no key. */
  write<T>(response: (result: T) => StoredResponse): IdempotencyWrite<T> | undefined;
}

function send(c: Context<AppEnv>, response: StoredResponse, replayed = false): Response {
  const headers: Record<string, string> = { ...response.headers, 'Content-Type': 'application/json' };
  if (replayed) headers['Idempotent-Replayed'] = 'true';
  return c.body(JSON.stringify(response.body), response.status as 200, headers);
}

/**
 * A POST under `Idempotency-Key`: the first response is stored by the write's own transaction
 * (so concurrent duplicates commit once), and for 24 h the same key with the same method, path
 * and body replays it; with anything else it is a 422. Keys are scoped to the API key.
 */
export async function respondIdempotently(
  c: Context<AppEnv>,
  services: Services,
  handle: (idempotency: IdempotencyScope) => Promise<StoredResponse>,
): Promise<Response> {
  const header = c.req.header('Idempotency-Key');
  if (header === undefined) return send(c, await handle({ write: () => undefined }));
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw errors.validation('Idempotency-Key must be 1 to 255 printable ASCII characters.', [
      { path: 'header.idempotency-key', message: 'invalid' },
    ]);
  }
  const apiKeyId = c.get('principal').key.keyId;
  const keyHash = sha256(header);
  const requestHash = sha256(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
  const replay = async () => {
    const stored = await services.store.getIdempotencyRecord(apiKeyId, keyHash);
    if (!stored) return null;
    if (stored.requestHash !== requestHash) throw errors.idempotencyKeyReused();
    return send(c, stored, true);
  };
  // The lookup runs beside the handler's read; the handler's transaction waits for it.
  const earlier = replay();
  const noEarlierResponse = earlier.then((found) => {
    if (found) throw new IdempotencyRaceError();
  });
  earlier.catch(() => {});
  noEarlierResponse.catch(() => {});
  let response: StoredResponse;
  try {
    response = await handle({ write: (respond) => ({ apiKeyId, keyHash, requestHash, response: respond, noEarlierResponse }) });
  } catch (error) {
    // An earlier response under this key is the answer, whatever this copy ran into (the
    // transaction held back for it, the conflict the earlier write caused, a concurrent copy
    // that committed first).
    const found = await earlier;
    if (found) return found;
    if (error instanceof IdempotencyRaceError || (error instanceof DomainError && error.status < 500)) {
      const winner = await replay();
      if (winner) return winner;
    }
    throw error;
  }
  return (await earlier) ?? send(c, response);
}
