import { z } from '@hono/zod-openapi';
import { ID_PATTERN, type IdKind } from '../domain/ids.js';
import { isRoleIdFormat } from '../domain/catalog.js';
import { PROBLEMS } from '../domain/errors.js';
import { MAX_NAME_LENGTH, MAX_ROLE_ID_LENGTH, MAX_TAG_LENGTH, MEMBERSHIP_LIMITS, PAGE_LIMITS } from '../domain/limits.js';
import { PROJECT_AUDIT_ACTIONS, USER_KINDS } from '../domain/model.js';
import { KEY_SCOPES, ORG_ROLES, PERMISSIONS, ROLES } from '../domain/permissions.js';
import { normalizeTag } from '../domain/tags.js';
import { TEXT_RULE, textProblem } from '../domain/text.js';

/**
 * Request and response schemas, defined once: they validate requests and describe the API in the
 * OpenAPI document. Request objects are strict, so unknown fields (`isOwner`, `version`...) are a
 * 400, never silently stored.
 */
/** The IDs the document's examples use (ids.ts formats; no such record exists anywhere). */
export const EXAMPLE_ID = {
  org: 'org_01jd6x4r2m0000000000000000',
  user: 'usr_01jd6x4r2m0000000000000000',
  otherUser: 'usr_01jd6x4r2m0000000000000001',
  project: 'prj_01jd6x4r2m0000000000000000',
  projectUser: 'pu_01jd6x4r2m0000000000000000',
  otherProjectUser: 'pu_01jd6x4r2m0000000000000001',
  key: 'key_01jd6x4r2m0000000000000000',
  role: 'rol_01jd6x4r2m0000000000000000',
  event: 'evt_01jd6x4r2m0000000000000000',
} as const;

const id = (kind: IdKind, example: string) =>
  z.string().regex(ID_PATTERN[kind], `must be an ID of the form ${example.split('_')[0]}_…`).openapi({ example });

export const Ids = {
  org: id('org', EXAMPLE_ID.org),
  user: id('user', EXAMPLE_ID.user),
  project: id('project', EXAMPLE_ID.project),
  projectUser: id('projectUser', EXAMPLE_ID.projectUser),
  key: id('key', EXAMPLE_ID.key),
};

/** The path of everything about one project. */
export const ProjectParams = z.object({ projectId: Ids.project });

/** When something happened, as the API shows it (ISO 8601, UTC). */
export const timestamp = z.string().datetime();
const timestamps = { createdAt: timestamp, updatedAt: timestamp };

/** A tag, stored in NFC; the rules (length in graphemes, refused characters) are domain/tags.ts. */
const tag = z
  .string()
  .transform((value, ctx) => {
    const result = normalizeTag(value);
    if ('tag' in result) return result.tag;
    ctx.addIssue({ code: 'custom', message: result.error });
    return z.NEVER;
  })
  .openapi({
    type: 'string',
    minLength: 1,
    description: `1–${MAX_TAG_LENGTH} user-perceived characters (grapheme clusters), stored in Unicode NFC; ${TEXT_RULE}.`,
    example: 'eu-west',
  });
/** Refuses what no stored text may hold (domain/text.ts), as a validation issue of its field. */
export const storableText =
  (options: { prose?: boolean } = {}) =>
  (value: string, ctx: z.RefinementCtx) => {
    const problem = textProblem(value, options);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };

/** A name (project, org user, key): trimmed, 1–`max` characters, text.ts's rule. */
export const nameText = (max: number) =>
  z.string().trim().min(1).max(max).superRefine(storableText()).openapi({ description: `1–${max} characters, trimmed; ${TEXT_RULE}` });

/**
 * Roles are free strings here: an unknown role is a 409 from the domain, as the spec says.
 * A membership always holds at least one role: `roles: []` is a 400, never a member with no role.
 */
const roleList = z
  .array(z.string().min(1).max(MAX_ROLE_ID_LENGTH))
  .min(1)
  .max(MEMBERSHIP_LIMITS.roles)
  .openapi({
    description:
      `1–${MEMBERSHIP_LIMITS.roles} role IDs (400 outside that): built-in roles (${ROLES.join(', ')}) or the org's custom \`rol_…\` roles. ` +
      'Each must be a role the organization has (409 `unknown_role` otherwise), and the caller must hold every permission of each role it grants or revokes (403).',
    example: ['editor'],
  });
const tagList = z
  .array(tag)
  .max(MEMBERSHIP_LIMITS.tags)
  .openapi({ description: `0–${MEMBERSHIP_LIMITS.tags} tags (400 past that); duplicates are stored once.`, example: ['eu-west'] });

/** Roles and permissions are an org's data (SPEC §6): built-in IDs are examples, not the whole set. */
export const Role = z
  .string()
  .min(1)
  .max(MAX_ROLE_ID_LENGTH)
  .openapi('RoleId', {
    description: `A role ID: a built-in role (${ROLES.join(', ')}) or a custom role \`rol_…\`; an unknown ID is 409 unknown_role`,
    example: 'editor',
  });
export const Permission = z.string().openapi('PermissionKey', {
  description: `A permission key \`resource:action\`: a system permission (${PERMISSIONS.join(', ')}) or an org's custom one`,
  example: 'project:read',
});

export const ProjectUser = z
  .object({
    _id: Ids.projectUser,
    projectId: Ids.project,
    userId: Ids.user,
    roles: z.array(Role),
    tags: z.array(z.string()),
    isOwner: z.boolean().openapi({ description: "The project's owner: holds every permission; only a transfer changes its roles" }),
    expiresAt: timestamp.nullable().openapi({ description: 'When the membership stops authorizing; null: never' }),
    permissions: z.array(Permission).openapi({ description: 'Effective permissions: the union of the roles\' permissions (every permission for the owner)' }),
    ...timestamps,
    version: z.number().int().openapi({ description: 'Also the ETag; send it back in If-Match' }),
  })
  .openapi('ProjectUser');

export const Project = z
  .object({
    _id: Ids.project,
    orgId: Ids.org,
    name: z.string(),
    ownerProjectUserId: Ids.projectUser,
    ...timestamps,
  })
  .openapi('Project');

export const OrgUser = z
  .object({
    _id: Ids.user,
    orgId: Ids.org,
    name: z.string(),
    email: z.string().nullable(),
    kind: z.enum(USER_KINDS),
    orgRole: z.enum(ORG_ROLES),
    createdAt: timestamp,
  })
  .openapi('OrgUser');

export const ApiKey = z
  .object({
    _id: Ids.key,
    userId: Ids.user,
    scope: z.enum(KEY_SCOPES),
    projectId: Ids.project.nullable(),
    name: z.string().nullable(),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
  })
  .openapi('ApiKey');

export const Me = z
  .object({
    type: z.literal('apiKey'),
    key: ApiKey,
    user: OrgUser,
    // `ProjectUser.nullable()` would be `allOf: [ProjectUser, {type: [object, null]}]`, which forbids null.
    projectUser: z
      .union([ProjectUser, z.null()])
      .openapi({ description: "The caller's membership in this project; null when it has none (a `global` key)" }),
    permissions: z.array(Permission),
    grants: z
      .array(z.object({ permission: Permission, grantedBy: z.array(z.string()) }))
      .openapi({ description: 'Each effective permission with what grants it: `role:<id>`, `owner` or `global_key`' }),
  })
  .openapi('Me');

export const listOf = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Pass as `cursor` for the next page; null when nothing follows. A page may be short, even empty, while more follow (a filter or hidden items left it short): follow it until null. Opaque (encrypted), valid for this listing only.' }),
  });

/** A small collection (the org's catalog: MAX_CATALOG_SIZE) is always one page, `nextCursor` null. */
export const onePageOf = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.null().openapi({ description: 'Always null: the whole catalog is one page' }) });

export const AuditEntry = z
  .object({
    _id: z.string().openapi({ description: 'Stable event ID, also the published event\'s ID' }),
    projectId: Ids.project,
    action: z.string(),
    actor: z.object({ keyId: Ids.key.nullable(), userId: z.string() }),
    projectUserId: Ids.projectUser.nullable(),
    userId: Ids.user.nullable(),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    at: timestamp,
  })
  .openapi('AuditEntry');

/** Every problem code of the error table (domain/errors.ts). */
const PROBLEM_CODES = Object.values(PROBLEMS).flatMap(({ codes }) => Object.keys(codes)) as [string, ...string[]];

export const Problem = z
  .object({
    type: z.string().openapi({ format: 'uri', description: 'Identifies the kind of problem; its last segment is `code`' }),
    title: z.string().openapi({ description: 'Short summary of the kind of problem; the same for every problem of this `code`' }),
    status: z.number().int().openapi({ description: 'The HTTP status code' }),
    detail: z.string().openapi({ description: 'What went wrong with this request, for people' }),
    code: z.enum(PROBLEM_CODES).openapi({ description: 'Stable, machine-readable kind of problem' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: '`validation_failed`: each invalid field, as `body.<field>`, `query.<name>`, `param.<name>` or `header.<name>`' }),
    holders: z.number().int().optional().openapi({ description: '`role_in_use`: how many memberships (in every project) hold the role' }),
    roleIds: z.array(z.string()).optional().openapi({ description: '`permission_in_use`: the roles that include the permission' }),
    blockedProjects: z
      .array(z.string())
      .optional()
      .openapi({ description: '`owner_protected` on deleting a user: the projects it owns (transfer them first)' }),
    projectUserId: z
      .string()
      .optional()
      .openapi({ description: '`conflict` on adding a user whose expired membership awaits removal: that membership' }),
    allow: z.array(z.string()).optional().openapi({ description: '`method_not_allowed`: the methods the path supports (also the `Allow` header)' }),
  })
  .openapi('Problem', { description: 'An RFC 9457 problem: the body of every error the API answers itself' });

/** What API Gateway answers by itself (the stage's throttling, 429): never the API's problem+json. */
export const GatewayError = z
  .object({ message: z.string() })
  .openapi('GatewayError', { description: 'An error API Gateway answers before the API runs' });

// ---- requests ---------------------------------------------------------------------------------

/** A future instant; the membership stops authorizing then and DynamoDB TTL removes it. */
const expiresAt = z
  .string()
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
  .transform((value) => new Date(value).toISOString())
  .openapi({
    type: 'string',
    format: 'date-time',
    description: 'When the membership stops authorizing (and is then removed). Must be in the future (400 otherwise); stored in UTC.',
    example: '2030-12-31T23:59:59.000Z',
  });

export const AddProjectUserBody = z
  .strictObject({ _id: Ids.user, roles: roleList.optional(), tags: tagList.optional(), expiresAt: expiresAt.optional() })
  .openapi('AddProjectUser');

export const UpdateProjectUserBody = z
  .strictObject({ roles: roleList.optional(), tags: tagList.optional(), expiresAt: expiresAt.nullable().optional() })
  .openapi('UpdateProjectUser');

export const TransferOwnershipBody = z.strictObject({ projectUserId: Ids.projectUser }).openapi('TransferOwnership');

export const CreateProjectBody = z.strictObject({ name: nameText(MAX_NAME_LENGTH) }).openapi('CreateProject');

export const CreateOrgUserBody = z
  .strictObject({
    name: nameText(MAX_NAME_LENGTH),
    email: z.string().email().max(254).optional(),
    kind: z.enum(USER_KINDS).optional(),
    // An organization has one owner, made with it (`npm run admin`): no request creates another.
    orgRole: z.enum(ORG_ROLES).exclude(['owner']).optional(),
  })
  .openapi('CreateOrgUser');

export const CreateKeyBody = z
  .strictObject({
    userId: Ids.user,
    scope: z.enum(KEY_SCOPES),
    projectId: Ids.project.optional(),
    name: nameText(MAX_NAME_LENGTH).optional(),
    expiresAt: z
      .string()
      .datetime({ offset: true })
      .optional()
      .openapi({
        description:
          "When the key stops working. Must be in the future and not later than the creating key's own expiry (400 otherwise): " +
          "a key never outlives the key that creates it. Omitted: the creating key's expiry (none if it has none).",
        example: '2030-12-31T23:59:59.000Z',
      }),
  })
  .openapi('CreateKey');

export const CreatedKey = z
  .object({
    key: ApiKey,
    secret: z
      .string()
      .nullable()
      .openapi({
        example: 'puk_key_01jd6x4r2m0000000000000000_…',
        description: 'The only time the secret is shown: null in an Idempotency-Key replay.',
      }),
  })
  .openapi('CreatedKey');

const limit = z
  .string()
  .regex(/^\d{1,3}$/, `must be an integer from 1 to ${PAGE_LIMITS.max}`)
  .transform(Number)
  .pipe(z.number().int().min(1).max(PAGE_LIMITS.max))
  .optional()
  .openapi({
    type: 'integer',
    minimum: 1,
    maximum: PAGE_LIMITS.max,
    default: PAGE_LIMITS.default,
    description: `Items per page, 1–${PAGE_LIMITS.max} (400 outside)`,
  });

const cursor = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .openapi({ description: "The previous page's `nextCursor`; a cursor of another listing or filter is a 400" });

export const PageQuery = z.strictObject({ limit, cursor });

/**
 * The query of every route that declares none: no parameter at all, so an unknown one is a 400 on
 * every route as on the lists (the catalog lists, always one page, refuse `limit` and `cursor` so).
 */
export const NoQuery = z.strictObject({});

/** The page a list request asks for: its `cursor`, and its `limit` or the default size. */
export function pageRequest(query: { limit?: number; cursor?: string }) {
  return { limit: query.limit ?? PAGE_LIMITS.default, cursor: query.cursor };
}

export const ProjectUsersQuery = z.strictObject({
  limit,
  cursor,
  role: z
    .string()
    .refine(isRoleIdFormat, 'must be a built-in role or a custom role ID (rol_…)')
    .optional()
    .openapi({ description: 'Only members holding this role ID', example: 'editor' }),
  tag: tag.optional(),
});

export const KeysQuery = z.strictObject({
  limit,
  cursor,
  userId: Ids.user.optional(),
});

export const AuditQuery = z.strictObject({
  limit,
  cursor,
  projectUserId: Ids.projectUser.optional(),
  action: z.enum(PROJECT_AUDIT_ACTIONS).optional(),
});
