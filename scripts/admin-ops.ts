import { errors } from '../functions/domain/errors.js';
import type { KeyScope, OrgRole } from '../functions/domain/permissions.js';
import { formatApiKey, mintSecret } from '../functions/domain/api-key.js';
import { newId } from '../functions/domain/ids.js';
import type { Catalog } from '../functions/domain/catalog.js';
import { decideCreatePermission, decideCreateRole, type CatalogDecision } from '../functions/domain/catalog-rules.js';
import { StaleReadError, type Store, type WriteCatalogInput } from '../functions/store/store.js';
import { permissionView, roleOf, roleViews } from '../functions/http/views-roles.js';

/**
 * Operator actions with direct table access and no API key (bootstrap, break-glass). They use
 * the same store transactions as the API, so every invariant and audit item holds here too.
 */
export function adminOps(store: Store) {
  const operator = (userId: string) => ({ keyId: null, userId });

  async function createKey(input: { orgId: string; userId: string; scope: KeyScope; projectId?: string; name?: string; expiresAt?: string }) {
    const user = await store.getOrgUser(input.orgId, input.userId, true);
    if (!user) throw errors.notFound();
    if (input.scope === 'global' && user.orgRole === 'member') {
      throw errors.forbidden('Global keys belong to organization owners and admins only.');
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
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      secretHash,
      authority: { kind: 'operator' },
      actor: operator(input.userId),
      targetOrgRoleVersion: user.version,
    });
    return { key, secret: formatApiKey(key.keyId, secret) };
  }

  return {
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
      const org = await store.getOrg(input.orgId);
      if (!org) throw errors.notFound();
      return store.createOrgUser({
        orgId: input.orgId,
        name: input.name,
        email: input.email ?? null,
        kind: input.kind ?? 'human',
        orgRole: input.orgRole ?? 'member',
        authority: { kind: 'operator' },
        actor: operator('operator'),
      });
    },

    async createProject(input: { orgId: string; ownerUserId: string; name: string }) {
      const owner = await store.getOrgUser(input.orgId, input.ownerUserId, true);
      if (!owner) throw errors.notFound();
      return store.createProject({
        orgId: input.orgId,
        name: input.name,
        ownerUserId: owner.userId,
        authority: { kind: 'operator' },
        actor: operator(owner.userId),
      });
    },

    async revokeKey(keyId: string) {
      const key = await store.getApiKey(keyId);
      if (!key) throw errors.notFound();
      return store.revokeApiKey({
        key: { ...key, revokedAt: key.revokedAt ?? null },
        authority: { kind: 'operator' },
        actor: operator(key.userId),
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
      if (!(await store.getOrg(orgId))) throw errors.notFound();
      return roleViews(await store.getCatalog(orgId, { consistent: true }));
    },
  };

  /** One catalog change decided on a fresh read, again from a fresh read if the catalog moved meanwhile. */
  async function changeCatalog(
    orgId: string,
    action: WriteCatalogInput['change']['action'],
    decide: (before: Catalog, now: string) => CatalogDecision,
    createdRoleId?: string,
  ): Promise<Catalog> {
    if (!(await store.getOrg(orgId))) throw errors.notFound();
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
          actor: operator('operator'),
        });
      } catch (error) {
        if (!(error instanceof StaleReadError) || attempt >= 3) throw error;
      }
    }
  }
}
