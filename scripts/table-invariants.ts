/**
 * The table's invariants, checked over the items themselves (an admin tool: it may Scan; nothing
 * under functions/ uses it). `checkTable` collects the items — the whole table and its GSI1 by
 * Scan, or one or more organizations by Query — and `findViolations` is the pure rule set, so
 * tests can feed it hand-made items too.
 *
 * Rules (each violation names one):
 *   entity                   an item without a known `entity`, or whose keys do not match its entity's layout
 *   membership-without-guard a ProjectUser without its Membership twin
 *   guard-without-membership a Membership without its ProjectUser twin
 *   twin-mismatch            twins that disagree (version, roles, tags, isOwner, IDs, dates)
 *   duplicate-membership     two ProjectUsers for one (project, org user)
 *   owner-count              a project without exactly one ProjectUser with isOwner = true
 *   owner-pointer            the project's ownerProjectUserId / ownerUserId / ownerRoles disagree with the owner item
 *   owner-not-member         the project points at an owner that is not a member
 *   orphan                   a project-partition item (member, audit) whose project does not exist
 *   cross-org                a membership, key or pin whose organization is not the project's / user's
 *   member-user-missing      a membership of an org user that does not exist (dangling USER# GSI entry)
 *   dangling-gsi             a GSI1 key pointing at nothing, or an index entry that is not its base item's
 *   key-without-user         a live (not revoked) API key whose org user does not exist
 *   email-guard              an e-mail guard without its user, or a user with an e-mail and no guard
 *   bad-value                roles/tags outside the API's domain (unknown role, > 20, tag > 64 chars)
 *   audit-creation           a ProjectUser without exactly one creation audit item (added / project created)
 *   audit-version            a ProjectUser whose version is not 1 + the audited changes to it (an unaudited or lost write)
 *   audit-removal            a removal audited twice, or audited for a project user that still exists
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isId } from '../functions/domain/ids.js';
import { ROLES } from '../functions/domain/permissions.js';
import { ENTITY, GSI1 } from '../functions/store/keys.js';

export type Item = Record<string, any>;

export interface Violation {
  rule: string;
  /** `PK | SK` of the item the violation is about. */
  item: string;
  detail: string;
}

export interface CheckTableOptions {
  tableName: string;
  /** A client to use (not destroyed); otherwise one is made from endpoint/region. */
  client?: DynamoDBClient;
  endpoint?: string;
  region?: string;
  /** Only these organizations (collected by Query); default: the whole table (Scan). */
  orgIds?: string[];
}

export interface TableReport {
  violations: Violation[];
  items: number;
  indexEntries: number;
  byEntity: Record<string, number>;
}

const MAX_ITEMS = 20;
const MAX_TAG = 64;
const CREATION_ACTIONS = new Set(['ProjectUserAdded', 'ProjectCreated']);

const at = (item: Item) => `${item.PK} | ${item.SK}`;
const isString = (v: unknown): v is string => typeof v === 'string';

/** What each entity's keys must look like, given its own attributes. */
function expectedKeys(item: Item): { PK: string; SK: string; GSI1PK?: string; GSI1SK?: string } | null {
  switch (item.entity) {
    case ENTITY.org:
      return { PK: `ORG#${item.orgId}`, SK: 'ORG' };
    case ENTITY.orgUser:
      return { PK: `ORG#${item.orgId}`, SK: `USER#${item.userId}` };
    case ENTITY.emailGuard:
      return isString(item.PK) && item.PK.startsWith('ORG#') && isString(item.SK) && item.SK.startsWith('EMAIL#')
        ? { PK: item.PK, SK: item.SK }
        : null;
    case ENTITY.project:
      return { PK: `PROJECT#${item.projectId}`, SK: 'PROJECT', GSI1PK: `ORG#${item.orgId}`, GSI1SK: `PROJECT#${item.projectId}` };
    case ENTITY.projectUser:
      return {
        PK: `PROJECT#${item.projectId}`,
        SK: `PU#${item.projectUserId}`,
        GSI1PK: `USER#${item.userId}`,
        GSI1SK: `PROJECT#${item.projectId}`,
      };
    case ENTITY.membership:
      return { PK: `PROJECT#${item.projectId}`, SK: `MEMBER#${item.userId}` };
    case ENTITY.apiKey:
      return { PK: `KEY#${item.keyId}`, SK: 'KEY', GSI1PK: `USER#${item.userId}`, GSI1SK: `KEY#${item.keyId}` };
    case ENTITY.audit:
      return {
        PK: item.projectId ? `PROJECT#${item.projectId}` : `ORG#${item.orgId}`,
        SK: `AUDIT#${item.eventId}`,
      };
    case ENTITY.bootstrapMarker:
      return { PK: 'META', SK: 'BOOTSTRAP' };
    case 'IdempotencyRecord':
      return isString(item.PK) && /^IDEMPOTENCY#key_[0-9a-hjkmnp-tv-z]{26}$/.test(item.PK) && isString(item.SK) && /^[0-9a-f]{64}$/.test(item.SK)
        ? { PK: item.PK, SK: item.SK }
        : null;
    default:
      // An entity the layout knows (keys.ts) but these rules do not yet: its keys are not checked.
      return (Object.values(ENTITY) as string[]).includes(item.entity) && isString(item.PK) && isString(item.SK) ? { PK: item.PK, SK: item.SK } : null;
  }
}

const ID_FIELDS: Record<string, [string, Parameters<typeof isId>[0]][]> = {
  [ENTITY.org]: [['orgId', 'org']],
  [ENTITY.orgUser]: [['orgId', 'org'], ['userId', 'user']],
  [ENTITY.project]: [['orgId', 'org'], ['projectId', 'project'], ['ownerProjectUserId', 'projectUser'], ['ownerUserId', 'user']],
  [ENTITY.projectUser]: [['orgId', 'org'], ['projectId', 'project'], ['projectUserId', 'projectUser'], ['userId', 'user']],
  [ENTITY.membership]: [['orgId', 'org'], ['projectId', 'project'], ['projectUserId', 'projectUser'], ['userId', 'user']],
  [ENTITY.apiKey]: [['orgId', 'org'], ['keyId', 'key'], ['userId', 'user']],
  [ENTITY.audit]: [['orgId', 'org'], ['eventId', 'audit']],
};

const TWIN_FIELDS = ['projectUserId', 'projectId', 'orgId', 'userId', 'version', 'isOwner', 'createdAt', 'updatedAt'] as const;
const sameList = (a: unknown, b: unknown) =>
  Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Every broken invariant in a set of items. `indexEntries` (GSI1 as read from the index), when
 * given, are checked against their base items.
 */
/** How much later than a revocation a racing write's own timestamp may be (see `revoked-writer`). */
export const WRITE_CLOCK_TOLERANCE_MS = 5_000;

export function findViolations(items: Item[], indexEntries: Item[] | null = null): Violation[] {
  const violations: Violation[] = [];
  const report = (rule: string, item: Item | string, detail: string) =>
    violations.push({ rule, item: typeof item === 'string' ? item : at(item), detail });

  const byKey = new Map<string, Item>();
  const orgs = new Set<string>();
  const orgUsers = new Map<string, Item>(); // userId → OrgUser
  const projects = new Map<string, Item>(); // projectId → Project
  const projectUsers: Item[] = [];
  const memberships = new Map<string, Item>(); // PK|SK → Membership
  const keysByItem: Item[] = [];
  const guards: Item[] = [];
  const audits: Item[] = [];

  for (const item of items) {
    byKey.set(at(item), item);
    const expected = expectedKeys(item);
    if (!expected) {
      report('entity', item, `unknown or missing entity ${JSON.stringify(item.entity)}`);
      continue;
    }
    for (const [name, value] of Object.entries(expected)) {
      if (item[name] !== value) report('entity', item, `${item.entity}: ${name} is ${JSON.stringify(item[name])}, expected ${JSON.stringify(value)}`);
    }
    if (!expected.GSI1PK && (item.GSI1PK !== undefined || item.GSI1SK !== undefined)) {
      report('dangling-gsi', item, `${item.entity} carries GSI1 keys ${item.GSI1PK} / ${item.GSI1SK}`);
    }
    for (const [field, kind] of ID_FIELDS[item.entity] ?? []) {
      if (!isString(item[field]) || !isId(kind, item[field])) report('entity', item, `${item.entity}.${field} is not a ${kind} ID: ${JSON.stringify(item[field])}`);
    }
    switch (item.entity) {
      case ENTITY.org:
        orgs.add(item.orgId);
        break;
      case ENTITY.orgUser:
        orgUsers.set(item.userId, item);
        break;
      case ENTITY.project:
        projects.set(item.projectId, item);
        break;
      case ENTITY.projectUser:
        projectUsers.push(item);
        break;
      case ENTITY.membership:
        memberships.set(at(item), item);
        break;
      case ENTITY.apiKey:
        keysByItem.push(item);
        break;
      case ENTITY.emailGuard:
        guards.push(item);
        break;
      case ENTITY.audit:
        audits.push(item);
        break;
    }
  }

  // ---- org users and e-mail guards ------------------------------------------------------------
  for (const user of orgUsers.values()) {
    if (!orgs.has(user.orgId)) report('cross-org', user, `org user of organization ${user.orgId}, which does not exist`);
    if (user.email) {
      const guard = byKey.get(`ORG#${user.orgId} | EMAIL#${String(user.email).toLowerCase()}`);
      if (!guard) report('email-guard', user, `user with e-mail ${user.email} has no e-mail guard`);
      else if (guard.userId !== user.userId) report('email-guard', user, `e-mail guard belongs to ${guard.userId}`);
    }
  }
  for (const guard of guards) {
    const user = orgUsers.get(guard.userId);
    if (!user || `ORG#${user.orgId}` !== guard.PK || `EMAIL#${String(user.email ?? '').toLowerCase()}` !== guard.SK) {
      report('email-guard', guard, `e-mail guard without a matching org user ${guard.userId}`);
    }
  }

  // ---- project users and their guards ----------------------------------------------------------
  const puById = new Map<string, Item>(); // projectUserId → ProjectUser
  const puByProjectAndUser = new Map<string, Item[]>();
  for (const pu of projectUsers) {
    puById.set(pu.projectUserId, pu);
    const pair = `${pu.projectId}/${pu.userId}`;
    puByProjectAndUser.set(pair, [...(puByProjectAndUser.get(pair) ?? []), pu]);
    const twin = memberships.get(`PROJECT#${pu.projectId} | MEMBER#${pu.userId}`);
    if (!twin) report('membership-without-guard', pu, `no Membership MEMBER#${pu.userId}`);
    else {
      const differs = TWIN_FIELDS.filter((f) => twin[f] !== pu[f]);
      if (!sameList(twin.roles, pu.roles)) differs.push('roles' as never);
      if (!sameList(twin.tags, pu.tags)) differs.push('tags' as never);
      if (differs.length > 0) report('twin-mismatch', pu, `differs from its Membership in ${differs.join(', ')}`);
    }
    checkValues(pu);
    const project = projects.get(pu.projectId);
    if (!project) report('orphan', pu, `project ${pu.projectId} does not exist`);
    else if (project.orgId !== pu.orgId) report('cross-org', pu, `orgId ${pu.orgId} but the project belongs to ${project.orgId}`);
    const user = orgUsers.get(pu.userId);
    if (!user) report('member-user-missing', pu, `org user ${pu.userId} does not exist (GSI1 ${pu.GSI1PK} dangles)`);
    else if (user.orgId !== pu.orgId) report('cross-org', pu, `member ${pu.userId} belongs to organization ${user.orgId}`);
  }
  for (const [pair, list] of puByProjectAndUser) {
    if (list.length > 1) report('duplicate-membership', list[1]!, `${list.length} ProjectUsers for ${pair}: ${list.map((p) => p.projectUserId).join(', ')}`);
  }
  for (const membership of memberships.values()) {
    const twin = puById.get(membership.projectUserId);
    if (!twin || twin.projectId !== membership.projectId || twin.userId !== membership.userId) {
      report('guard-without-membership', membership, `no ProjectUser PU#${membership.projectUserId}`);
    }
    if (!projects.has(membership.projectId)) report('orphan', membership, `project ${membership.projectId} does not exist`);
  }

  // ---- projects and owners ---------------------------------------------------------------------
  const puByProject = new Map<string, Item[]>();
  for (const pu of projectUsers) puByProject.set(pu.projectId, [...(puByProject.get(pu.projectId) ?? []), pu]);
  for (const project of projects.values()) {
    if (!orgs.has(project.orgId)) report('dangling-gsi', project, `GSI1 ${project.GSI1PK}: organization does not exist`);
    const owners = (puByProject.get(project.projectId) ?? []).filter((pu) => pu.isOwner === true);
    if (owners.length !== 1) {
      report('owner-count', project, `${owners.length} owners: ${owners.map((o) => o.projectUserId).join(', ') || 'none'}`);
    }
    const owner = puById.get(project.ownerProjectUserId);
    if (!owner || owner.projectId !== project.projectId) {
      report('owner-not-member', project, `ownerProjectUserId ${project.ownerProjectUserId} is not a member`);
    } else {
      if (owner.isOwner !== true) report('owner-pointer', project, `points at ${owner.projectUserId}, whose isOwner is ${owner.isOwner}`);
      if (owner.userId !== project.ownerUserId) report('owner-pointer', project, `ownerUserId ${project.ownerUserId} but the owner item's user is ${owner.userId}`);
      // Absent on projects written before ownerRoles existed; a transfer then reads the owner.
      if (project.ownerRoles !== undefined && !sameRoles(project.ownerRoles, owner.roles)) {
        report('owner-pointer', project, `ownerRoles ${JSON.stringify(project.ownerRoles)} but the owner's roles are ${JSON.stringify(owner.roles)}`);
      }
      if (!memberships.has(`PROJECT#${project.projectId} | MEMBER#${owner.userId}`)) {
        report('owner-not-member', project, `owner ${owner.userId} has no Membership`);
      }
    }
  }

  // ---- API keys -------------------------------------------------------------------------------
  for (const key of keysByItem) {
    const user = orgUsers.get(key.userId);
    if (!user) {
      // A deleted user's keys stay as revoked tombstones; a live one is a violation.
      if (!key.revokedAt) report('key-without-user', key, `live key of org user ${key.userId}, which does not exist`);
    } else if (user.orgId !== key.orgId) report('cross-org', key, `key of org ${key.orgId} for a user of ${user.orgId}`);
    if (!['read', 'read-write', 'global'].includes(key.scope)) report('bad-value', key, `scope ${JSON.stringify(key.scope)}`);
    if (key.scope === 'global' && user && user.orgRole === 'member' && !key.revokedAt) {
      report('bad-value', key, 'a live global key of an org member');
    }
    if (key.projectId !== undefined && key.projectId !== null) {
      const project = projects.get(key.projectId);
      if (project && project.orgId !== key.orgId) report('cross-org', key, `pinned to ${key.projectId} of organization ${project.orgId}`);
    }
    if (!isString(key.secretHash) || !/^[0-9a-f]{64}$/.test(key.secretHash)) report('bad-value', key, 'secretHash is not a SHA-256 hex digest');
  }

  // ---- audit --------------------------------------------------------------------------------------
  const creations = new Map<string, number>();
  const removals = new Map<string, number>();
  const changes = new Map<string, number>();
  const bump = (map: Map<string, number>, id: unknown) => isString(id) && map.set(id, (map.get(id) ?? 0) + 1);
  for (const audit of audits) {
    if (audit.projectId) {
      const project = projects.get(audit.projectId);
      if (!project) report('orphan', audit, `audit of project ${audit.projectId}, which does not exist`);
      else if (project.orgId !== audit.orgId) report('cross-org', audit, `audit orgId ${audit.orgId}, project of ${project.orgId}`);
    }
    switch (audit.action) {
      case 'ProjectUserAdded':
      case 'ProjectCreated':
        bump(creations, audit.projectUserId);
        break;
      case 'ProjectUserUpdated':
        bump(changes, audit.projectUserId);
        break;
      case 'ProjectUserRemoved':
        bump(removals, audit.projectUserId);
        break;
      case 'ProjectOwnershipTransferred':
        bump(changes, audit.projectUserId);
        bump(changes, audit.before?.ownerProjectUserId);
        break;
    }
  }
  for (const pu of projectUsers) {
    const created = creations.get(pu.projectUserId) ?? 0;
    if (created !== 1) report('audit-creation', pu, `${created} creation audit items`);
    const changed = changes.get(pu.projectUserId) ?? 0;
    if (typeof pu.version !== 'number' || pu.version !== 1 + changed) {
      report('audit-version', pu, `version ${pu.version} but ${changed} audited changes`);
    }
    if (removals.has(pu.projectUserId)) report('audit-removal', pu, 'audited as removed but still exists');
  }
  for (const [projectUserId, count] of removals) {
    if (count > 1) report('audit-removal', `PU#${projectUserId}`, `removal audited ${count} times`);
  }

  // ---- writes by dead keys, and keys that outlive their creator ----------------------------------
  // Every write's transaction checks the calling key, so no audited change may postdate its actor
  // key's revocation or expiry, and a key made by a key never expires after it. Both times are
  // taken before their transactions commit, so a write that raced the revocation and committed
  // first may carry a time up to one transaction's latency later: WRITE_CLOCK_TOLERANCE_MS.
  const keyById = new Map(keysByItem.map((key) => [key.keyId as string, key]));
  for (const audit of audits) {
    const actorKey = isString(audit.actor?.keyId) ? keyById.get(audit.actor.keyId) : undefined;
    if (!actorKey) continue;
    if (isString(actorKey.revokedAt) && Date.parse(audit.at) > Date.parse(actorKey.revokedAt) + WRITE_CLOCK_TOLERANCE_MS) {
      report('revoked-writer', audit, `${audit.action} at ${audit.at} by key ${actorKey.keyId}, revoked at ${actorKey.revokedAt}`);
    }
    if (isString(actorKey.expiresAt) && Date.parse(audit.at) > Date.parse(actorKey.expiresAt) + WRITE_CLOCK_TOLERANCE_MS) {
      report('revoked-writer', audit, `${audit.action} at ${audit.at} by key ${actorKey.keyId}, expired at ${actorKey.expiresAt}`);
    }
    if (audit.action === 'ApiKeyCreated' && isString(actorKey.expiresAt)) {
      const created = keyById.get(audit.after?.keyId);
      if (created && (!isString(created.expiresAt) || created.expiresAt > actorKey.expiresAt)) {
        report('key-outlives-creator', created, `expires ${created.expiresAt ?? 'never'}, its creator ${actorKey.keyId} at ${actorKey.expiresAt}`);
      }
    }
  }

  // ---- GSI1 index entries against their base items ---------------------------------------------
  if (indexEntries) {
    const indexed = new Set<string>();
    for (const entry of indexEntries) {
      indexed.add(at(entry));
      const base = byKey.get(at(entry));
      if (!base) report('dangling-gsi', entry, `index entry ${entry.GSI1PK} / ${entry.GSI1SK} has no base item`);
      else if (base.GSI1PK !== entry.GSI1PK || base.GSI1SK !== entry.GSI1SK) {
        report('dangling-gsi', entry, `index entry ${entry.GSI1PK} / ${entry.GSI1SK}, base item has ${base.GSI1PK} / ${base.GSI1SK}`);
      }
    }
    for (const item of items) {
      if (isString(item.GSI1PK) && isString(item.GSI1SK) && !indexed.has(at(item))) {
        report('dangling-gsi', item, `base item with ${item.GSI1PK} / ${item.GSI1SK} is missing from ${GSI1}`);
      }
    }
  }

  function checkValues(pu: Item) {
    if (!Array.isArray(pu.roles) || pu.roles.length === 0 || pu.roles.length > MAX_ITEMS || pu.roles.some((r: unknown) => !(ROLES as readonly unknown[]).includes(r))) {
      report('bad-value', pu, `roles ${JSON.stringify(pu.roles)}`);
    } else if (new Set(pu.roles).size !== pu.roles.length) report('bad-value', pu, `duplicate roles ${JSON.stringify(pu.roles)}`);
    if (
      !Array.isArray(pu.tags) ||
      pu.tags.length > MAX_ITEMS ||
      pu.tags.some((t: unknown) => !isString(t) || t.length === 0 || t.length > MAX_TAG) ||
      new Set(pu.tags).size !== pu.tags.length
    ) {
      report('bad-value', pu, `tags ${JSON.stringify(pu.tags)}`);
    }
    if (typeof pu.isOwner !== 'boolean') report('bad-value', pu, `isOwner ${JSON.stringify(pu.isOwner)}`);
  }

  return violations;
}

// ---- collection -------------------------------------------------------------------------------------

function documentClient(options: CheckTableOptions): { doc: DynamoDBDocumentClient; close: () => void } {
  const own = options.client === undefined;
  const raw =
    options.client ??
    new DynamoDBClient({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      endpoint: options.endpoint,
      ...(options.endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
  return { doc: DynamoDBDocumentClient.from(raw), close: () => own && raw.destroy() };
}

async function scanAll(doc: DynamoDBDocumentClient, tableName: string, indexName?: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        IndexName: indexName,
        ExclusiveStartKey: start,
        // GSIs do not support consistent reads.
        ConsistentRead: indexName ? undefined : true,
      }),
    );
    out.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

async function queryAll(doc: DynamoDBDocumentClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    out.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * The items of some organizations, by Query only: their partitions, their projects (GSI1) and
 * those projects' partitions, and every org user's GSI1 partition (memberships and keys, including
 * users known only from the audit log, so a deleted user's leftovers are found), and the base items
 * of the keys found there. Memberships found in other organizations' projects pull those in too.
 */
async function collectOrgs(doc: DynamoDBDocumentClient, tableName: string, orgIds: string[]) {
  const items = new Map<string, Item>();
  const indexEntries = new Map<string, Item>();
  const add = (list: Item[], into = items) => list.forEach((item) => into.set(at(item), item));
  const projectIds = new Set<string>();
  const userIds = new Set<string>();
  const gsi = (pk: string) =>
    queryAll(doc, { TableName: tableName, IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': pk } });
  const partition = (pk: string) =>
    queryAll(doc, { TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
  const noteUsers = (list: Item[]) => {
    for (const item of list) {
      for (const id of [item.userId, item.ownerUserId, item.actor?.userId]) if (isString(id) && id.startsWith('usr_')) userIds.add(id);
    }
  };

  await Promise.all(
    orgIds.map(async (orgId) => {
      const [own, projectsOfOrg] = await Promise.all([partition(`ORG#${orgId}`), gsi(`ORG#${orgId}`)]);
      add(own);
      add(projectsOfOrg, indexEntries);
      noteUsers(own);
      for (const project of projectsOfOrg) if (isString(project.projectId)) projectIds.add(project.projectId);
    }),
  );
  const seenProjects = new Set<string>();
  const seenUsers = new Set<string>();
  // Projects and users pull in each other (a member of another org's project): to a fixed point.
  while (seenProjects.size < projectIds.size || seenUsers.size < userIds.size) {
    const projectBatch = [...projectIds].filter((id) => !seenProjects.has(id));
    const userBatch = [...userIds].filter((id) => !seenUsers.has(id));
    projectBatch.forEach((id) => seenProjects.add(id));
    userBatch.forEach((id) => seenUsers.add(id));
    await Promise.all([
      ...projectBatch.map(async (projectId) => {
        const list = await partition(`PROJECT#${projectId}`);
        add(list);
        noteUsers(list);
      }),
      ...userBatch.map(async (userId) => {
        const list = await gsi(`USER#${userId}`);
        add(list, indexEntries);
        for (const entry of list) if (isString(entry.projectId) && entry.entity === ENTITY.projectUser) projectIds.add(entry.projectId);
      }),
    ]);
  }
  // Keys live in their own partitions: fetch the base items of those the index named.
  const keyKeys = [...indexEntries.values()].filter((e) => String(e.PK).startsWith('KEY#')).map((e) => ({ PK: e.PK, SK: e.SK }));
  for (let i = 0; i < keyKeys.length; i += 100) {
    let pending: Record<string, unknown>[] = keyKeys.slice(i, i + 100);
    while (pending.length > 0) {
      const out = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      add((out.Responses?.[tableName] ?? []) as Item[]);
      pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  // Org users referenced from other organizations' items (cross-org memberships) — by their own org partition.
  const foreignOrgs = new Set<string>();
  for (const item of items.values()) if (isString(item.orgId) && !orgIds.includes(item.orgId)) foreignOrgs.add(item.orgId);
  await Promise.all([...foreignOrgs].map(async (orgId) => add((await partition(`ORG#${orgId}`)).filter((i) => i.entity !== ENTITY.audit))));
  // The index entries of what was collected that the user/org queries did not reach are not checked.
  const reached = [...indexEntries.values()];
  const reachedKeys = new Set(reached.map(at));
  const gsiPartitions = new Set(reached.map((e) => e.GSI1PK));
  const complete = [...items.values()].filter((item) => !isString(item.GSI1PK) || gsiPartitions.has(item.GSI1PK) || reachedKeys.has(at(item)));
  return { items: [...items.values()], indexEntries: reached, indexCovered: complete };
}

/** Collect, check and count. */
export async function inspectTable(options: CheckTableOptions): Promise<TableReport> {
  const { doc, close } = documentClient(options);
  try {
    let items: Item[];
    let indexEntries: Item[];
    let violations: Violation[];
    if (options.orgIds) {
      const collected = await collectOrgs(doc, options.tableName, options.orgIds);
      items = collected.items;
      indexEntries = collected.indexEntries;
      // Base items outside the GSI partitions queried cannot be checked for index presence.
      const inScope = new Set(collected.indexCovered.map(at));
      violations = findViolations(items, indexEntries).filter(
        (v) => !(v.rule === 'dangling-gsi' && v.detail.startsWith('base item') && !inScope.has(v.item)),
      );
      // Items of other organizations pulled in only as context are not this check's subject
      // unless they point back into the checked organizations.
      const collectedByKey = new Map(items.map((i) => [at(i), i]));
      violations = violations.filter((v) => {
        const item = collectedByKey.get(v.item);
        if (!item) return true;
        const orgId = String(item.PK).startsWith('ORG#') ? String(item.PK).slice(4) : item.orgId;
        return orgId === undefined || options.orgIds!.includes(orgId) || v.rule === 'cross-org';
      });
    } else {
      [items, indexEntries] = await Promise.all([scanAll(doc, options.tableName), scanAll(doc, options.tableName, GSI1)]);
      violations = findViolations(items, indexEntries);
    }
    const byEntity: Record<string, number> = {};
    for (const item of items) byEntity[String(item.entity)] = (byEntity[String(item.entity)] ?? 0) + 1;
    return { violations, items: items.length, indexEntries: indexEntries.length, byEntity };
  } finally {
    close();
  }
}

/** Every broken invariant (empty when the table is sound). */
export async function checkTable(options: CheckTableOptions): Promise<Violation[]> {
  return (await inspectTable(options)).violations;
}

/**
 * Violations that persist across two collections `delayMs` apart. A Scan is not a snapshot and
 * GSIs on AWS are eventually consistent, so a live table can show a write half-seen; a real
 * violation is still there on the second look.
 */
export async function checkTableSettled(options: CheckTableOptions, delayMs = 1_000): Promise<TableReport> {
  const first = await inspectTable(options);
  if (first.violations.length === 0) return first;
  await new Promise((r) => setTimeout(r, delayMs));
  const second = await inspectTable(options);
  const id = (v: Violation) => `${v.rule}\u0000${v.item}\u0000${v.detail}`;
  const seen = new Set(first.violations.map(id));
  return { ...second, violations: second.violations.filter((v) => seen.has(id(v))) };
}

function sameRoles(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((role) => b.includes(role));
}
