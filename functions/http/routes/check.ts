import { z, type RouteHandler } from '@hono/zod-openapi';
import { isKeyLive, parseApiKey, secretMatches } from '../../domain/api-key.js';
import type { Catalog } from '../../domain/catalog.js';
import { CHECK_REASONS, decideCheck, type CheckSubject } from '../../domain/check.js';
import { errors } from '../../domain/errors.js';
import { CHECK_LIMITS } from '../../domain/limits.js';
import { isExpired, type ApiKey, type Membership, type Principal } from '../../domain/model.js';
import { assertVisible, isOrgAdmin, KEY_SCOPES, type ProjectCaller } from '../../domain/permissions.js';
import type { Store } from '../../store/store.js';
import { orgCallerOf, projectCallerOf, readContext, visible } from '../caller.js';
import { json, routeFor } from '../openapi.js';
import { exampleCaller, problems } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLE_ID, Ids, Permission, ProjectParams } from '../schemas.js';

/**
 * `POST /api/projects/{projectId}/check` (SPEC §7): may this principal do these things here?
 * Decided by the same `effectiveGrants` the routes enforce with (functions/domain/check.ts).
 * Cost after authentication: one round trip for the caller or a `userId` (the items and the
 * catalog in parallel), two for a presented key (the key first, then what it needs).
 */
const route = routeFor('Check');

/** Checking another principal than the caller: `global` keys and org owners/admins only. */
const otherPrincipalRefused = () => errors.forbidden('Checking another principal needs a global key or an organization owner or admin.');

const CheckBody = z
  .strictObject({
    principal: z
      .union([z.strictObject({ userId: Ids.user }), z.strictObject({ key: z.string().openapi({ description: 'Any string a service was handed (the body limit bounds it): one that is not a live key of this org is `active: false`, still 200.' }) })])
      .optional()
      .openapi({ description: 'Whom to check: an org user, or an API key a service was handed. Omitted: the caller. Another principal needs a `global` key or an org owner/admin.' }),
    permissions: z
      .array(Permission)
      .min(CHECK_LIMITS.minPermissions)
      .max(CHECK_LIMITS.maxPermissions)
      .openapi({ description: `${CHECK_LIMITS.minPermissions}–${CHECK_LIMITS.maxPermissions} permission keys, each answered on its own (400 outside that)` }),
  })
  .openapi('CheckRequest');

const CheckResponse = z
  .object({
    principal: z.object({
      userId: z.string().nullable(),
      keyId: z.string().optional(),
      scope: z.enum(KEY_SCOPES).optional(),
      active: z.boolean(),
    }),
    results: z.array(
      z.object({
        permission: z.string(),
        allowed: z.boolean(),
        reason: z.string().openapi({ description: `The deciding fact: ${CHECK_REASONS.join(', ')}` }),
      }),
    ),
  })
  .openapi('CheckResponse');

/** The example: an editor asked about three permissions, decided as the route decides (domain/check.ts). */
const checkExample = {
  principal: { userId: EXAMPLE_ID.otherUser },
  permissions: ['project:read', 'members:manage', 'content:publish'],
} satisfies z.input<typeof CheckBody>;
const checkedExample = {
  principal: { userId: EXAMPLE_ID.otherUser, active: true },
  results: decideCheck(
    { active: true, pinnedElsewhere: false, membershipExpired: false, caller: exampleCaller.member(['editor']) },
    checkExample.permissions,
  ),
} satisfies z.input<typeof CheckResponse>;

const checkRoute = route.post('/', {
  operationId: 'check',
  summary: 'Check whether a principal holds permissions in this project',
  description:
    'Any caller that can see the project may check itself (no `principal`); another principal needs a `global` key or an org owner/admin (403). ' +
    'Each permission gets its own result and reason; an unknown permission is `allowed: false, reason: "unknown_permission"`. An unknown, revoked or expired presented key is `active: false` with every result denied, still 200; its secret is never echoed. ' +
    'It writes nothing, so it takes no Idempotency-Key.',
  request: { params: ProjectParams, body: { required: true, content: json(CheckBody, checkExample) } },
  responses: {
    200: { description: 'One result per permission', content: json(CheckResponse, checkedExample) },
    ...problems(otherPrincipalRefused(), 404),
  },
});

type Subject = CheckSubject & { principal: z.infer<typeof CheckResponse>['principal'] };

/** The caller itself: what `readContext` reads for any route, so the answer is the route's. */
async function callerSubject(store: Store, principal: Principal, projectId: string): Promise<Subject> {
  const context = await readContext(store, principal, projectId, { withCaller: true });
  const caller = visible(context.caller);
  // What the routes answer for a caller that sees nothing here (an expired membership): 404. A
  // caller that sees the project but lacks a permission (even project:read) gets its answer.
  assertVisible(caller);
  return {
    active: true,
    pinnedElsewhere: false,
    membershipExpired: context.callerMembership !== null && isExpired(context.callerMembership),
    caller,
    principal: { userId: principal.user.userId, keyId: principal.key.keyId, scope: principal.key.scope, active: true },
  };
}

/** The project, the subject's membership and org user, and the catalog: one round trip. */
async function subjectFacts(store: Store, principal: Principal, projectId: string, userId: string) {
  const orgId = principal.key.orgId;
  const global = principal.key.scope === 'global';
  const [context, catalog] = await Promise.all([
    store.projectContext(projectId, principal.user.userId, { memberUserId: userId, orgUser: { orgId, userId }, skipCaller: global }),
    store.getCatalog(orgId),
  ]);
  // The asking key must see the project, like any route (404 otherwise): an org admin's key that
  // is not a member here sees nothing of it, so it learns nothing of its members either.
  assertVisible(visible(projectCallerOf(principal, projectId, context.project, context.callerMembership, catalog)));
  return { ...context, catalog };
}

function callerAs(userId: string, scope: ProjectCaller['scope'], membership: Membership | null, catalog: Catalog): ProjectCaller {
  const live = membership && !isExpired(membership) ? membership : null;
  return { userId, scope, catalog, membership: live ? { projectUserId: live.projectUserId, roles: live.roles, isOwner: live.isOwner } : null };
}

async function userSubject(store: Store, principal: Principal, projectId: string, userId: string): Promise<Subject> {
  const facts = await subjectFacts(store, principal, projectId, userId);
  const active = facts.orgUser !== null && !facts.orgUser.deletingAt;
  return {
    active: true,
    pinnedElsewhere: false,
    membershipExpired: facts.memberMembership !== null && isExpired(facts.memberMembership),
    // An org user as such holds what its membership grants (no key scope narrows it).
    caller: callerAs(userId, 'read-write', active ? facts.memberMembership : null, facts.catalog),
    principal: { userId, active },
  };
}

/** A key a service was handed: live, of this org, and its secret right, or inactive. */
async function keySubject(store: Store, principal: Principal, projectId: string, presented: string): Promise<Subject> {
  const parsed = parseApiKey(presented);
  const found: ApiKey | null = parsed ? await store.getApiKey(parsed.keyId) : null;
  const live = secretMatches(found?.secretHash, parsed?.secret) && found !== null && found.orgId === principal.key.orgId && isKeyLive(found);
  const facts = await subjectFacts(store, principal, projectId, live ? found.userId : principal.user.userId);
  const userActive = live && facts.orgUser !== null && !facts.orgUser.deletingAt;
  if (!userActive || !found) {
    const inactive = callerAs(principal.user.userId, 'read', null, facts.catalog);
    return { active: false, pinnedElsewhere: false, membershipExpired: false, caller: inactive, principal: { userId: null, active: false } };
  }
  return {
    active: true,
    // Stored keys leave out null fields: an unpinned key has no projectId at all.
    pinnedElsewhere: (found.projectId ?? null) !== null && found.projectId !== projectId,
    membershipExpired: facts.memberMembership !== null && isExpired(facts.memberMembership),
    caller: callerAs(found.userId, found.scope, found.scope === 'global' ? null : facts.memberMembership, facts.catalog),
    principal: { userId: found.userId, keyId: found.keyId, scope: found.scope, active: true },
  };
}

const check: RouteHandler<typeof checkRoute, AppEnv> = async (c) => {
  const { projectId } = c.req.valid('param');
  const body = c.req.valid('json');
  const principal = c.get('principal');
  const { store } = c.var.services;
  if (body.principal) {
    const org = orgCallerOf(principal);
    if (org.scope !== 'global' && !isOrgAdmin(org)) {
      // Visibility (404) before permission (403): a project this caller cannot see stays the 404 of a
      // missing one (the one round trip a check of itself would make).
      await callerSubject(store, principal, projectId);
      throw otherPrincipalRefused();
    }
  }
  const subject = !body.principal
    ? await callerSubject(store, principal, projectId)
    : 'userId' in body.principal
      ? await userSubject(store, principal, projectId, body.principal.userId)
      : await keySubject(store, principal, projectId, body.principal.key);
  return c.json({ principal: subject.principal, results: decideCheck(subject, body.permissions) }, 200);
};

export const checkRoutes = newRouter().openapi(checkRoute, check);
