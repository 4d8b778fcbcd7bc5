import type { KeyScope, OrgRole, Role } from './permissions.js';

/** The records the store returns. Storage details (PK/SK, GSI keys, entity) never leave the store. */
export interface Org {
  orgId: string;
  name: string;
  createdAt: string;
}

/** Who an org user is: a person, or a service that only ever acts through its API keys. */
export const USER_KINDS = ['human', 'api'] as const;
export type UserKind = (typeof USER_KINDS)[number];

export interface OrgUser {
  userId: string;
  orgId: string;
  name: string;
  email: string | null;
  kind: UserKind;
  orgRole: OrgRole;
  createdAt: string;
  version: number;
  /** Set when deletion has begun: the user can no longer join projects or get keys. */
  deletingAt?: string;
}

export interface Project {
  projectId: string;
  orgId: string;
  name: string;
  ownerProjectUserId: string;
  ownerUserId: string;
  /**
   * A copy of the owner's roles, which cannot change while it owns, so that a transfer can demote
   * the old owner without reading it first. Absent on projects written before it existed.
   */
  ownerRoles?: Role[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface ProjectUser {
  projectUserId: string;
  projectId: string;
  orgId: string;
  userId: string;
  roles: Role[];
  tags: string[];
  isOwner: boolean;
  /** When the membership stops authorizing (and DynamoDB TTL removes it); null: never. */
  expiresAt?: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** An expired membership authorizes nothing and is not shown, even before TTL removes it. */
export function isExpired(member: { expiresAt?: string | null }, now = Date.now()): boolean {
  return typeof member.expiresAt === 'string' && Date.parse(member.expiresAt) <= now;
}

/**
 * The caller-side twin of a ProjectUser, found by (project, org user): a full copy, so that a
 * caller's own membership (for `me` or authorization) is one GetItem.
 */
export type Membership = ProjectUser;

export interface ApiKey {
  keyId: string;
  orgId: string;
  userId: string;
  scope: KeyScope;
  projectId: string | null;
  name: string | null;
  secretHash: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /**
   * Who holds the key, as it was when the key was minted (absent on keys minted before it was
   * kept). A read on a cold instance starts from it instead of waiting for the org user's item,
   * which it then reads in parallel and must agree with (http/auth.ts).
   */
  holder?: KeyHolder;
}

/** The org user facts a key carries: all of OrgUser but its IDs (the key has them) and `deletingAt`. */
export type KeyHolder = Pick<OrgUser, 'name' | 'email' | 'kind' | 'orgRole' | 'createdAt' | 'version'>;

export function keyHolderOf(user: OrgUser): KeyHolder {
  return { name: user.name, email: user.email, kind: user.kind, orgRole: user.orgRole, createdAt: user.createdAt, version: user.version };
}

export interface Actor {
  keyId: string | null;
  userId: string;
}

/** The actions of a project's audit log (`GET …/audit`, filtered by `?action=`), every one also published as an event. */
export const PROJECT_AUDIT_ACTIONS = [
  'ProjectCreated',
  'ProjectUserAdded',
  'ProjectUserUpdated',
  'ProjectUserRemoved',
  'ProjectOwnershipTransferred',
] as const;

/** Every action an audit entry (and the event published from it) can name. */
export const AUDIT_ACTIONS = [
  ...PROJECT_AUDIT_ACTIONS,
  'OrgUserCreated',
  'OrgUserDeleted',
  'ApiKeyCreated',
  'ApiKeyRevoked',
  'OrgUserDeletionBlocked',
  'RoleCreated',
  'RoleUpdated',
  'RoleDeleted',
  'PermissionCreated',
  'PermissionDeleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  eventId: string;
  orgId: string;
  projectId: string | null;
  action: AuditAction;
  actor: Actor;
  projectUserId: string | null;
  userId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  at: string;
}

/** The authenticated caller. */
export interface Principal {
  key: ApiKey;
  user: OrgUser;
  /**
   * Set while `user` is the key item's copy of its holder (the first request of a key on a cold
   * instance): settles once the org user's own item is read, to null when it confirms the copy, else
   * to the refusal to answer. A write is not sent before it settles.
   */
  confirmed?: Promise<Error | null>;
}
