import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Catalog } from '../domain/catalog.js';
import type { CatalogDecision } from '../domain/catalog-rules.js';
import type { Principal } from '../domain/model.js';
import { authorizeOrgWrite } from '../domain/permissions.js';
import type { IdempotencyWrite, Store, WriteCatalogInput } from '../store/store.js';
import { orgAuthority } from './authority.js';
import { actorOf, orgCallerOf } from './caller.js';
import { idempotentWrite, type JsonReply } from './idempotency.js';
import type { AppEnv } from './router.js';

/*
 * The org's catalog of permissions and roles (SPEC §6) as the routes of `/api/permissions` and
 * `/api/roles` read and change it.
 */

/** The org's catalog, read consistently so that whoever just changed it sees the change (one GetItem). */
export function currentCatalog(c: Context<AppEnv>): Promise<Catalog> {
  return c.var.services.store.getCatalog(c.get('principal').key.orgId, { consistent: true });
}

/** Who may change the catalog (`authorizeOrgWrite`), as the routes' descriptions say it. */
export const CATALOG_WRITE_RULE =
  'Needs a `global` key, or a `read-write` key of an organization owner or admin (never a key pinned to a project).';

/** A decided change of the catalog: what to write, and the action the audit log and events name it by. */
export type CatalogChange = CatalogDecision & Omit<WriteCatalogInput['change'], 'audit'>;

/**
 * Every change of the org's permissions and roles (SPEC §6) is an org-level write: the caller is
 * authorized (`authorizeOrgWrite`), the catalog read consistently, `decide` judges the change on
 * it (null: nothing to change, the catalog is the answer), and the store writes it on condition
 * that the catalog is still the version read.
 */
export async function changeCatalog(
  store: Store,
  principal: Principal,
  decide: (before: Catalog) => CatalogChange | null | Promise<CatalogChange | null>,
  idempotency?: IdempotencyWrite<Catalog>,
): Promise<Catalog> {
  authorizeOrgWrite(orgCallerOf(principal));
  const orgId = principal.key.orgId;
  const before = await store.getCatalog(orgId, { consistent: true });
  const decided = await decide(before);
  if (decided === null) return before;
  const { after, audit, action, createdRoleId, deletedRole } = decided;
  return store.writeCatalog({
    orgId,
    before,
    after,
    change: { action, audit, createdRoleId, deletedRole },
    authority: orgAuthority(principal),
    actor: actorOf(principal),
    idempotency,
  });
}

/** A POST that changes the catalog: `changeCatalog` under the request's Idempotency-Key, answered by `present`. */
export function idempotentCatalogChange<B extends object, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  decide: (before: Catalog) => CatalogChange,
  present: (catalog: Catalog) => JsonReply<B, S>,
) {
  const { store } = c.var.services;
  return idempotentWrite(c, (principal, idempotency) => changeCatalog(store, principal, decide, idempotency.write(present)), present);
}
