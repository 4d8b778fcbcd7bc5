import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newId } from '../../functions/domain/ids.js';
import type { OrgUser, ProjectUser } from '../../functions/domain/model.js';
import { ENTITY, gsi1, keys } from '../../functions/store/keys.js';

/**
 * Members written straight into the table with BatchWriteItem (25 items a call, several calls in
 * flight), in exactly the shape the store writes: an OrgUser, its ProjectUser and its Membership
 * twin per member. Not through the API: 10,000 members would take minutes of transactions.
 */
export async function seedMembers(
  raw: DynamoDBClient,
  tableName: string,
  input: { orgId: string; projectId: string; members: number; spareUsers: number; concurrency?: number },
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
    items.push({ ...keys.orgUser(input.orgId, user.userId), ...user, entity: ENTITY.orgUser });
    return user;
  };
  const members: { userId: string; projectUserId: string }[] = [];
  for (let i = 0; i < input.members; i++) {
    const user = orgUser();
    const pu: ProjectUser = {
      projectUserId: newId('projectUser'),
      projectId: input.projectId,
      orgId: input.orgId,
      userId: user.userId,
      roles: i % 3 === 0 ? ['editor'] : ['viewer'],
      tags: i % 5 === 0 ? ['seeded'] : [],
      isOwner: false,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    items.push({ ...keys.projectUser(pu.projectId, pu.projectUserId), ...gsi1.membershipOfUser(pu.userId, pu.projectId), ...pu, entity: ENTITY.projectUser });
    items.push({ ...keys.membership(pu.projectId, pu.userId), ...pu, entity: ENTITY.membership });
    members.push({ userId: user.userId, projectUserId: pu.projectUserId });
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
