import { isBuiltInRole } from '../../functions/domain/catalog.js';
/**
 * How the checker reads the table: one pager for Scan and Query (the checker is the only code that
 * may Scan), the whole table, or some organizations by Query only.
 */
import {
  DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  type QueryCommandInput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ID_PREFIX } from '../../functions/domain/ids.js';
import { ENTITY, GSI1, partitions, prefixes } from '../../functions/store/keys.js';
import { at, isString, type Item } from './types.js';

type Read = { scan: Omit<ScanCommandInput, 'ExclusiveStartKey'> } | { query: Omit<QueryCommandInput, 'ExclusiveStartKey'> };

/** Every item of a Scan or a Query, page after page. */
async function readAll(doc: DynamoDBDocumentClient, read: Read): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page =
      'scan' in read
        ? await doc.send(new ScanCommand({ ...read.scan, ExclusiveStartKey: start }))
        : await doc.send(new QueryCommand({ ...read.query, ExclusiveStartKey: start }));
    out.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The whole table and its GSI1, by Scan. */
export async function scanTable(doc: DynamoDBDocumentClient, tableName: string): Promise<{ items: Item[]; indexEntries: Item[] }> {
  const [items, indexEntries] = await Promise.all([
    readAll(doc, { scan: { TableName: tableName, ConsistentRead: true } }),
    // GSIs do not support consistent reads.
    readAll(doc, { scan: { TableName: tableName, IndexName: GSI1 } }),
  ]);
  return { items, indexEntries };
}

const ORG_PARTITION = partitions.org('');
const USER_ID = new RegExp(`^${ID_PREFIX.user}_`);

/** The organization an item belongs to: its org partition's, or its `orgId`. */
export function orgOf(item: Item): string | undefined {
  return String(item.PK).startsWith(ORG_PARTITION) ? String(item.PK).slice(ORG_PARTITION.length) : item.orgId;
}

/**
 * The items of some organizations, by Query only: their partitions, their projects (GSI1) and
 * those projects' partitions, and every org user's GSI1 partition (memberships and keys, including
 * users known only from the audit log, so a deleted user's leftovers are found), and the base items
 * of the keys found there. Memberships found in other organizations' projects pull those in too.
 * `indexCovered`: the base items whose GSI1 partition was queried, so whose index entry was seen.
 */
export async function collectOrgs(doc: DynamoDBDocumentClient, tableName: string, orgIds: string[]) {
  const items = new Map<string, Item>();
  const indexEntries = new Map<string, Item>();
  const add = (list: Item[], into = items) => list.forEach((item) => into.set(at(item), item));
  const projectIds = new Set<string>();
  const userIds = new Set<string>();
  const gsi = (pk: string) =>
    readAll(doc, { query: { TableName: tableName, IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': pk } } });
  const partition = (pk: string) =>
    readAll(doc, { query: { TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true } });
  const noteUsers = (list: Item[]) => {
    for (const item of list) {
      for (const id of [item.userId, item.ownerUserId, item.actor?.userId]) if (isString(id) && USER_ID.test(id)) userIds.add(id);
    }
  };

  await Promise.all(
    orgIds.map(async (orgId) => {
      const [own, projectsOfOrg] = await Promise.all([partition(partitions.org(orgId)), gsi(partitions.org(orgId))]);
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
        const list = await partition(partitions.project(projectId));
        add(list);
        noteUsers(list);
      }),
      ...userBatch.map(async (userId) => {
        const list = await gsi(partitions.user(userId));
        add(list, indexEntries);
        for (const entry of list) if (isString(entry.projectId) && entry.entity === ENTITY.projectUser) projectIds.add(entry.projectId);
      }),
    ]);
  }
  // Custom roles keep their grant counter and grants in partitions of their own: those the catalogs name.
  const rolePartitions = new Set<string>();
  for (const item of items.values()) {
    if (item.entity !== ENTITY.catalog) continue;
    for (const roleId of Object.keys(item.roles ?? {})) if (!isBuiltInRole(roleId)) rolePartitions.add(partitions.role(roleId));
  }
  for (const item of items.values()) {
    for (const roleId of Array.isArray(item.roles) ? item.roles : []) if (isString(roleId) && !isBuiltInRole(roleId)) rolePartitions.add(partitions.role(roleId));
  }
  await Promise.all([...rolePartitions].map(async (pk) => add(await partition(pk))));
  // Keys live in partitions of their own: read those the index named.
  const keyPartitions = new Set([...indexEntries.values()].map((e) => String(e.PK)).filter((pk) => pk.startsWith(prefixes.key)));
  await Promise.all([...keyPartitions].map(async (pk) => add(await partition(pk))));
  // Org users referenced from other organizations' items (cross-org memberships) — by their own org partition.
  const foreignOrgs = new Set<string>();
  for (const item of items.values()) if (isString(item.orgId) && !orgIds.includes(item.orgId)) foreignOrgs.add(item.orgId);
  await Promise.all([...foreignOrgs].map(async (orgId) => add((await partition(partitions.org(orgId))).filter((i) => i.entity !== ENTITY.audit))));
  // The index entries of what was collected that the user/org queries did not reach are not checked.
  const reached = [...indexEntries.values()];
  const reachedKeys = new Set(reached.map(at));
  const gsiPartitions = new Set(reached.map((e) => e.GSI1PK));
  const indexCovered = [...items.values()].filter((item) => !isString(item.GSI1PK) || gsiPartitions.has(item.GSI1PK) || reachedKeys.has(at(item)));
  return { items: [...items.values()], indexEntries: reached, indexCovered };
}
