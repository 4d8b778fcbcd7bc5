import type { z } from '@hono/zod-openapi';
import { formatApiKey, secretWithChecksum } from '../domain/api-key.js';
import { effectiveGrants } from '../domain/permissions.js';
import type {
  AddProjectUserBody,
  ApiKey,
  AuditEntry,
  CreatedKey,
  CreateKeyBody,
  CreateOrgUserBody,
  CreateProjectBody,
  Me,
  OrgUser,
  Project,
  ProjectUser,
  TransferOwnershipBody,
  UpdateProjectUserBody,
} from './schemas.js';
import { EXAMPLE_ID } from './schemas.js';

/**
 * The document's examples, one per schema (Redocly checks each against its schema; TypeScript
 * checks them against the schemas here). IDs are EXAMPLE_ID's; nothing here is a real record.
 */
const at = '2025-06-02T09:30:00.000Z';
const later = '2025-06-03T14:05:00.000Z';
const editor = { projectUserId: EXAMPLE_ID.otherProjectUser, roles: ['editor'], isOwner: false };
const editorGrants = effectiveGrants({ userId: EXAMPLE_ID.otherUser, scope: 'read-write', membership: editor });

const projectUserExample = {
  _id: EXAMPLE_ID.otherProjectUser,
  projectId: EXAMPLE_ID.project,
  userId: EXAMPLE_ID.otherUser,
  roles: editor.roles,
  tags: ['eu-west'],
  isOwner: false,
  expiresAt: null,
  permissions: [...editorGrants.keys()],
  createdAt: at,
  updatedAt: later,
  version: 2,
} satisfies z.input<typeof ProjectUser>;

const apiKeyExample = {
  _id: EXAMPLE_ID.key,
  userId: EXAMPLE_ID.otherUser,
  scope: 'read-write',
  projectId: null,
  name: 'CI deploy job',
  createdAt: at,
  expiresAt: '2030-12-31T23:59:59.000Z',
  revokedAt: null,
} satisfies z.input<typeof ApiKey>;

const orgUserExample = {
  _id: EXAMPLE_ID.otherUser,
  orgId: EXAMPLE_ID.org,
  name: 'Ann Example',
  email: 'ann@example.org',
  kind: 'human',
  orgRole: 'member',
  createdAt: at,
} satisfies z.input<typeof OrgUser>;

export const EXAMPLES = {
  /** A page that has more after it: `nextCursor` is what the next request sends as `cursor`. */
  cursor: 'eyJsIjoicHJvamVjdC11c2VycyIsImsiOnt9fQ.Q2xpZW50cyBkbyBub3QgcmVhZCBpdA',
  projectUser: projectUserExample,
  project: {
    _id: EXAMPLE_ID.project,
    orgId: EXAMPLE_ID.org,
    name: 'Payments',
    ownerProjectUserId: EXAMPLE_ID.projectUser,
    createdAt: at,
    updatedAt: at,
  } satisfies z.input<typeof Project>,
  orgUser: orgUserExample,
  apiKey: apiKeyExample,
  createdKey: {
    key: apiKeyExample,
    secret: formatApiKey(EXAMPLE_ID.key, secretWithChecksum(EXAMPLE_ID.key, 'Example'.repeat(7).slice(0, 43))),
  } satisfies z.input<typeof CreatedKey>,
  me: {
    type: 'apiKey',
    key: apiKeyExample,
    user: orgUserExample,
    projectUser: projectUserExample,
    permissions: [...editorGrants.keys()],
    grants: [...editorGrants].map(([permission, grantedBy]) => ({ permission, grantedBy })),
  } satisfies z.input<typeof Me>,
  auditEntry: {
    _id: EXAMPLE_ID.event,
    projectId: EXAMPLE_ID.project,
    action: 'ProjectUserUpdated',
    actor: { keyId: EXAMPLE_ID.key, userId: EXAMPLE_ID.user },
    projectUserId: EXAMPLE_ID.otherProjectUser,
    userId: EXAMPLE_ID.otherUser,
    before: { roles: ['viewer'], tags: [], isOwner: false, expiresAt: null },
    after: { roles: ['editor'], tags: ['eu-west'], isOwner: false, expiresAt: null },
    at: later,
  } satisfies z.input<typeof AuditEntry>,
  addProjectUser: { _id: EXAMPLE_ID.otherUser, roles: ['editor'], tags: ['eu-west'] } satisfies z.input<typeof AddProjectUserBody>,
  updateProjectUser: { roles: ['editor'], tags: ['eu-west'] } satisfies z.input<typeof UpdateProjectUserBody>,
  transferOwnership: { projectUserId: EXAMPLE_ID.otherProjectUser } satisfies z.input<typeof TransferOwnershipBody>,
  createProject: { name: 'Payments' } satisfies z.input<typeof CreateProjectBody>,
  createOrgUser: { name: 'Ann Example', email: 'ann@example.org', kind: 'human', orgRole: 'member' } satisfies z.input<typeof CreateOrgUserBody>,
  createKey: {
    userId: EXAMPLE_ID.otherUser,
    scope: 'read-write',
    name: 'CI deploy job',
    expiresAt: '2030-12-31T23:59:59.000Z',
  } satisfies z.input<typeof CreateKeyBody>,
};
