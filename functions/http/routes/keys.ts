import { z, type RouteHandler } from '@hono/zod-openapi';
import { formatApiKey, mintSecret } from '../../domain/api-key.js';
import { newId } from '../../domain/ids.js';
import type { ApiKey as ApiKeyRecord, Principal } from '../../domain/model.js';
import type { Store } from '../../store/store.js';
import { inOrg, keyHolder, liveOrgUser, pinnableProject, requestedKeyExpiry } from '../../domain/org-rules.js';
import { assertMayHoldKey, assertWriteScope, authorizeKeyCreate, authorizeKeyList, authorizeKeyRead, authorizeKeyRevoke, keyExpiry } from '../../domain/permissions.js';
import { keyAuthority } from '../authority.js';
import { actorOf, orgCallerOf } from '../caller.js';
import { assertIfMatch, etagOf } from '../etag.js';
import { withFreshReads } from '../fresh-reads.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { idempotencyParameter, IfMatch, json, routeFor } from '../openapi.js';
import { createdHeaders, etagHeader, exampleCaller, problems, REFUSALS, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLES } from '../examples.js';
import { ApiKey, CreatedKey, CreateKeyBody, EXAMPLE_ID, Ids, KeysQuery, pageRequest } from '../schemas.js';
import { apiKeyView, pageOf } from '../views.js';

/** `/api/keys`: API keys, listed by user. */
const route = routeFor('API keys');

const listRoute = route.list(ApiKey, 'A page of keys', {
  operationId: 'listKeys',
  summary: "List a user's API keys (default: the caller's own)",
  description:
    "Listing another user's keys (`userId`) needs org owner/admin rights or a `global` key; a user of another organization has no keys here. " +
    'A key pinned to a project lists only keys pinned to the same project. Secrets are never shown.',
  request: { query: KeysQuery },
  example: EXAMPLES.apiKey,
  problems: [refusal(() => authorizeKeyList(exampleCaller.org('member'), EXAMPLE_ID.otherUser))],
});

const list: RouteHandler<typeof listRoute, AppEnv> = async (c) => {
  const query = c.req.valid('query');
  const principal = c.get('principal');
  const { store } = c.var.services;
  const target = query.userId ?? principal.user.userId;
  authorizeKeyList(orgCallerOf(principal), target);
  // Keys are listed by user: a user outside the caller's org, or being deleted (its keys refused
  // already, revoked once the deletion ends), answers like one with no keys, before any of its
  // keys (or a cursor naming them) is read.
  const targetUser = target === principal.user.userId ? principal.user : await store.getOrgUser(principal.key.orgId, target);
  if (!targetUser || targetUser.deletingAt) {
    if (query.cursor) {
      await store.cursors.available();
      store.cursors.decode(`user-keys:${target}:${principal.key.projectId ?? ''}`, query.cursor);
    }
    return c.json(pageOf([], apiKeyView, null), 200);
  }
  // A pinned key sees only keys pinned to its own project: nothing that names another one.
  const page = await store.listKeysOfUser(target, { ...pageRequest(query), pinnedTo: principal.key.projectId });
  return c.json(pageOf(page.items, apiKeyView, page.nextCursor), 200);
};

const getRoute = route.get('/{keyId}', {
  operationId: 'getKey',
  summary: 'Get an API key (never its secret)',
  description:
    "The URL a created key's `Location` names. Readable by whoever could list it: its own user, org owners/admins and `global` keys; " +
    "a key pinned to a project reads only keys pinned to the same project. Any other key, a key of another organization and one whose user is being deleted are 404, as for a key that does not exist. " +
    'Its `ETag` is what `DELETE` takes in `If-Match`.',
  request: { params: z.object({ keyId: Ids.key }) },
  responses: {
    200: { description: 'The key', headers: etagHeader, content: json(ApiKey, EXAMPLES.apiKey) },
    ...problems(404),
  },
});

/**
 * Keys are listed by user: the key of a user who is being deleted (or gone) is listed nowhere, so
 * reading or revoking it is the 404 of a key that does not exist.
 */
async function assertListed(store: Store, principal: Principal, key: ApiKeyRecord): Promise<void> {
  if (key.userId !== principal.user.userId) liveOrgUser(await store.getOrgUser(principal.key.orgId, key.userId));
}

const get: RouteHandler<typeof getRoute, AppEnv> = async (c) => {
  const { keyId } = c.req.valid('param');
  const principal = c.get('principal');
  const { store } = c.var.services;
  const key = inOrg(await store.getApiKey(keyId), principal.key.orgId);
  authorizeKeyRead(orgCallerOf(principal), key);
  await assertListed(store, principal, key);
  const view = apiKeyView(key);
  return c.json(view, 200, { ETag: etagOf(view) });
};

const createKeyRoute = route.post('/', {
  operationId: 'createKey',
  parameters: [idempotencyParameter],
  summary: 'Create an API key; the secret is in this response only',
  description:
    'Any `read-write` key may create `read`/`read-write` keys for its own user. Keys for other users and `global` keys need org owner/admin rights; `global` keys belong to org owners/admins only. ' +
    'A key pinned to a project creates only keys pinned to the same project. ' +
    '`projectId` names a project of the org; a member minting its own key may pin it only to a project where it is a member (any other is a 404, as a missing one). ' +
    "A key never outlives the key that creates it: `expiresAt` must be in the future and not later than the creating key's own expiry, which it inherits when omitted. " +
    'A replay under the same Idempotency-Key shows `secret: null`.',
  request: { body: { required: true, content: json(CreateKeyBody, EXAMPLES.createKey) } },
  responses: {
    201: {
      description: 'Created',
      headers: {
        ...createdHeaders,
        'Cache-Control': { description: 'The secret is never stored by caches', schema: { type: 'string' as const }, example: 'no-store' },
      },
      content: json(CreatedKey, EXAMPLES.createdKey),
    },
    ...problems(
      refusal(() => requestedKeyExpiry('2025-01-01T00:00:00Z', Date.parse(EXAMPLES.apiKey.createdAt))),
      refusal(() => keyExpiry('2031-01-01T00:00:00.000Z', EXAMPLES.apiKey.expiresAt)),
      refusal(() => authorizeKeyCreate(exampleCaller.org('member'), { userId: EXAMPLE_ID.otherUser, scope: 'read', projectId: null })),
      refusal(() => assertMayHoldKey({ orgRole: 'member' }, 'global')),
      refusal(() =>
        authorizeKeyCreate({ ...exampleCaller.org('admin'), pinnedProjectId: EXAMPLE_ID.project }, { userId: EXAMPLE_ID.user, scope: 'read', projectId: null }),
      ),
      404,
    ),
  },
});

// The secret is shown once: a replay under the same Idempotency-Key shows `secret: null`.
function created(key: ApiKeyRecord, shownSecret: string | null) {
  const view = apiKeyView(key);
  return jsonReply(201, { key: view, secret: shownSecret }, {
    ETag: etagOf(view),
    Location: `/api/keys/${key.keyId}`,
    'Cache-Control': 'no-store',
  });
}

const createKey: RouteHandler<typeof createKeyRoute, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const expiresAt = requestedKeyExpiry(body.expiresAt);
  const { store } = c.var.services;
  const keyId = newId('key');
  const { secret, secretHash } = mintSecret(keyId);
  const write = async (principal: Principal, idempotency: IdempotencyScope) => {
    const orgId = principal.key.orgId;
    const projectId = body.projectId ?? null;
    const rule = authorizeKeyCreate(orgCallerOf(principal), { userId: body.userId, scope: body.scope, projectId });
    const [target, pinned] = await Promise.all([
      store.getOrgUser(orgId, body.userId, true),
      // The project, and for a member minting its own key also its membership there: one read beside the user.
      projectId ? store.projectContext(projectId, principal.user.userId, { skipCaller: rule !== 'self' }, true) : null,
    ]);
    const holder = keyHolder(target, body.scope);
    if (pinned) pinnableProject(rule, orgId, pinned);
    return store.createApiKey({
      keyId,
      orgId,
      userId: body.userId,
      scope: body.scope,
      projectId,
      name: body.name ?? null,
      expiresAt: keyExpiry(expiresAt, principal.key.expiresAt),
      secretHash,
      // Minting a key for oneself rests on the caller's own live key and user, nothing more.
      authority: keyAuthority(principal, rule),
      actor: actorOf(principal),
      holder,
      idempotency: idempotency.write((k) => created(k, null)),
    });
  };
  return idempotentWrite(c, write, (key) => created(key, formatApiKey(key.keyId, secret)));
};

const revokeRoute = route.delete('/{keyId}', {
  operationId: 'revokeKey',
  summary: 'Revoke an API key',
  description:
    'Own keys with any `read-write` key; other users\' keys with org owner/admin rights. A key pinned to a project revokes only keys pinned to the same project. ' +
    'A key the caller could not list is 404, as for one that does not exist. Honours `If-Match` with the key\'s `ETag` (412 when stale, e.g. revoked since). Revoking twice is harmless.',
  request: { params: z.object({ keyId: Ids.key }), headers: IfMatch },
  responses: {
    204: { description: 'Revoked' },
    ...problems(
      REFUSALS.readOnlyKey,
      refusal(() =>
        authorizeKeyRevoke({ ...exampleCaller.org('admin'), pinnedProjectId: EXAMPLE_ID.project }, { userId: EXAMPLE_ID.otherUser, projectId: EXAMPLE_ID.project }),
      ),
      404,
      412,
    ),
  },
});

const revoke: RouteHandler<typeof revokeRoute, AppEnv> = async (c) => {
  const { keyId } = c.req.valid('param');
  const ifMatch = c.req.header('If-Match');
  const { store, auth } = c.var.services;
  // Scope before the lookup: a `read` key gets 403 whether or not the key exists (no existence oracle).
  assertWriteScope(c.get('principal').key.scope);
  await withFreshReads(c, async (principal) => {
    const key = inOrg(await store.getApiKey(keyId), principal.key.orgId);
    const rule = authorizeKeyRevoke(orgCallerOf(principal), key);
    await assertListed(store, principal, key);
    assertIfMatch(ifMatch, etagOf(apiKeyView(key)));
    await store.revokeApiKey({
      key: { ...key, revokedAt: key.revokedAt ?? null },
      authority: keyAuthority(principal, rule),
      actor: actorOf(principal),
    });
  });
  auth.forget(keyId);
  return c.body(null, 204);
};

export const keyRoutes = newRouter()
  .openapi(listRoute, list)
  .openapi(getRoute, get)
  .openapi(createKeyRoute, createKey)
  .openapi(revokeRoute, revoke);
