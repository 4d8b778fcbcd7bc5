import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { Problem } from './schemas.js';

const PROBLEM_TITLES: Record<number, string> = {
  400: 'Invalid request (malformed JSON, unknown field, wrong type, bad ID, bad cursor, limit out of range)',
  401: 'Missing, malformed, unknown, revoked or expired API key',
  403: 'The role or key scope does not allow this',
  404: 'Not found, or not visible to this key',
  409: 'Conflict (already a member, owner protected, unknown role)',
  412: 'If-Match does not match the current version',
  413: 'Body over 64 KiB',
  415: 'Body is not application/json',
  422: 'Idempotency-Key reused with a different request',
  503: 'DynamoDB throttled or unreachable; retry after Retry-After seconds',
};

/** The problem+json responses a route may give, for the OpenAPI document. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    [...new Set([400, 401, 503, ...statuses])].map((status) => [
      status,
      { description: PROBLEM_TITLES[status] ?? 'Error', content: { 'application/problem+json': { schema: Problem } } },
    ]),
  );
}

export const security = [{ apiKey: [] }];

/** `createRoute` for one resource's router: its operations share the resource's tag and need an API key. */
export function routeFor(tag: string) {
  return <P extends string, R extends Omit<RouteConfig, 'path' | 'tags' | 'security'> & { path: P }>(config: R) =>
    createRoute({ tags: [tag], security, ...config });
}

export const etagHeader = {
  ETag: { description: 'Version of the resource; send it back in If-Match', schema: { type: 'string' as const } },
};

/** The headers of a 201: the new resource's version and where it lives. */
export const createdHeaders = { ...etagHeader, Location: { schema: { type: 'string' as const } } };

/** A JSON request or response body of this schema. */
export const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });

export const IfMatch = z.object({
  'if-match': z.string().optional().openapi({ description: 'The `version` (ETag) the change applies to; 412 if stale' }),
});

/**
 * Every POST honours Idempotency-Key. Declared as an OpenAPI parameter rather than a validated
 * header, so the typed client does not demand a `header` argument on every call.
 */
export const idempotencyParameter = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  schema: { type: 'string' as const, minLength: 1, maxLength: 255 },
  description:
    'Makes a retry safe: for 24 h the same key with the same body replays the first response (`Idempotent-Replayed: true`); with another body it is a 422.',
};
