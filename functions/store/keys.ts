/**
 * The single-table layout. Every key is built here and nowhere else, and the CDK stack builds the
 * table from `TABLE_DEFINITION`, so keys and infrastructure cannot drift.
 *
 * | entity        | PK                 | SK                  | GSI1PK           | GSI1SK              |
 * |---------------|--------------------|---------------------|------------------|---------------------|
 * | Org           | ORG#<orgId>        | ORG                 | ORGS             | ORG#<orgId>         |
 * | OrgUser       | ORG#<orgId>        | USER#<userId>       |                  |                     |
 * | EmailGuard    | ORG#<orgId>        | EMAIL#<email>       |                  |                     |
 * | Project       | PROJECT#<prjId>    | PROJECT             | ORG#<orgId>      | PROJECT#<prjId>     |
 * | ProjectUser   | PROJECT#<prjId>    | PU#<puId>           | USER#<userId>    | PROJECT#<prjId>     |
 * | Membership    | PROJECT#<prjId>    | MEMBER#<userId>     |                  |                     |
 * | ApiKey        | KEY#<keyId>        | KEY                 | USER#<userId>    | KEY#<keyId>         |
 * | Audit         | PROJECT#<prjId>    | AUDIT#<evtId>       |                  |                     |
 * | Audit (org)   | ORG#<orgId>        | AUDIT#<evtId>       |                  |                     |
 * | Bootstrap     | META               | BOOTSTRAP           |                  |                     |
 * | Idempotency   | IDEMPOTENCY#<keyId>| <sha256(Idempotency-Key)> |            |                     |
 *
 * `Membership` is the uniqueness guard for (project, org user) and the caller's authorization
 * record: it carries the same roles/isOwner/version as its `ProjectUser`, and both are always
 * written in the same transaction. A caller is known by its org user ID, so its membership is one
 * `GetItem`; a target is known by its project-user ID, so it is one `GetItem` too. The `Project`
 * item points at its owner (`ownerProjectUserId`, `ownerUserId`) and copies the owner's roles
 * (`ownerRoles`), so a transfer can demote the old owner without reading it.
 *
 * | access pattern                               | key condition                                   | index |
 * |----------------------------------------------|-------------------------------------------------|-------|
 * | resolve an API key                           | PK = KEY#k, SK = KEY                             | table |
 * | caller's membership in a project             | PK = PROJECT#p, SK = MEMBER#u                    | table |
 * | get a project / project user                 | PK = PROJECT#p, SK = PROJECT / PU#pu             | table |
 * | list a project's users (creation order)      | PK = PROJECT#p, SK begins_with PU#               | table |
 * | a project's audit log (newest first)         | PK = PROJECT#p, SK begins_with AUDIT#, desc      | table |
 * | list org users / get one                     | PK = ORG#o, SK begins_with USER# / = USER#u      | table |
 * | projects of an org (global keys)             | GSI1PK = ORG#o, GSI1SK begins_with PROJECT#      | GSI1  |
 * | memberships of an org user                   | GSI1PK = USER#u, GSI1SK begins_with PROJECT#     | GSI1  |
 * | API keys of an org user                      | GSI1PK = USER#u, GSI1SK begins_with KEY#         | GSI1  |
 * | every organization (the admin CLI, rare)     | GSI1PK = ORGS, GSI1SK begins_with ORG#           | GSI1  |
 */

export const ENTITY = {
  org: 'Org',
  orgUser: 'OrgUser',
  emailGuard: 'EmailGuard',
  project: 'Project',
  projectUser: 'ProjectUser',
  membership: 'Membership',
  apiKey: 'ApiKey',
  audit: 'Audit',
  bootstrapMarker: 'BootstrapMarker',
  idempotencyRecord: 'IdempotencyRecord',
  catalog: 'Catalog',
  roleMeta: 'RoleMeta',
  roleGrant: 'RoleGrant',
} as const;
export type EntityType = (typeof ENTITY)[keyof typeof ENTITY];

export interface ItemKey {
  PK: string;
  SK: string;
}

export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  entityAttribute: 'entity',
  ttlAttribute: 'ttl',
  globalSecondaryIndexes: [{ indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' }],
} as const;

export const GSI1 = TABLE_DEFINITION.globalSecondaryIndexes[0].indexName;

export const prefixes = {
  user: 'USER#',
  emailGuard: 'EMAIL#',
  projectUser: 'PU#',
  membership: 'MEMBER#',
  project: 'PROJECT#',
  key: 'KEY#',
  audit: 'AUDIT#',
  roleGrant: 'GRANT#',
  org: 'ORG#',
} as const;

/**
 * The sort keys under `prefix` as a closed range, for `SK BETWEEN :from AND :to`: the prefix and
 * its successor (last character + 1, `PU#` → `PU$`). On DynamoDB that reads exactly the items
 * `begins_with(SK, prefix)` reads, since no key of this layout is a bare successor like `PU$`.
 * DynamoDB Local, though, evaluates `begins_with` by walking the whole partition, and a range as a
 * range: a page of 5 out of 10,000 members took 6.9 ms with `begins_with`, 2.3 ms with the range.
 */
export function prefixRange(prefix: string): { from: string; to: string } {
  const last = prefix.charCodeAt(prefix.length - 1);
  return { from: prefix, to: prefix.slice(0, -1) + String.fromCharCode(last + 1) };
}

const orgPk = (orgId: string) => `ORG#${orgId}`;
const projectPk = (projectId: string) => `PROJECT#${projectId}`;
const userGsiPk = (userId: string) => `USER#${userId}`;
const rolePk = (roleId: string) => `ROLE#${roleId}`;

export const keys = {
  org: (orgId: string): ItemKey => ({ PK: orgPk(orgId), SK: 'ORG' }),
  orgUser: (orgId: string, userId: string): ItemKey => ({ PK: orgPk(orgId), SK: `${prefixes.user}${userId}` }),
  emailGuard: (orgId: string, email: string): ItemKey => ({
    PK: orgPk(orgId),
    SK: `${prefixes.emailGuard}${email.toLowerCase()}`,
  }),
  project: (projectId: string): ItemKey => ({ PK: projectPk(projectId), SK: 'PROJECT' }),
  projectUser: (projectId: string, projectUserId: string): ItemKey => ({
    PK: projectPk(projectId),
    SK: `${prefixes.projectUser}${projectUserId}`,
  }),
  membership: (projectId: string, userId: string): ItemKey => ({
    PK: projectPk(projectId),
    SK: `${prefixes.membership}${userId}`,
  }),
  apiKey: (keyId: string): ItemKey => ({ PK: `KEY#${keyId}`, SK: 'KEY' }),
  projectAudit: (projectId: string, eventId: string): ItemKey => ({
    PK: projectPk(projectId),
    SK: `${prefixes.audit}${eventId}`,
  }),
  orgAudit: (orgId: string, eventId: string): ItemKey => ({ PK: orgPk(orgId), SK: `${prefixes.audit}${eventId}` }),
  /** The org's permissions and roles in one item, versioned: every membership write re-asserts it. */
  catalog: (orgId: string): ItemKey => ({ PK: orgPk(orgId), SK: 'CATALOG' }),
  /** A custom role's grant counter: every assignment bumps it, so a deletion cannot miss one. */
  roleMeta: (roleId: string): ItemKey => ({ PK: rolePk(roleId), SK: 'META' }),
  /** One membership holding a custom role: the index that counts a role's holders without a scan. */
  roleGrant: (roleId: string, projectId: string, projectUserId: string): ItemKey => ({
    PK: rolePk(roleId),
    SK: `${prefixes.roleGrant}${projectId}#${projectUserId}`,
  }),
  /** Marks a table that `npm start` has bootstrapped, so a restart prints no new key. */
  bootstrapMarker: (): ItemKey => ({ PK: 'META', SK: 'BOOTSTRAP' }),
  /** A POST's first response under an `Idempotency-Key`, scoped to the API key that sent it. */
  idempotency: (apiKeyId: string, idempotencyKeyHash: string): ItemKey => ({
    PK: `IDEMPOTENCY#${apiKeyId}`,
    SK: idempotencyKeyHash,
  }),
};

export const gsi1 = {
  projectOfOrg: (orgId: string, projectId: string) => ({ GSI1PK: orgPk(orgId), GSI1SK: `${prefixes.project}${projectId}` }),
  membershipOfUser: (userId: string, projectId: string) => ({
    GSI1PK: userGsiPk(userId),
    GSI1SK: `${prefixes.project}${projectId}`,
  }),
  keyOfUser: (userId: string, keyId: string) => ({ GSI1PK: userGsiPk(userId), GSI1SK: `${prefixes.key}${keyId}` }),
  /** The directory of organizations: written once per org, read only by operators (never a hot partition). */
  orgInDirectory: (orgId: string) => ({ GSI1PK: ORG_DIRECTORY, GSI1SK: orgPk(orgId) }),
};

const ORG_DIRECTORY = 'ORGS';

/** Partition values for queries. */
export const partitions = {
  org: orgPk,
  project: projectPk,
  user: userGsiPk,
  role: rolePk,
  orgDirectory: ORG_DIRECTORY,
};
