import { newId } from '../domain/ids.js';
import type { Actor, Org, OrgUser } from '../domain/model.js';
import { about, auditEntry, orgUserSnapshot, put } from './conditions.js';
import { ENTITY, GSI1, gsi1, keys, partitions, prefixes } from './keys.js';
import { rangeQuery } from './queries.js';
import { putOrgUser } from './org-users.js';
import { methods, type Method, type StoreContext } from './types.js';

/* Organizations and the table's bootstrap marker: what the admin CLI and `npm start` create. */

const getOrg: Method<'getOrg'> = ({ table }) => (orgId) => table.getItem<Org>(keys.org(orgId));

/** Every organization, oldest first, from the directory in GSI1 (no Scan). */
const listOrgs: Method<'listOrgs'> = ({ table }) => (page) =>
  table.queryPage('orgs', rangeQuery({ index: GSI1, pk: partitions.orgDirectory, prefix: prefixes.org }), page);

/** Admin CLI: a new organization with its owner (no caller to authorize). */
const bootstrapOrg: Method<'bootstrapOrg'> = ({ table, clock }) => async (input) => {
  const now = clock.now();
  const org: Org = { orgId: newId('org'), name: input.orgName, createdAt: now };
  const owner: OrgUser = {
    userId: newId('user'),
    orgId: org.orgId,
    name: input.ownerName,
    email: input.ownerEmail,
    kind: 'human',
    orgRole: 'owner',
    createdAt: now,
    version: 1,
  };
  const actor: Actor = { keyId: null, userId: owner.userId };
  await table.transact([
    put(ENTITY.org, { ...keys.org(org.orgId), ...gsi1.orgInDirectory(org.orgId), ...org }),
    ...putOrgUser(owner),
    auditEntry('OrgUserCreated', about.orgUser(org.orgId, owner.userId), actor, { after: orgUserSnapshot(owner) }, now),
  ]);
  return { org, owner };
};

/** So that `npm start` on a table it has bootstrapped prints no second key. */
const isBootstrapped: Method<'isBootstrapped'> = ({ table }) => async () => (await table.getItem(keys.bootstrapMarker(), true)) !== null;

const markBootstrapped: Method<'markBootstrapped'> = ({ table }) => async (orgId) => {
  await table.transact([put(ENTITY.bootstrapMarker, { ...keys.bootstrapMarker(), orgId })]);
};

export const orgs = (context: StoreContext) => methods(context, { getOrg, listOrgs, bootstrapOrg, isBootstrapped, markBootstrapped });
