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

export const etagHeader = {
  ETag: { description: 'Version of the resource; send it back in If-Match', schema: { type: 'string' as const } },
};

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
