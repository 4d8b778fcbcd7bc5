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

/**
 * How long an event PutEvents keeps refusing holds its project's later events back: while its
 * stream record is younger, the publisher reports it as a batch item failure and Lambda retries
 * from it (the project's order holds); after that it is parked in the dead-letter queue with its
 * record and the project's later events go on. The stack's stream mapping keeps retrying for
 * longer than this (`maxRecordAge`), so the hold always ends in the dead-letter queue.
 */
export const HOLD_FAILING_EVENT_SECONDS = 300;
