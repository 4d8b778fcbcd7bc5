import type { Actor, OrgUser, ProjectUser } from '../domain/model.js';
import type { Store } from './store.js';

/** Every page of a listing; used by the deletion cascade, which must see all of them. */
async function allPages<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>) {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

/**
 * Deleting an org user: mark it (it can join nothing and its keys stop working), remove every
 * membership it has — each in its own audited transaction — except where it owns the project,
 * then delete it and revoke its keys. Owned projects block the last step and are reported.
 * Safe to repeat: a second run finds less to do.
 */
export async function deleteOrgUserCascade(store: Store, user: OrgUser, actor: Actor, mark: () => Promise<void>) {
  await mark();
  const memberships = await allPages<ProjectUser>((cursor) => store.listMembershipsOfUser(user.userId, { limit: 100, cursor }));
  const blockedProjects: string[] = [];
  for (const membership of memberships) {
    if (membership.isOwner) {
      blockedProjects.push(membership.projectId);
      continue;
    }
    const outcome = await store.removeMembershipOfDeletedUser({ target: membership, actor });
    if (outcome === 'owner') blockedProjects.push(membership.projectId);
  }
  if (blockedProjects.length > 0) return { deleted: false as const, blockedProjects };
  const keys = await allPages((cursor) => store.listKeysOfUser(user.userId, { limit: 100, cursor }));
  await store.finishOrgUserDeletion({ user, keyIds: keys.map((k) => k.keyId), actor });
  return { deleted: true as const, blockedProjects };
}

