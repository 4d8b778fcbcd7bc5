import { MAX_BODY_BYTES } from './limits.js';

/**
 * Typed failures of the domain. The HTTP layer maps each to an RFC 9457 problem exactly once
 * (`app.onError`); nothing else decides status codes.
 *
 * The error table, defined here once: one record per status, with what the OpenAPI document says
 * it means (http/openapi.ts `problems`) and, per problem code, its title and the detail it
 * carries unless the failure states its own (`errors` below).
 */
export const PROBLEMS = {
  400: {
    means: 'Invalid request (malformed JSON, unknown field, wrong type, bad ID, bad cursor, limit out of range)',
    codes: {
      validation_failed: { title: 'Invalid request' },
      malformed_json: { title: 'Malformed JSON', detail: 'The request body is not valid JSON.' },
    },
  },
  401: {
    means: 'Missing, malformed, unknown, revoked or expired API key',
    codes: {
      unauthenticated: { title: 'Unauthenticated', detail: 'A valid API key is required: Authorization: Bearer puk_<keyId>_<secret>.' },
    },
  },
  403: { means: 'The role or key scope does not allow this', codes: { forbidden: { title: 'Forbidden' } } },
  404: {
    means: 'Not found, or not visible to this key',
    codes: { not_found: { title: 'Not found', detail: 'The resource does not exist or is not visible to this API key.' } },
  },
  405: { means: 'Method not allowed', codes: { method_not_allowed: { title: 'Method not allowed' } } },
  409: {
    // Its reasons differ by route: the document lists each route's own (its examples' details).
    means: 'Conflict',
    listsReasons: true,
    codes: {
      conflict: { title: 'Conflict' },
      already_member: { title: 'Already a member', detail: 'This organization user is already a member of the project.' },
      owner_protected: { title: 'Owner is protected' },
      unknown_role: { title: 'Unknown role' },
      role_in_use: { title: 'Role in use' },
      permission_in_use: { title: 'Permission in use' },
    },
  },
  412: {
    means: 'If-Match does not match the current version',
    codes: { precondition_failed: { title: 'Precondition failed', detail: 'If-Match does not match the current version of the resource.' } },
  },
  413: {
    means: `Body over ${MAX_BODY_BYTES / 1024} KiB`,
    codes: { payload_too_large: { title: 'Payload too large', detail: `The request body exceeds ${MAX_BODY_BYTES} bytes.` } },
  },
  415: {
    means: 'Body is not JSON (application/json or a +json type)',
    codes: { unsupported_media_type: { title: 'Unsupported media type', detail: 'Send the request body as application/json.' } },
  },
  422: {
    means: 'Idempotency-Key reused with a different request',
    codes: {
      idempotency_key_reused: {
        title: 'Idempotency-Key reused',
        detail: 'This Idempotency-Key was used in the last 24 hours with a different request; use a new key.',
      },
    },
  },
  429: {
    means:
      "Throttled: over the stage's request rate or burst (infra/stages.ts). API Gateway answers it before the API runs, with its own JSON body, " +
      'no problem+json, no `Retry-After` and no `X-Request-Id`: retry with exponential backoff and jitter.',
    codes: {},
    /** What API Gateway sends: the API never writes a 429 itself. */
    gatewayBody: { message: 'Too Many Requests' },
  },
  500: { means: 'Internal error', codes: { internal_error: { title: 'Internal error', detail: 'An unexpected error occurred.' } } },
  503: {
    means: 'DynamoDB throttled or unreachable; retry after Retry-After seconds',
    codes: {
      service_unavailable: {
        title: 'Service unavailable',
        detail: 'The data store is throttled or unreachable; nothing was written. Retry later.',
      },
    },
  },
} as const satisfies Record<
  number,
  { means: string; listsReasons?: boolean; codes: Record<string, { title: string; detail?: string }>; gatewayBody?: { message: string } }
>;

export type ProblemStatus = keyof typeof PROBLEMS;
export type ProblemCode = { [S in ProblemStatus]: keyof (typeof PROBLEMS)[S]['codes'] }[ProblemStatus];

/** Each code's status, title and fixed detail, found in the table above. */
const BY_CODE = new Map(
  Object.entries(PROBLEMS).flatMap(([status, { codes }]) =>
    Object.entries(codes).map(([code, text]: [string, { title: string; detail?: string }]) => [code, { status: Number(status), ...text }]),
  ),
);

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}

/** The problem `code` as the table gives it, with this failure's own detail where it has one. */
function problem(code: ProblemCode, detail?: string, extra: Record<string, unknown> = {}): DomainError {
  const entry = BY_CODE.get(code)!;
  return new DomainError(entry.status, code, entry.title, detail ?? entry.detail ?? entry.title, extra);
}

export const errors = {
  validation: (detail: string, fieldErrors: FieldError[] = []) => problem('validation_failed', detail, { errors: fieldErrors }),
  malformedJson: () => problem('malformed_json'),
  unauthenticated: () => problem('unauthenticated'),
  forbidden: (detail: string) => problem('forbidden', detail),
  notFound: () => problem('not_found'),
  methodNotAllowed: (method: string, allow: string[]) =>
    problem('method_not_allowed', `${method} is not supported on this path; it supports ${allow.join(', ')}.`, { allow }),
  alreadyMember: () => problem('already_member'),
  ownerProtected: (detail: string, extra: Record<string, unknown> = {}) => problem('owner_protected', detail, extra),
  unknownRole: (roles: string[], known: readonly string[]) =>
    problem('unknown_role', `Unknown role(s): ${roles.join(', ')}. Known roles: ${known.join(', ')}.`),
  roleInUse: (holders: number) =>
    problem('role_in_use', `${holders} membership(s) hold this role; remove it from them first.`, { holders }),
  permissionInUse: (roleIds: string[]) =>
    problem('permission_in_use', `Roles include this permission: ${roleIds.join(', ')}; remove it from them first.`, { roleIds }),
  conflict: (detail: string, extra: Record<string, unknown> = {}) => problem('conflict', detail, extra),
  preconditionFailed: () => problem('precondition_failed'),
  payloadTooLarge: () => problem('payload_too_large'),
  idempotencyKeyReused: () => problem('idempotency_key_reused'),
  unsupportedMediaType: (detail?: string) => problem('unsupported_media_type', detail),
  internal: () => problem('internal_error'),
  unavailable: () => problem('service_unavailable'),
};
