import { z } from '@hono/zod-openapi';
import { ID_PATTERN, type IdKind } from '../domain/ids.js';
import { isRoleIdFormat } from '../domain/catalog.js';
import { MAX_ROLE_ID_LENGTH, MAX_TAG_LENGTH, MEMBERSHIP_LIMITS, PAGE_LIMITS } from '../domain/limits.js';
import { PROJECT_AUDIT_ACTIONS, USER_KINDS } from '../domain/model.js';
import { KEY_SCOPES, ORG_ROLES, PERMISSIONS, ROLES } from '../domain/permissions.js';
import { normalizeTag } from '../domain/tags.js';

/**
 * Request and response schemas, defined once: they validate requests and describe the API in the
 * OpenAPI document. Request objects are strict, so unknown fields (`isOwner`, `version`...) are a
 * 400, never silently stored.
 */
const id = (kind: IdKind, example: string) =>
  z.string().regex(ID_PATTERN[kind], `must be a ${example.split('_')[0]}_… ID`).openapi({ example });

export const Ids = {
  org: id('org', 'org_01jd6x4r2m0000000000000000'),
  user: id('user', 'usr_01jd6x4r2m0000000000000000'),
  project: id('project', 'prj_01jd6x4r2m0000000000000000'),
  projectUser: id('projectUser', 'pu_01jd6x4r2m0000000000000000'),
  key: id('key', 'key_01jd6x4r2m0000000000000000'),
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
    description: `1–${MAX_TAG_LENGTH} user-perceived characters (grapheme clusters), stored in Unicode NFC; no control, line-separator or bidirectional formatting characters, no unpaired surrogates.`,
    example: 'eu-west',
  });
/** Roles are free strings here: an unknown role is a 409 from the domain, as the spec says. */
/** A membership always holds at least one role: `roles: []` is a 400, never a member with no role. */
const roleList = z.array(z.string().min(1).max(MAX_ROLE_ID_LENGTH)).min(1).max(MEMBERSHIP_LIMITS.roles);
const tagList = z.array(tag).max(MEMBERSHIP_LIMITS.tags);

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
    isOwner: z.boolean(),
    expiresAt: timestamp.nullable().openapi({ description: 'When the membership stops authorizing; null: never' }),
    permissions: z.array(Permission),
    ...timestamps,
    version: z.number().int(),
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
    projectUser: ProjectUser.nullable(),
    permissions: z.array(Permission),
    grants: z
      .array(z.object({ permission: Permission, grantedBy: z.array(z.string()) }))
      .openapi({ description: 'Each effective permission with what grants it: `role:<id>`, `owner` or `global_key`' }),
  })
  .openapi('Me');

export const listOf = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

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

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

// ---- requests ---------------------------------------------------------------------------------

/** A future instant; the membership stops authorizing then and DynamoDB TTL removes it. */
const expiresAt = z
  .string()
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
  .transform((value) => new Date(value).toISOString());

export const AddProjectUserBody = z
  .strictObject({ _id: Ids.user, roles: roleList.optional(), tags: tagList.optional(), expiresAt: expiresAt.optional() })
  .openapi('AddProjectUser');

export const UpdateProjectUserBody = z
  .strictObject({ roles: roleList.optional(), tags: tagList.optional(), expiresAt: expiresAt.nullable().optional() })
  .openapi('UpdateProjectUser');

export const TransferOwnershipBody = z.strictObject({ projectUserId: Ids.projectUser }).openapi('TransferOwnership');

export const CreateProjectBody = z.strictObject({ name: z.string().trim().min(1).max(200) }).openapi('CreateProject');

export const CreateOrgUserBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
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
    name: z.string().trim().min(1).max(200).optional(),
    expiresAt: z.string().datetime({ offset: true }).optional(),
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
  .openapi({ type: 'integer', minimum: 1, maximum: PAGE_LIMITS.max, default: PAGE_LIMITS.default });

const cursor = z.string().min(1).max(2048).optional();

export const PageQuery = z.strictObject({ limit, cursor });

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
