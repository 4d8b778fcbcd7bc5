import type { Catalog } from '../domain/catalog.js';
import type { Actor, ApiKey, AuditAction, AuditEntry, Membership, Org, OrgUser, Project, ProjectUser } from '../domain/model.js';
import type { OrgRole, Role } from '../domain/permissions.js';
import type { CursorCodec } from './cursor.js';
import type { Page, Table } from './table.js';

/** The contract the HTTP layer, the event handlers and the admin CLI depend on. */

/** Where every write's timestamp comes from: the system clock unless a test injects another. */
export interface Clock {
  /** The current instant as an ISO-8601 UTC string. */
  now(): string;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

/** What every entity module is built from. */
export interface StoreContext {
  table: Table;
  clock: Clock;
}

/** Builds one `Store` method over the shared context; an entity module is a set of these. */
export type Method<K extends keyof Store> = (context: StoreContext) => Store[K];

/** An entity module's methods, built over one context: what `createStore` spreads into the store. */
export function methods<M extends Record<string, (context: StoreContext) => unknown>>(
  context: StoreContext,
  makers: M,
): { [K in keyof M]: ReturnType<M[K]> } {
  return Object.fromEntries(Object.entries(makers).map(([name, make]) => [name, make(context)])) as { [K in keyof M]: ReturnType<M[K]> };
}

/** A response as stored for idempotent replay. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface IdempotencyRecord extends StoredResponse {
  requestHash: string;
  createdAt: string;
}

/** Asks a POST's transaction to also store its response under the caller's Idempotency-Key. */
export interface IdempotencyWrite<T> {
  apiKeyId: string;
  keyHash: string;
  requestHash: string;
  response: (result: T) => StoredResponse;
  /**
   * Settles when the lookup of an earlier response under this key has found none (it rejects
   * when there is one): the lookup runs beside the request's own read, and the transaction waits
   * for it, so a replay never costs a failed transaction.
   */
  noEarlierResponse?: Promise<void>;
}

/** The calling API key and its org user: every write re-asserts both are still live. */
export interface CallerKey {
  keyId: string;
  orgId: string;
  userId: string;
  /** The principal's pending confirmation by its org user's item (`Principal.confirmed`), if any. */
  confirmed?: Promise<Error | null>;
}

/**
 * What a write's authorization rested on, re-asserted inside its transaction. Every kind but
 * `operator` carries the calling key: its item must still exist, unrevoked and unexpired, and its
 * org user must not be deleted, so a key revoked on any instance never writes again.
 */
export type Authority =
  /** `projectUserId` too: a member removed and added again has a new one, while its membership item starts over at version 1. */
  | { kind: 'membership'; caller: CallerKey; projectId: string; userId: string; projectUserId: string; version: number }
  | { kind: 'globalKey'; caller: CallerKey }
  | { kind: 'orgUser'; caller: CallerKey; orgId: string; userId: string; version: number }
  /** A read-write key adding its own user: the key, its user and the target checks suffice. */
  | { kind: 'selfJoin'; caller: CallerKey }
  /** The admin CLI, with direct table access and no API key. */
  | { kind: 'operator' };

/** What every audited write carries: what it rests on and who does it. */
export interface Authorized {
  authority: Authority;
  actor: Actor;
}

export interface PageQuery {
  limit: number;
  cursor?: string;
}

/** The optional items of `projectContext`; a skipped or absent one comes back as null. */
export interface ProjectContextWanted {
  projectUserId?: string;
  memberUserId?: string;
  orgUser?: { orgId: string; userId: string };
  skipProject?: boolean;
  skipCaller?: boolean;
  /** Also the org's role catalog (in the same BatchGetItem): what a membership write decides with. */
  catalogOf?: string;
}

export interface ProjectContext {
  project: Project | null;
  callerMembership: Membership | null;
  projectUser: ProjectUser | null;
  memberMembership: Membership | null;
  orgUser: OrgUser | null;
  /** Asked for with `catalogOf`, else null. */
  catalog: Catalog | null;
}

export interface AddProjectUserInput extends Authorized {
  /** The org catalog the decision was made with: its version is re-asserted (absent: operator writes). */
  catalog?: Catalog;
  project: Project;
  userId: string;
  roles: Role[];
  tags: string[];
  expiresAt?: string | null;
  idempotency?: IdempotencyWrite<ProjectUser>;
}

export interface UpdateProjectUserInput extends Authorized {
  /** The org catalog the decision was made with: its version is re-asserted (absent: operator writes). */
  catalog?: Catalog;
  project: Project;
  before: ProjectUser;
  change: { roles?: Role[]; tags?: string[]; expiresAt?: string | null };
  /** Set when the client sent If-Match: a version mismatch is then theirs to see (412). */
  ifMatch: boolean;
}

export interface RemoveProjectUserInput extends Authorized {
  /** The org catalog the decision was made with: its version is re-asserted (absent: operator writes). */
  catalog?: Catalog;
  target: ProjectUser;
  ifMatch: boolean;
}

/** A change of the org's permissions or roles, and the audit item (and event) it becomes. */
export interface WriteCatalogInput extends Authorized {
  orgId: string;
  /** The catalog as read (consistently); its version is the write's condition. */
  before: Catalog;
  after: Omit<Catalog, 'version'>;
  change: {
    action: Extract<AuditAction, 'RoleCreated' | 'RoleUpdated' | 'RoleDeleted' | 'PermissionCreated' | 'PermissionDeleted'>;
    audit: { before?: Record<string, unknown>; after?: Record<string, unknown> };
    createdRoleId?: string;
    /** The role's grant counter as read when its holders were counted (null: none exists). */
    deletedRole?: { roleId: string; grantsVersion: number | null };
  };
  idempotency?: IdempotencyWrite<Catalog>;
}

export interface TransferOwnershipInput extends Authorized {
  project: Project;
  /** Needed only when the project predates `ownerRoles`. */
  oldOwner?: ProjectUser;
  newOwner: ProjectUser;
  idempotency?: IdempotencyWrite<{ project: Project }>;
}

export interface CreateProjectInput extends Authorized {
  orgId: string;
  name: string;
  ownerUserId: string;
  idempotency?: IdempotencyWrite<{ project: Project; owner: ProjectUser }>;
}

export interface CreateOrgUserInput extends Authorized {
  orgId: string;
  name: string;
  email: string | null;
  kind: OrgUser['kind'];
  orgRole: OrgRole;
  idempotency?: IdempotencyWrite<OrgUser>;
}

/**
 * The key's fields but its timestamps; `keyId` is chosen by the caller: the secret's checksum
 * (domain/api-key.ts) covers the key ID.
 */
export interface CreateApiKeyInput extends Authorized, Omit<ApiKey, 'createdAt' | 'revokedAt' | 'holder'> {
  idempotency?: IdempotencyWrite<ApiKey>;
  /**
   * The key's org user as read: unchanged (its version) and not being deleted at commit time (for
   * global keys: still an org owner/admin), and copied into the key item as its `holder`.
   */
  holder: OrgUser;
}

export interface Store {
  /** Seals and opens the pagination cursors of every listing. */
  cursors: CursorCodec;

  // ---- reads ----------------------------------------------------------------------------------
  getApiKey(keyId: string): Promise<ApiKey | null>;
  getOrg(orgId: string): Promise<Org | null>;
  /** Every organization, oldest first (operators: the admin CLI). */
  listOrgs(page: PageQuery): Promise<Page<Org>>;
  getOrgUser(orgId: string, userId: string, consistent?: boolean): Promise<OrgUser | null>;
  getProject(projectId: string): Promise<Project | null>;
  /** Those of the projects that exist, in the order asked; one BatchGetItem. */
  getProjects(projectIds: string[]): Promise<Project[]>;
  /**
   * What a request about one project needs, in one BatchGetItem: the project, the caller's
   * membership and optionally one project user, the membership of one org user and one org user.
   * A read leaves out what cannot change its answer (`skipProject`, `skipCaller`: see
   * `readContext` in functions/http/caller.ts); a skipped item comes back as null.
   */
  projectContext(projectId: string, callerUserId: string, extra?: ProjectContextWanted, consistent?: boolean): Promise<ProjectContext>;
  /** The live (under 24 h old) stored response for an Idempotency-Key, if any. */
  getIdempotencyRecord(apiKeyId: string, keyHash: string): Promise<IdempotencyRecord | null>;
  /** Whether `npm start` has bootstrapped this table already (so it prints no second key). */
  isBootstrapped(): Promise<boolean>;

  // ---- listings: one page each, `nextCursor` null on the last --------------------------------
  /** A project's users in creation order, optionally only those with a role or a tag. */
  listProjectUsers(projectId: string, query: PageQuery & { role?: Role; tag?: string }): Promise<Page<ProjectUser>>;
  /** A project's audit log, newest first, optionally about one project user or of one action. */
  listAudit(projectId: string, query: PageQuery & { projectUserId?: string; action?: string }): Promise<Page<AuditEntry>>;
  /** Projects of an org (for global keys), by GSI1. */
  listOrgProjects(orgId: string, page: PageQuery): Promise<Page<Project>>;
  /** Memberships of an org user across projects, by GSI1. */
  listMembershipsOfUser(userId: string, page: PageQuery): Promise<Page<ProjectUser>>;
  listOrgUsers(orgId: string, page: PageQuery): Promise<Page<OrgUser>>;
  /** An org user's keys, by GSI1; `pinnedTo`: only keys pinned to that project (what a pinned caller may see). */
  listKeysOfUser(userId: string, page: PageQuery & { pinnedTo?: string | null }): Promise<Page<ApiKey>>;

  // ---- roles and permissions (SPEC §6) ----------------------------------------------------------
  /** The org's catalog; reads may get one cached for up to KEY_CACHE_MAX_SECONDS, `consistent` never. */
  getCatalog(orgId: string, options?: { consistent?: boolean }): Promise<Catalog>;
  /** Live memberships holding a custom role, counted from its grant items, and its grant counter. */
  roleHolders(roleId: string): Promise<{ holders: number; grantsVersion: number | null }>;
  /** One catalog change, conditioned on the version read; returns the new catalog. */
  writeCatalog(input: WriteCatalogInput): Promise<Catalog>;

  // ---- writes: one transaction each, with its invariants, the authority check and an audit item ----
  /** A duplicate membership is `alreadyMember` (409); a missing or departing org user is 404. */
  addProjectUser(input: AddProjectUserInput): Promise<ProjectUser>;
  updateProjectUser(input: UpdateProjectUserInput): Promise<ProjectUser>;
  /** Never removes the owner. */
  removeProjectUser(input: RemoveProjectUserInput): Promise<void>;
  /**
   * Removal of a deleted user's membership: authorized by the deletion, not by a project role.
   * Retries on a changed membership; 'owner' when it became the project's owner meanwhile.
   */
  removeMembershipOfDeletedUser(input: { target: ProjectUser; actor: Actor }): Promise<'removed' | 'owner'>;
  /** The old owner stays a member with its roles plus `admin`. */
  transferOwnership(input: TransferOwnershipInput): Promise<{ project: Project; newOwner: ProjectUser }>;
  /** The project with its owner as its first member. */
  createProject(input: CreateProjectInput): Promise<{ project: Project; owner: ProjectUser }>;
  /** An e-mail already used in the org is a 409. */
  createOrgUser(input: CreateOrgUserInput): Promise<OrgUser>;
  /** First step of deleting an org user: from now on it can join nothing and get no key. */
  markOrgUserDeleting(input: { user: OrgUser } & Authorized): Promise<void>;
  /** Last step: the user item, its e-mail guard and its keys go; the audit records it. */
  finishOrgUserDeletion(input: { user: OrgUser; keyIds: string[]; actor: Actor }): Promise<void>;
  createApiKey(input: CreateApiKeyInput): Promise<ApiKey>;
  /** Revoking a revoked key changes nothing and returns it as it is. */
  revokeApiKey(input: { key: ApiKey } & Authorized): Promise<ApiKey>;
  /** Admin CLI: a new organization with its owner (no caller to authorize). */
  bootstrapOrg(input: { orgName: string; ownerName: string; ownerEmail: string | null }): Promise<{ org: Org; owner: OrgUser }>;
  markBootstrapped(orgId: string): Promise<void>;
}
