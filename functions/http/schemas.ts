import { z } from '@hono/zod-openapi';
import { ID_PATTERN, type IdKind } from '../domain/ids.js';
import { isRoleIdFormat } from '../domain/catalog.js';
import { KEY_SCOPES, PERMISSIONS, ROLES } from '../domain/permissions.js';
import { MAX_TAG_LENGTH, normalizeTag } from '../domain/tags.js';

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

const MAX_ITEMS = 20;
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
const roleList = z.array(z.string().min(1).max(64)).min(1).max(MAX_ITEMS);
const tagList = z.array(tag).max(MAX_ITEMS);

/** Roles and permissions are an org's data (SPEC §6): built-in IDs are examples, not the whole set. */
export const Role = z
  .string()
  .min(1)
  .max(64)
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
    expiresAt: z.string().datetime().nullable().openapi({ description: 'When the membership stops authorizing; null: never' }),
    permissions: z.array(Permission),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
    version: z.number().int(),
  })
  .openapi('ProjectUser');

export const Project = z
  .object({
    _id: Ids.project,
    orgId: Ids.org,
    name: z.string(),
    ownerProjectUserId: Ids.projectUser,
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi('Project');

export const OrgUser = z
  .object({
    _id: Ids.user,
    orgId: Ids.org,
    name: z.string(),
    email: z.string().nullable(),
    kind: z.enum(['human', 'api']),
    orgRole: z.enum(['owner', 'admin', 'member']),
    createdAt: z.string().datetime(),
  })
  .openapi('OrgUser');

export const ApiKey = z
  .object({
    _id: Ids.key,
    userId: Ids.user,
    scope: z.enum(KEY_SCOPES),
    projectId: Ids.project.nullable(),
    name: z.string().nullable(),
    createdAt: z.string().datetime(),
    expiresAt: z.string().datetime().nullable(),
    revokedAt: z.string().datetime().nullable(),
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
    at: z.string().datetime(),
  })
  .openapi('AuditEntry');

export const AUDIT_ACTIONS = [
  'ProjectCreated',
  'ProjectUserAdded',
  'ProjectUserUpdated',
  'ProjectUserRemoved',
  'ProjectOwnershipTransferred',
] as const;


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
    kind: z.enum(['human', 'api']).optional(),
    orgRole: z.enum(['admin', 'member']).optional(),
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
  .regex(/^\d{1,3}$/, 'must be an integer from 1 to 100')
  .transform(Number)
  .pipe(z.number().int().min(1).max(100))
  .optional()
  .openapi({ type: 'integer', minimum: 1, maximum: 100, default: 50 });

const cursor = z.string().min(1).max(2048).optional();

export const PageQuery = z.strictObject({ limit, cursor });

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
  action: z.enum(AUDIT_ACTIONS).optional(),
});
