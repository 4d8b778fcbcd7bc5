import { KEY_CACHE_MAX_SECONDS } from '../config.js';
import { EMPTY_CATALOG, isBuiltInRole, type Catalog, type RoleId } from '../domain/catalog.js';
import { catalogAfter } from '../domain/catalog-rules.js';
import { errors } from '../domain/errors.js';
import { isExpired, type AuditAction } from '../domain/model.js';
import { auditEntry, authorityCheck, check, combine, idempotencyEntry, put, remove, update } from './conditions.js';
import { ENTITY, keys, partitions, prefixes } from './keys.js';
import { rangeQuery } from './queries.js';
import { STALE, type TxEntry } from './table.js';
import { methods, type Method, type StoreContext } from './types.js';

/*
 * The org's roles and permissions (SPEC §6) live in one versioned item, so a read gets them with
 * the rest of its BatchGetItem and every membership write re-asserts the version it decided with.
 * Custom roles also have a grant counter item (`roleMeta`) and one grant item per membership that
 * holds them: the grants count a role's holders without a scan, and the counter, bumped by every
 * assignment, makes "assign R" and "delete R" conflict, so no membership ends up holding a deleted role.
 */

interface CatalogItem {
  version: number;
  permissions?: Catalog['permissions'];
  roles?: Catalog['roles'];
}

export function catalogOf(item: CatalogItem | null | undefined): Catalog {
  if (!item) return EMPTY_CATALOG;
  return { version: item.version, permissions: item.permissions ?? {}, roles: item.roles ?? {} };
}

/**
 * The catalog is still the version the decision was made with. An org that never changed its
 * catalog (version 0) needs no check: its first change can only add a permission or a role that
 * nobody holds yet, which changes no decision already made; only later changes (a role gaining or
 * losing a permission) can, and by then every write checks. This keeps the org-wide catalog item
 * out of the transactions of orgs that use the built-in roles alone, where it would make every
 * concurrent membership write of the org conflict with every other.
 */
export function catalogCheck(orgId: string, version: number): TxEntry | null {
  return version === 0 ? null : check(keys.catalog(orgId), 'version = :catalogVersion', { ':catalogVersion': version });
}

interface Holding {
  projectId: string;
  projectUserId: string;
  roles: readonly RoleId[];
  expiresAt?: string | null;
}

/**
 * The grant items and counter bumps for the custom roles a membership gains, keeps (when its
 * expiry changes, which can bring an expired holder back) or loses. Only a grant that adds a
 * holder bumps the counter, on condition that it exists (a counter that is gone means the role
 * was deleted: decide again); a lost grant needs no bump, since a deletion that counted it as a
 * holder was only refused, never wrongly allowed. So removals never depend on the role still
 * existing, and removing a deleted user's memberships always commits.
 */
export function grantChanges(before: Holding | null, after: Holding | null): TxEntry[] {
  const custom = (h: Holding | null) => new Set((h?.roles ?? []).filter((role) => !isBuiltInRole(role)));
  const had = custom(before);
  const has = custom(after);
  const expiryChanged = (before?.expiresAt ?? null) !== (after?.expiresAt ?? null);
  const entries: TxEntry[] = [];
  const bump = (roleId: string) =>
    update(keys.roleMeta(roleId), { update: 'SET grantsVersion = grantsVersion + :one', condition: 'attribute_exists(PK)', values: { ':one': 1 } });
  for (const roleId of has) {
    if (had.has(roleId) && !expiryChanged) continue;
    const member = after!;
    const expiresAt = member.expiresAt ?? null;
    entries.push({
      item: {
        Put: {
          Item: {
            ...keys.roleGrant(roleId, member.projectId, member.projectUserId),
            entity: ENTITY.roleGrant,
            roleId,
            projectId: member.projectId,
            projectUserId: member.projectUserId,
            expiresAt,
            ttl: expiresAt ? Math.ceil(Date.parse(expiresAt) / 1000) : null,
          },
        },
      },
      onConditionFailed: STALE,
    });
    entries.push(bump(roleId));
  }
  for (const roleId of had) {
    if (has.has(roleId)) continue;
    entries.push(remove(keys.roleGrant(roleId, before!.projectId, before!.projectUserId)));
  }
  return entries;
}

/** Reads may see a role or permission change up to KEY_CACHE_MAX_SECONDS late (SPEC §6); writes never. */
type CatalogCache = Map<string, { catalog: Catalog; until: number }>;

/**
 * Caches a catalog read that began at `readAt`: trusted until the window has passed since then (it
 * may have changed from that moment on), and never in place of a newer version already cached.
 */
function remember(cache: CatalogCache, orgId: string, catalog: Catalog, readAt: number): Catalog {
  const cached = cache.get(orgId);
  if (cached && cached.catalog.version > catalog.version) return catalog;
  if (cache.size > 1_000) cache.clear();
  cache.set(orgId, { catalog, until: readAt + KEY_CACHE_MAX_SECONDS * 1000 });
  return catalog;
}

const getCatalog = (cache: CatalogCache): Method<'getCatalog'> => ({ table }) => async (orgId, options = {}) => {
  const readAt = Date.now();
  const cached = cache.get(orgId);
  if (!options.consistent && cached && cached.until > readAt) return cached.catalog;
  return remember(cache, orgId, catalogOf(await table.getItem<CatalogItem>(keys.catalog(orgId), options.consistent ?? false)), readAt);
};

const roleHolders: Method<'roleHolders'> = ({ table }) => async (roleId) => {
  const meta = await table.getItem<{ grantsVersion: number }>(keys.roleMeta(roleId), true);
  let holders = 0;
  let cursor: string | undefined;
  do {
    const page = await table.queryPage<{ expiresAt?: string | null }>(
      `role-grants:${roleId}`,
      rangeQuery({ pk: partitions.role(roleId), prefix: prefixes.roleGrant }),
      { limit: 100, cursor },
    );
    holders += page.items.filter((grant) => !isExpired(grant)).length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { holders, grantsVersion: meta?.grantsVersion ?? null };
};

/** Replaces the catalog item on condition that it is the version the change was decided on. */
function catalogWrite(orgId: string, before: Catalog, next: Catalog, now: string): TxEntry {
  // Empty maps are left out: a stream record of `{}` is not what the event publisher expects.
  const maps = Object.fromEntries(Object.entries({ permissions: next.permissions, roles: next.roles }).filter(([, m]) => Object.keys(m).length > 0));
  const item = { ...keys.catalog(orgId), entity: ENTITY.catalog, orgId, ...maps, version: next.version, updatedAt: now };
  const condition = before.version === 0 ? 'attribute_not_exists(PK)' : 'version = :catalogVersion';
  const values = before.version === 0 ? undefined : { ':catalogVersion': before.version };
  return { item: { Put: { Item: item, ConditionExpression: condition, ExpressionAttributeValues: values } }, onConditionFailed: STALE };
}

const writeCatalog = (cache: CatalogCache): Method<'writeCatalog'> => ({ table, clock }) => async (input) => {
  const now = clock.now();
  const { orgId, before, after, change } = input;
  const next = catalogAfter(before, after);
  const extra: TxEntry[] = [];
  if (change.createdRoleId) {
    extra.push(put(ENTITY.roleMeta, { ...keys.roleMeta(change.createdRoleId), roleId: change.createdRoleId, orgId, grantsVersion: 0 }));
  }
  if (change.deletedRole) {
    // The role's holders were counted at this grants version; any assignment since is a conflict.
    const { roleId, grantsVersion } = change.deletedRole;
    extra.push(
      grantsVersion === null
        ? check(keys.roleMeta(roleId), 'attribute_not_exists(PK)')
        : remove(keys.roleMeta(roleId), { condition: 'grantsVersion = :gv', values: { ':gv': grantsVersion } }),
    );
  }
  await table.transact(
    combine(
      catalogWrite(orgId, before, next, now),
      ...extra,
      ...authorityCheck(input.authority),
      auditEntry(change.action as AuditAction, { orgId, projectId: null, projectUserId: null, userId: null }, input.actor, change.audit, now),
      idempotencyEntry(input.idempotency, next, now),
    ),
  );
  // This instance's reads see its own change at once; other instances within the cache window.
  return remember(cache, orgId, next, Date.now());
};

export const catalogs = (context: StoreContext) => {
  const cache: CatalogCache = new Map();
  return methods(context, { getCatalog: getCatalog(cache), roleHolders, writeCatalog: writeCatalog(cache) });
};

export function assertRoleDeletable(holders: number): void {
  if (holders > 0) throw errors.roleInUse(holders);
}
