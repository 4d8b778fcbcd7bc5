/**
 * Every size limit of the API, defined here once: the request schemas (http/schemas*.ts), the
 * domain's rules, the OpenAPI wording and the table checker (scripts/invariants) import them.
 */

/** One membership: at least one role, at most this many roles and tags. */
export const MEMBERSHIP_LIMITS = { roles: 20, tags: 20 } as const;

/**
 * A tag's length in user-perceived characters (extended grapheme clusters, after NFC), and a guard
 * beside it: one grapheme cluster may stack any number of combining marks, and 1,024 code points
 * hold 64 of the longest emoji sequences (11 code points each). The rules are domain/tags.ts.
 */
export const MAX_TAG_LENGTH = 64;
export const MAX_TAG_CODE_POINTS = 1024;

/** A role ID as a request names it: a built-in role's name or a custom `rol_…` ID. */
export const MAX_ROLE_ID_LENGTH = 64;

/** The name of a project, an org user or a key (characters, after trimming). */
export const MAX_NAME_LENGTH = 200;

/** A permission key `resource:action`, each part at most 32 characters (domain/catalog.ts PERMISSION_KEY_PATTERN). */
export const MAX_PERMISSION_KEY_LENGTH = 65;

/** The org's catalog of permissions and roles (SPEC §6); the system permissions and built-in roles come on top. */
export const CATALOG_LIMITS = {
  customPermissionsPerOrg: 100,
  customRolesPerOrg: 50,
  permissionsPerRole: 50,
  roleNameLength: 64,
  descriptionLength: 500,
} as const;

/** `POST …/check`: how many permissions one request may ask about. */
export const CHECK_LIMITS = { minPermissions: 1, maxPermissions: 50 } as const;

/** Every list: a page holds 1 to `max` items, `default` when the request names no `limit`. */
export const PAGE_LIMITS = { max: 100, default: 50 } as const;

/** A request body, in bytes (413 past it). */
export const MAX_BODY_BYTES = 64 * 1024;
