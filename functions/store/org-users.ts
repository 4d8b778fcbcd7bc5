import { newId } from '../domain/ids.js';
import type { OrgUser } from '../domain/model.js';
import { emailTaken } from '../domain/org-rules.js';
import { about, auditEntry, authorityCheck, combine, idempotencyEntry, orgUserSnapshot, put, remove, update } from './conditions.js';
import { ENTITY, keys, partitions, prefixes } from './keys.js';
import { rangeQuery } from './queries.js';
import type { TxEntry } from './table.js';
import { methods, type Method, type StoreContext } from './types.js';

/*
 * Org users. Deletion takes steps (mark, remove memberships, finish: see delete-org-user.ts), so
 * the user's own item carries `deletingAt` for the time in between.
 */

/** A new org user and, when it has an e-mail, the guard that keeps e-mails unique in the org. */
export function putOrgUser(user: OrgUser, onEmailTaken?: TxEntry['onConditionFailed']): TxEntry[] {
  return combine(
    put(ENTITY.orgUser, { ...keys.orgUser(user.orgId, user.userId), ...user }),
    user.email ? put(ENTITY.emailGuard, { ...keys.emailGuard(user.orgId, user.email), userId: user.userId }, onEmailTaken) : null,
  );
}

const getOrgUser: Method<'getOrgUser'> = ({ table }) => (orgId, userId, consistent = false) =>
  table.getItem<OrgUser>(keys.orgUser(orgId, userId), consistent);

const listOrgUsers: Method<'listOrgUsers'> = ({ table }) => (orgId, page) =>
  table.queryPage(`org-users:${orgId}`, rangeQuery({ pk: partitions.org(orgId), prefix: prefixes.user }), page);

const createOrgUser: Method<'createOrgUser'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const user: OrgUser = {
    userId: newId('user'),
    orgId: input.orgId,
    name: input.name,
    email: input.email,
    kind: input.kind,
    orgRole: input.orgRole,
    createdAt: now,
    version: 1,
  };
  await table.transact(
    combine(
      ...putOrgUser(user, emailTaken()),
      ...authorityCheck(input.authority),
      auditEntry('OrgUserCreated', about.orgUser(user.orgId, user.userId), input.actor, { after: orgUserSnapshot(user) }, now),
      idempotencyEntry(input.idempotency, user, now),
    ),
  );
  return user;
};

/** First step of deleting an org user: from now on it can join nothing and get no key. */
const markOrgUserDeleting: Method<'markOrgUserDeleting'> = ({ table, clock }) => async ({ user, authority }) => {
  const now = clock.now();
  // Resuming a deletion marks nothing, but the caller's authority is still checked at this moment
  // (its key live, its user confirmed and active): the steps that follow run as the operator.
  if (user.deletingAt) {
    const checks = authorityCheck(authority);
    if (checks.length > 0) await table.transact(checks);
    return;
  }
  await table.transact([
    // The user as the decision read it (its If-Match included): a change since is decided again.
    update(keys.orgUser(user.orgId, user.userId), {
      condition: 'attribute_exists(PK) AND orgRole <> :owner AND version = :version',
      update: 'SET deletingAt = :now',
      values: { ':now': now, ':owner': 'owner', ':version': user.version },
    }),
    ...authorityCheck(authority),
  ]);
};

/** Last step: the user item, its e-mail guard and its keys go; the audit records it. */
const finishOrgUserDeletion: Method<'finishOrgUserDeletion'> = ({ table, clock }) => async ({ user, keyIds, actor }) => {
  const now = clock.now();
  const revokeKeys = keyIds.map((keyId) =>
    update(keys.apiKey(keyId), {
      condition: 'attribute_exists(PK)',
      update: 'SET revokedAt = if_not_exists(revokedAt, :now)',
      values: { ':now': now },
    }),
  );
  // TransactWriteItems takes 100 items; revoke keys in chunks first, then delete the user.
  const chunkSize = 90;
  for (let i = 0; i < revokeKeys.length; i += chunkSize) await table.transact(revokeKeys.slice(i, i + chunkSize));
  await table.transact(
    combine(
      remove(keys.orgUser(user.orgId, user.userId), { condition: 'attribute_exists(deletingAt)' }),
      user.email ? remove(keys.emailGuard(user.orgId, user.email)) : null,
      auditEntry('OrgUserDeleted', about.orgUser(user.orgId, user.userId), actor, { before: orgUserSnapshot(user) }, now),
    ),
  );
};

export const orgUsers = (context: StoreContext) =>
  methods(context, { getOrgUser, listOrgUsers, createOrgUser, markOrgUserDeleting, finishOrgUserDeletion });
