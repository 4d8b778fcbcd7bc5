import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newId } from '../../functions/domain/ids.js';
import type { OrgUser, ProjectUser } from '../../functions/domain/model.js';
import { grantChanges } from '../../functions/store/catalog.js';
import { putMemberPair } from '../../functions/store/conditions.js';
import { putOrgUser } from '../../functions/store/org-users.js';
import type { TxEntry } from '../../functions/store/table.js';

/** The item a store write entry puts. */
const itemOf = (entry: TxEntry): Record<string, unknown> => {
  const item = entry.item.Put?.Item;
  if (!item) throw new Error('not a Put entry');
  return item;
};

/**
 * Members written straight into the table with BatchWriteItem (25 items a call, several calls in
 * flight), built by the store's own item builders (functions/store/conditions.ts, catalog.ts), so
 * they have exactly the shape the store writes: an OrgUser, its ProjectUser and its Membership twin
 * per member, and with `customRoles` (roles the org already has, with their grant counters) one of
 * them for two members in three, with its grant item. Not through the API: 10,000 members would
 * take minutes of transactions.
 */
export async function seedMembers(
  raw: DynamoDBClient,
  tableName: string,
  input: { orgId: string; projectId: string; members: number; spareUsers: number; customRoles?: readonly string[]; concurrency?: number },
) {
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const now = new Date().toISOString();
  const items: Record<string, unknown>[] = [];
  const orgUser = (): OrgUser => {
    const user: OrgUser = {
      userId: newId('user'),
      orgId: input.orgId,
      name: 'Seeded member',
      email: null,
      kind: 'human',
      orgRole: 'member',
      createdAt: now,
      version: 1,
    };
    items.push(...putOrgUser(user).map(itemOf));
    return user;
  };
  const custom = input.customRoles ?? [];
  const members: { userId: string; projectUserId: string; roles: string[] }[] = [];
  for (let i = 0; i < input.members; i++) {
    const user = orgUser();
    const pu: ProjectUser = {
      projectUserId: newId('projectUser'),
      projectId: input.projectId,
      orgId: input.orgId,
      userId: user.userId,
      roles: [i % 3 === 0 ? 'editor' : 'viewer', ...(custom.length > 0 && i % 3 !== 2 ? [custom[i % custom.length]!] : [])],
      tags: i % 5 === 0 ? ['seeded'] : [],
      isOwner: false,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    items.push(...putMemberPair(pu).map(itemOf));
    // The grant items only: the counters' bumps are updates, and a counter is a version, not a count.
    items.push(...grantChanges(null, pu).filter((entry) => entry.item.Put).map(itemOf));
    members.push({ userId: user.userId, projectUserId: pu.projectUserId, roles: pu.roles });
  }
  const spareUsers = Array.from({ length: input.spareUsers }, () => orgUser().userId);

  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
        if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * attempt));
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: input.concurrency ?? 8 }, worker));
  return { members, spareUsers, items: items.length };
}
