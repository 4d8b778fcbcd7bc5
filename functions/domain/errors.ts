/**
 * Typed failures of the domain. The HTTP layer maps each to an RFC 9457 problem exactly once
 * (`app.onError`); nothing else decides status codes.
 */
export type ProblemCode =
  | 'validation_failed'
  | 'malformed_json'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'already_member'
  | 'owner_protected'
  | 'unknown_role'
  | 'role_in_use'
  | 'permission_in_use'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'idempotency_key_reused'
  | 'service_unavailable'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'internal_error';

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

export const errors = {
  validation: (detail: string, fieldErrors: FieldError[] = []) =>
    new DomainError(400, 'validation_failed', 'Invalid request', detail, { errors: fieldErrors }),
  malformedJson: () =>
    new DomainError(400, 'malformed_json', 'Malformed JSON', 'The request body is not valid JSON.'),
  unauthenticated: () =>
    new DomainError(
      401,
      'unauthenticated',
      'Unauthenticated',
      'A valid API key is required: Authorization: Bearer puk_<keyId>_<secret>.',
    ),
  forbidden: (detail: string) => new DomainError(403, 'forbidden', 'Forbidden', detail),
  notFound: () =>
    new DomainError(404, 'not_found', 'Not found', 'The resource does not exist or is not visible to this API key.'),
  alreadyMember: () =>
    new DomainError(409, 'already_member', 'Already a member', 'This organization user is already a member of the project.'),
  ownerProtected: (detail: string, extra: Record<string, unknown> = {}) =>
    new DomainError(409, 'owner_protected', 'Owner is protected', detail, extra),
  unknownRole: (roles: string[], known: readonly string[]) =>
    new DomainError(409, 'unknown_role', 'Unknown role', `Unknown role(s): ${roles.join(', ')}. Known roles: ${known.join(', ')}.`),
  roleInUse: (holders: number) =>
    new DomainError(409, 'role_in_use', 'Role in use', `${holders} membership(s) hold this role; remove it from them first.`, { holders }),
  permissionInUse: (roleIds: string[]) =>
    new DomainError(409, 'permission_in_use', 'Permission in use', `Roles include this permission: ${roleIds.join(', ')}; remove it from them first.`, { roleIds }),
  conflict: (detail: string, extra: Record<string, unknown> = {}) =>
    new DomainError(409, 'conflict', 'Conflict', detail, extra),
  preconditionFailed: () =>
    new DomainError(412, 'precondition_failed', 'Precondition failed', 'If-Match does not match the current version of the resource.'),
  payloadTooLarge: (limit: number) =>
    new DomainError(413, 'payload_too_large', 'Payload too large', `The request body exceeds ${limit} bytes.`),
  idempotencyKeyReused: () =>
    new DomainError(
      422,
      'idempotency_key_reused',
      'Idempotency-Key reused',
      'This Idempotency-Key was used in the last 24 hours with a different request; use a new key.',
    ),
  unsupportedMediaType: () =>
    new DomainError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the request body as application/json.'),
  internal: () => new DomainError(500, 'internal_error', 'Internal error', 'An unexpected error occurred.'),
  unavailable: () =>
    new DomainError(503, 'service_unavailable', 'Service unavailable', 'The data store is throttled or unreachable; nothing was written. Retry later.'),
};
