import { PROJECT_AUDIT_ACTIONS, type AuditAction } from '../domain/model.js';

/**
 * What this service publishes, shared by the publisher and the stack's stream filter, so the
 * filter and the code cannot disagree.
 */
export const EVENT_SOURCE = 'project-users';

/** Audit actions that become events (others, such as org-user changes, stay in the audit log). */
export const PUBLISHED_ACTIONS: readonly AuditAction[] = [
  ...PROJECT_AUDIT_ACTIONS,
  'ApiKeyCreated',
  'ApiKeyRevoked',
  'RoleCreated',
  'RoleUpdated',
  'RoleDeleted',
  'PermissionCreated',
  'PermissionDeleted',
];

/** The principal DynamoDB TTL deletions carry in stream records. */
export const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

/** Inbound: deletes an org user's memberships everywhere. */
export const ORG_USER_DELETED = 'OrgUserDeleted';
