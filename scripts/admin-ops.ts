import { DomainError, errors } from '../functions/domain/errors.js';
import type { KeyScope, OrgRole } from '../functions/domain/permissions.js';
import { formatApiKey, mintSecret } from '../functions/domain/api-key.js';
import { newId } from '../functions/domain/ids.js';
import type { Catalog } from '../functions/domain/catalog.js';
import { decideCreatePermission, decideCreateRole, type CatalogDecision } from '../functions/domain/catalog-rules.js';
import type { ApiKey, OrgUser } from '../functions/domain/model.js';
import { keyHolder, requestedKeyExpiry } from '../functions/domain/org-rules.js';
import { StaleReadError, type Store, type WriteCatalogInput } from '../functions/store/store.js';
import { permissionView, roleOf, roleViews } from '../functions/http/views-roles.js';

/**
 * Something the operator named that does not exist, said so: the API's 404 speaks of what an API
 * key may see, and the admin CLI uses none.
 */
export function noSuch(what: string): DomainError {
  const { status, code, title } = errors.notFound();
  return new DomainError(status, code, title, `no such ${what}`);
}

/** Every page of a listing, in order. */
async function allPages<T>(list: (page: { limit: number; cursor?: string }) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: 100, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

/**
 * Who the audit and the bus name for every change made here: the operator, never the user a change
 * is about (that one is the entry's own `userId`), so a break-glass revocation does not read as the
 * user's own.
 */
export const OPERATOR = { keyId: null, userId: 'operator' } as const;

/**
 * Operator actions with direct table access and no API key (bootstrap, break-glass). They use
 * the same store transactions and domain rules as the API, so every invariant and audit item
 * holds here too; what they cannot find they name (`noSuch`).
 */
export function adminOps(store: Store) {
  /** Every organization, oldest first, from the directory of organizations (no Scan). */
  const listOrgs = () => allPages((page) => store.listOrgs(page));

  async function liveOrg(orgId: string) {
    const org = await store.getOrg(orgId);
    if (!org) throw noSuch(`organization ${orgId}`);
    return org;
  }

  /** A user of the org that may still join projects and get keys (as `liveOrgUser`, worded for the CLI). */
  async function liveUser(orgId: string, userId: string): Promise<OrgUser> {
    const [, user] = await Promise.all([liveOrg(orgId), store.getOrgUser(orgId, userId, true)]);
    if (!user) throw noSuch(`org user ${userId} in ${orgId}`);
    if (user.deletingAt) throw noSuch(`org user ${userId} in ${orgId} (it is being deleted)`);
    return user;
  }

  /** A key as `POST /api/keys` makes one: an expiry in the future, a holder allowed this scope, a project of the org. */
  async function createKey(input: { orgId: string; userId: string; scope: KeyScope; projectId?: string; name?: string; expiresAt?: string }) {
    const expiresAt = requestedKeyExpiry(input.expiresAt);
    const user = keyHolder(await liveUser(input.orgId, input.userId), input.scope);
    if (input.projectId) {
      const project = await store.getProject(input.projectId);
      if (!project || project.orgId !== input.orgId) throw noSuch(`project ${input.projectId} in ${input.orgId}`);
    }
    const keyId = newId('key');
    const { secret, secretHash } = mintSecret(keyId);
    const key = await store.createApiKey({
      keyId,
      orgId: input.orgId,
      userId: input.userId,
      scope: input.scope,
      projectId: input.projectId ?? null,
      name: input.name ?? null,
      expiresAt,
      secretHash,
      authority: { kind: 'operator' },
      actor: OPERATOR,
      holder: user,
    });
    return { key, secret: formatApiKey(key.keyId, secret) };
  }

  return {
    listOrgs,
    /** A new organization, its owner, and a `global` key for the owner. */
    async bootstrap(input: { orgName: string; ownerName: string; ownerEmail?: string }) {
      const { org, owner } = await store.bootstrapOrg({
        orgName: input.orgName,
        ownerName: input.ownerName,
        ownerEmail: input.ownerEmail ?? null,
      });
      const { key, secret } = await createKey({ orgId: org.orgId, userId: owner.userId, scope: 'global', name: 'bootstrap' });
      return { org, owner, key, secret };
    },

    createKey,

    async createUser(input: { orgId: string; name: string; email?: string; orgRole?: OrgRole; kind?: 'human' | 'api' }) {
      await liveOrg(input.orgId);
      return store.createOrgUser({
        orgId: input.orgId,
        name: input.name,
        email: input.email ?? null,
        kind: input.kind ?? 'human',
        orgRole: input.orgRole ?? 'member',
        authority: { kind: 'operator' },
        actor: OPERATOR,
      });
    },

    async createProject(input: { orgId: string; ownerUserId: string; name: string }) {
      const owner = await liveUser(input.orgId, input.ownerUserId);
      return store.createProject({
        orgId: input.orgId,
        name: input.name,
        ownerUserId: owner.userId,
        authority: { kind: 'operator' },
        actor: OPERATOR,
      });
    },

    async revokeKey(keyId: string) {
      const key = await store.getApiKey(keyId);
      if (!key) throw noSuch(`API key ${keyId}`);
      return store.revokeApiKey({
        key: { ...key, revokedAt: key.revokedAt ?? null },
        authority: { kind: 'operator' },
        actor: OPERATOR,
      });
    },

    /** A custom permission `resource:action` (SPEC §6), under the API's rules; prints as the API shows it. */
    async createPermission(input: { orgId: string; key: string; description?: string }) {
      const catalog = await changeCatalog(input.orgId, 'PermissionCreated', (before, now) => decideCreatePermission(before, input, now));
      return permissionView(catalog, input.key)!;
    },

    /** A custom role `rol_…` with permissions of the catalog, under the API's rules and limits. */
    async createRole(input: { orgId: string; name: string; description?: string; permissions: string[] }) {
      const roleId = newId('role');
      const catalog = await changeCatalog(input.orgId, 'RoleCreated', (before, now) => decideCreateRole(before, roleId, input, now), roleId);
      return roleOf(catalog, roleId)!;
    },

    /** Built-in and custom roles, as `GET /api/roles` shows them. */
    async listRoles(orgId: string) {
      await liveOrg(orgId);
      return roleViews(await store.getCatalog(orgId, { consistent: true }));
    },

    /**
     * An organization, its owner and admins (the users that may hold `global` keys), owner first,
     * and each one's keys: by GetItem and Query only (the org's user partition, then GSI1 per user).
     */
    async orgOverview(orgId: string) {
      const org = await liveOrg(orgId);
      const users = (await allPages((page) => store.listOrgUsers(orgId, page)))
        .filter((user) => user.orgRole !== 'member' && !user.deletingAt)
        .sort((a, b) => Number(b.orgRole === 'owner') - Number(a.orgRole === 'owner'));
      const withKeys: { user: OrgUser; keys: ApiKey[] }[] = await Promise.all(
        users.map(async (user) => ({ user, keys: await allPages((page) => store.listKeysOfUser(user.userId, page)) })),
      );
      return { org, users: withKeys };
    },
  };

  /** One catalog change decided on a fresh read, again from a fresh read if the catalog moved meanwhile. */
  async function changeCatalog(
    orgId: string,
    action: WriteCatalogInput['change']['action'],
    decide: (before: Catalog, now: string) => CatalogDecision,
    createdRoleId?: string,
  ): Promise<Catalog> {
    await liveOrg(orgId);
    for (let attempt = 0; ; attempt++) {
      const before = await store.getCatalog(orgId, { consistent: true });
      const decision = decide(before, new Date().toISOString());
      try {
        return await store.writeCatalog({
          orgId,
          before,
          after: decision.after,
          change: { action, audit: decision.audit, createdRoleId },
          authority: { kind: 'operator' },
          actor: OPERATOR,
        });
      } catch (error) {
        if (!(error instanceof StaleReadError) || attempt >= 3) throw error;
      }
    }
  }
}
