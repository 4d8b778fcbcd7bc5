import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../domain/errors.js';
import {
  assertMayHoldKey,
  authorizeKeyCreate,
  authorizeKeyList,
  authorizeKeyRevoke,
  keyExpiry,
} from '../../domain/permissions.js';
import { formatApiKey, mintSecret } from '../../domain/api-key.js';
import { newId } from '../../domain/ids.js';
import type { ApiKey as ApiKeyRecord } from '../../domain/model.js';
import type { StoredResponse } from '../../store/store.js';
import {
  actorOf,
  respondIdempotently,
  apiKeyView,
  etagOf,
  newRouter,
  orgAuthority,
  selfAuthority,
  orgCallerOf,
  withFreshReads,
  type Services,
} from '../context.js';
import { etagHeader, idempotencyParameter, problems, security } from '../openapi.js';
import { ApiKey, CreatedKey, CreateKeyBody, Ids, KeysQuery, listOf } from '../schemas.js';

const tags = ['API keys'];
const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });

export function keyRoutes(services: Services) {
  const { store } = services;
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/keys',
        tags,
        security,
        summary: "List a user's API keys (default: the caller's own)",
        description: 'Listing another user\'s keys (`userId`) needs org owner/admin rights. Secrets are never shown.',
        request: { query: KeysQuery },
        responses: { 200: { description: 'A page of keys', content: json(listOf(ApiKey)) }, ...problems(403) },
      }),
      async (c) => {
        const { limit = 50, cursor, userId } = c.req.valid('query');
        const principal = c.get('principal');
        const target = userId ?? principal.user.userId;
        authorizeKeyList(orgCallerOf(principal), target);
        // Keys are listed by user: a user outside the caller's org answers like one with no keys,
        // before any of its keys (or a cursor naming them) is read.
        if (target !== principal.user.userId && !(await store.getOrgUser(principal.key.orgId, target))) {
          if (cursor) store.cursors.decode(`user-keys:${target}:${principal.key.projectId ?? ''}`, cursor);
          return c.json({ data: [], nextCursor: null }, 200);
        }
        // A pinned key sees only keys pinned to its own project: nothing that names another one.
        const page = await store.listKeysOfUser(target, { limit, cursor, pinnedTo: principal.key.projectId });
        return c.json({ data: page.items.map(apiKeyView), nextCursor: page.nextCursor }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/keys',
        tags,
        security,
        parameters: [idempotencyParameter],
        summary: 'Create an API key; the secret is in this response only',
        description:
          'Any `read-write` key may create `read`/`read-write` keys for its own user. Keys for other users and `global` keys need org owner/admin rights; `global` keys belong to org owners/admins only.',
        request: { body: { required: true, content: json(CreateKeyBody) } },
        responses: {
          201: { description: 'Created', headers: { ...etagHeader, Location: { schema: { type: 'string' } } }, content: json(CreatedKey) },
          ...problems(403, 404, 413, 415, 422),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const expiresAt = body.expiresAt === undefined ? null : new Date(body.expiresAt).toISOString();
        if (expiresAt !== null && Date.parse(expiresAt) <= Date.now()) {
          throw errors.validation('expiresAt must be in the future.', [{ path: 'body.expiresAt', message: 'must be in the future' }]);
        }
        const keyId = newId('key');
        const { secret, secretHash } = mintSecret(keyId);
        // The secret is shown once: a replay under the same Idempotency-Key shows `secret: null`.
        const created = (key: ApiKeyRecord, shownSecret: string | null): StoredResponse => {
          const view = apiKeyView(key);
          return {
            status: 201,
            body: { key: view, secret: shownSecret },
            headers: { ETag: etagOf(view), Location: `/api/keys/${key.keyId}`, 'Cache-Control': 'no-store' },
          };
        };
        const response = await respondIdempotently(c, services, async (idempotency) => {
          const key = await withFreshReads(c, services, async (principal) => {
            const orgId = principal.key.orgId;
            const request = { userId: body.userId, scope: body.scope, projectId: body.projectId ?? null };
            const rule = authorizeKeyCreate(orgCallerOf(principal), request);
            const target = await store.getOrgUser(orgId, body.userId, true);
            if (!target || target.deletingAt) throw errors.notFound();
            assertMayHoldKey(target, body.scope);
            if (body.projectId) {
              const project = await store.getProject(body.projectId);
              if (!project || project.orgId !== orgId) throw errors.notFound();
            }
            return store.createApiKey({
              keyId,
              orgId,
              userId: body.userId,
              scope: body.scope,
              projectId: body.projectId ?? null,
              name: body.name ?? null,
              expiresAt: keyExpiry(expiresAt, principal.key.expiresAt),
              secretHash,
              // Minting a key for oneself rests on the caller's own live key and user, nothing more.
              authority:
                rule === 'self' ? selfAuthority(principal) : orgAuthority(principal),
              actor: actorOf(principal),
              targetOrgRoleVersion: target.version,
              idempotency: idempotency.write((k) => created(k, null)),
            });
          });
          return created(key, formatApiKey(key.keyId, secret));
        });
        return response as never;
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/keys/{keyId}',
        tags,
        security,
        summary: 'Revoke an API key',
        description: 'Own keys with any `read-write` key; other users\' keys with org owner/admin rights. Revoking twice is harmless.',
        request: { params: z.object({ keyId: Ids.key }) },
        responses: { 204: { description: 'Revoked' }, ...problems(403, 404) },
      }),
      async (c) => {
        const { keyId } = c.req.valid('param');
        await withFreshReads(c, services, async (principal) => {
          const key = await store.getApiKey(keyId);
          if (!key || key.orgId !== principal.key.orgId) throw errors.notFound();
          const rule = authorizeKeyRevoke(orgCallerOf(principal), key.userId);
          await store.revokeApiKey({
            key: { ...key, revokedAt: key.revokedAt ?? null },
            authority:
              rule === 'self' && principal.key.scope !== 'global' ? selfAuthority(principal) : orgAuthority(principal),
            actor: actorOf(principal),
          });
        });
        services.auth.forget(keyId);
        return c.body(null, 204);
      },
    );
}
