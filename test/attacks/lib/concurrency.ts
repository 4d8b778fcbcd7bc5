/**
 * Concurrency attacks: `parallel` real concurrent requests per round, spread over several app
 * instances (separate Lambdas) and several callers, repeated `rounds` times; the invariant checker
 * runs over the organization at the end.
 */
import { createApp } from '../../../functions/http/app.js';
import type { Authority, Store } from '../../../functions/store/store.js';
import { keys as itemKeys, partitions, prefixes } from '../../../functions/store/keys.js';
import { newOrg, testApp, type TestApp } from '../../support/app.js';
import { Attack, instances, sleep, tally, users, type Org } from '../../support/attack.js';
import { checkInvariants, partitionItems } from '../../support/table.js';

export interface Load {
  rounds: number;
  parallel: number;
}

const usersOf = (projectId: string) => `/api/projects/${projectId}/users`;

async function audits(projectId: string, filter: (a: Record<string, any>) => boolean) {
  return (await partitionItems(partitions.project(projectId), prefixes.audit)).filter(filter);
}

/** Managers with read-write keys, reused across rounds (added to each round's project). */
async function managers(org: Org, n: number) {
  const ids = await users(org, n);
  return Promise.all(ids.map(async (userId) => ({ userId, key: await org.key(userId, 'read-write') })));
}

// ---- the same org user added by many callers at once -----------------------------------------------

export async function sameUserAdd(load: Load): Promise<Attack> {
  const attack = new Attack('concurrency/same-user-add');
  const apps = instances(4);
  const t = apps[0]!;
  const org = await newOrg(t, 'Same user add');
  const callers = await managers(org, 5);
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const project = await org.project(`Round ${round}`);
    await Promise.all(callers.map((m) => org.member(project._id, m.userId, ['manager'])));
    const target = await org.user();
    const keys = [org.adminKey, ...callers.map((m) => m.key)];
    const replies = await Promise.all(
      Array.from({ length: load.parallel }, (_, i) =>
        attack.send(apps[i % apps.length]!, 'POST', usersOf(project._id), { key: keys[i % keys.length], body: { _id: target, roles: ['viewer'] } }),
      ),
    );
    const counts = tally(replies.map((r) => r.status));
    attack.check(counts[201] === 1 && counts[409] === load.parallel - 1, `round ${round}: statuses ${JSON.stringify(counts)}`);
    for (const r of replies) {
      if (r.status === 409) attack.check(r.body?.code === 'already_member', `round ${round}: 409 with code ${r.body?.code}`);
    }
    const winner = replies.find((r) => r.status === 201)?.body;
    const items = await partitionItems(partitions.project(project._id));
    const pus = items.filter((i) => i.entity === 'ProjectUser' && i.userId === target);
    const guards = items.filter((i) => i.entity === 'Membership' && i.userId === target);
    const added = items.filter((i) => i.entity === 'Audit' && i.action === 'ProjectUserAdded' && i.userId === target);
    attack.check(pus.length === 1 && guards.length === 1 && added.length === 1, `round ${round}: ${pus.length} ProjectUser, ${guards.length} Membership, ${added.length} audit items`);
    attack.check(pus[0]?.projectUserId === winner?._id, `round ${round}: stored ${pus[0]?.projectUserId}, answered ${winner?._id}`);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

// ---- ownership transferred to different members at once ----------------------------------------------

export async function concurrentTransfers(load: Load): Promise<Attack> {
  const attack = new Attack('concurrency/ownership-transfer');
  const apps = instances(4);
  const t = apps[0]!;
  const org = await newOrg(t, 'Transfers');
  // The first owner is an org admin with a read-write key (it creates the project); every member
  // gets a read-write key too, so whoever owns the project at the start of a round can transfer it.
  const ownerUser = await org.user({ orgRole: 'admin' });
  const keyOf = new Map<string, string>([[ownerUser, await org.key(ownerUser, 'read-write')]]);
  const project = await org.project('Transfers', keyOf.get(ownerUser));
  const pool = await users(org, load.parallel);
  const members = new Map<string, string>(); // projectUserId → userId
  members.set(project.ownerProjectUserId, ownerUser);
  for (let i = 0; i < pool.length; i += 25) {
    await Promise.all(
      pool.slice(i, i + 25).map(async (u, j) => {
        const pu = await org.member(project._id, u, (i + j) % 2 ? ['admin'] : ['editor']);
        members.set(pu._id, u);
        keyOf.set(u, await org.key(u, 'read-write'));
      }),
    );
  }
  let committed = 0;
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const before = (await partitionItems(partitions.project(project._id), itemKeys.project(project._id).SK))[0]!;
    const ownerKey = keyOf.get(before.ownerUserId)!;
    const targets = [...members.keys()].filter((pu) => pu !== before.ownerProjectUserId).slice(0, load.parallel);
    const replies = await Promise.all(
      targets.map((target, i) =>
        attack.send(apps[i % apps.length]!, 'POST', `/api/projects/${project._id}/owner`, {
          key: i % 2 ? ownerKey : org.adminKey,
          body: { projectUserId: target },
        }),
      ),
    );
    const counts = tally(replies.map((r) => r.status));
    attack.check(
      replies.every((r) => [200, 403, 409].includes(r.status)) && (counts[200] ?? 0) >= 1,
      `round ${round}: statuses ${JSON.stringify(counts)}`,
    );
    const items = await partitionItems(partitions.project(project._id));
    const projectItem = items.find((i) => i.entity === 'Project')!;
    const owners = items.filter((i) => i.entity === 'ProjectUser' && i.isOwner === true);
    const ownerGuards = items.filter((i) => i.entity === 'Membership' && i.isOwner === true);
    attack.check(
      owners.length === 1 && ownerGuards.length === 1 && owners[0]!.projectUserId === projectItem.ownerProjectUserId &&
        ownerGuards[0]!.projectUserId === projectItem.ownerProjectUserId && projectItem.ownerUserId === owners[0]!.userId,
      () => `round ${round}: ${owners.length} owners, ${ownerGuards.length} owner guards, pointer ${projectItem.ownerProjectUserId}`,
    );
    const transfers = items.filter((i) => i.entity === 'Audit' && i.action === 'ProjectOwnershipTransferred').length;
    attack.check(transfers - committed === (counts[200] ?? 0), `round ${round}: ${transfers - committed} transfer audit items for ${counts[200] ?? 0} answers 200`);
    committed = transfers;
    const api = await attack.send(t, 'GET', `${usersOf(project._id)}?limit=100`, { key: org.adminKey });
    const apiOwners = (api.body?.data ?? []).filter((u: { isOwner: boolean }) => u.isOwner);
    attack.check(apiOwners.length === 1 && apiOwners[0]._id === projectItem.ownerProjectUserId, `round ${round}: the API lists ${apiOwners.length} owners`);
  }
  attack.note('transfersCommitted', committed);
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

// ---- a manager demoted while it is adding users ----------------------------------------------------

interface AddCall {
  authorityVersion: number | null;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  error?: string;
}

/** An app whose store records every addProjectUser call (and can hold them at a gate). */
function recordingApp(gate?: () => Promise<void>) {
  const base = testApp();
  const calls: AddCall[] = [];
  const store: Store = {
    ...base.store,
    async addProjectUser(input) {
      if (gate) await gate();
      const authority = input.authority as Authority;
      const call: AddCall = {
        authorityVersion: authority.kind === 'membership' ? authority.version : null,
        startedAt: performance.now(),
        endedAt: 0,
        ok: false,
      };
      calls.push(call);
      try {
        const result = await base.store.addProjectUser(input);
        call.ok = true;
        return result;
      } catch (error) {
        call.error = (error as Error).name;
        throw error;
      } finally {
        call.endedAt = performance.now();
      }
    },
  };
  const t: TestApp = { ...base, store, app: createApp({ store, config: base.config }) };
  return { t, calls };
}

/**
 * Random interleavings: `parallel` adds by a manager, its demotion to viewer fired among them.
 * A violation is an add whose transaction started after the demotion's response (so after it
 * committed), carried the old membership version, and still succeeded.
 */
export async function demotionRace(load: Load): Promise<Attack> {
  const attack = new Attack('concurrency/demotion-race');
  const recorder = recordingApp();
  const demoter = testApp();
  const t = testApp();
  const org = await newOrg(t, 'Demotion race');
  const [manager] = await managers(org, 1);
  const pool = await users(org, load.parallel);
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    recorder.calls.length = 0;
    const project = await org.project(`Round ${round}`);
    const membership = await org.member(project._id, manager!.userId, ['manager']);
    const demoteAfterMs = Math.random() * 40;
    let demotedAt = Infinity;
    const adds = pool.map(async (userId, i) => {
      await sleep((i / pool.length) * 60); // adds spread over ~60 ms, the demotion lands among them
      const sentAt = performance.now();
      const res = await attack.send(recorder.t, 'POST', usersOf(project._id), { key: manager!.key, body: { _id: userId } });
      return { res, sentAt };
    });
    const demotion = (async () => {
      await sleep(demoteAfterMs);
      const res = await attack.send(demoter, 'PATCH', `${usersOf(project._id)}/${membership._id}`, { key: org.adminKey, body: { roles: ['viewer'] } });
      demotedAt = performance.now();
      return res;
    })();
    const [results, demoted] = await Promise.all([Promise.all(adds), demotion]);
    attack.check(demoted.status === 200, `round ${round}: demotion answered ${demoted.status}`);
    for (const { res, sentAt } of results) {
      attack.check([201, 403].includes(res.status), `round ${round}: add answered ${res.status} ${res.text.slice(0, 100)}`);
      if (sentAt > demotedAt) attack.check(res.status === 403, `round ${round}: add sent after the demotion answered ${res.status}`);
    }
    for (const c of recorder.calls) {
      if (c.authorityVersion === membership.version && c.startedAt > demotedAt && c.ok) {
        attack.violation(`round ${round}: an add authorized by the old role committed after the demotion`);
      }
      if (c.authorityVersion === membership.version && !c.ok) attack.add('oldRoleRejectedByCondition');
      if (c.authorityVersion === membership.version && c.ok) attack.add('committedBeforeDemotion');
    }
    const added = await audits(project._id, (a) => a.action === 'ProjectUserAdded' && a.actor?.userId === manager!.userId);
    const created = results.filter((r) => r.res.status === 201).length;
    attack.check(added.length === created, `round ${round}: ${added.length} add audit items for ${created} answers 201`);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

/**
 * The decisive interleaving, forced: every add reads and is authorized while the manager is still a
 * manager, then waits at a gate until the demotion has committed. Only the transaction's condition
 * check on the membership version can refuse them now.
 */
export async function demotionGate(load: Load): Promise<Attack> {
  const attack = new Attack('concurrency/demotion-gate');
  let open!: () => void;
  let opened = new Promise<void>((r) => (open = r));
  let arrived = 0;
  const recorder = recordingApp(async () => {
    arrived++;
    await opened;
  });
  const t = testApp();
  const org = await newOrg(t, 'Demotion gate');
  const [manager] = await managers(org, 1);
  const pool = await users(org, load.parallel);
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    recorder.calls.length = 0;
    arrived = 0;
    opened = new Promise<void>((r) => (open = r));
    const project = await org.project(`Round ${round}`);
    const membership = await org.member(project._id, manager!.userId, ['manager']);
    const adds = Promise.all(pool.map((userId) => attack.send(recorder.t, 'POST', usersOf(project._id), { key: manager!.key, body: { _id: userId } })));
    while (arrived < pool.length) await sleep(5);
    const demoted = await attack.send(t, 'PATCH', `${usersOf(project._id)}/${membership._id}`, { key: org.adminKey, body: { roles: ['viewer'] } });
    attack.check(demoted.status === 200, `round ${round}: demotion answered ${demoted.status}`);
    open();
    const replies = await adds;
    const counts = tally(replies.map((r) => r.status));
    attack.check(counts[403] === pool.length, `round ${round}: adds held past the demotion answered ${JSON.stringify(counts)}`);
    const stale = recorder.calls.filter((c) => c.authorityVersion === membership.version);
    attack.check(stale.length === pool.length && stale.every((c) => !c.ok), `round ${round}: ${stale.filter((c) => c.ok).length} old-role transactions committed`);
    attack.add('oldRoleRejectedByCondition', stale.filter((c) => !c.ok).length);
    const members = (await partitionItems(partitions.project(project._id), prefixes.projectUser)).length;
    attack.check(members === 2, `round ${round}: ${members} project users (owner + manager expected)`);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

// ---- PATCH with the same If-Match from many callers ---------------------------------------------------

export async function ifMatchRace(load: Load): Promise<Attack> {
  const attack = new Attack('concurrency/if-match');
  const apps = instances(4);
  const t = apps[0]!;
  const org = await newOrg(t, 'If-Match');
  const project = await org.project('If-Match');
  const callers = await managers(org, 5);
  await Promise.all(callers.map((m) => org.member(project._id, m.userId, ['manager'])));
  const keys = [org.adminKey, ...callers.map((m) => m.key)];
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const target = await org.member(project._id, await org.user(), ['viewer']);
    const path = `${usersOf(project._id)}/${target._id}`;
    const replies = await Promise.all(
      Array.from({ length: load.parallel }, (_, i) =>
        attack.send(apps[i % apps.length]!, 'PATCH', path, { key: keys[i % keys.length], body: { tags: [`writer-${i}`] }, headers: { 'If-Match': `"${target.version}"` } }),
      ),
    );
    const counts = tally(replies.map((r) => r.status));
    attack.check(counts[200] === 1 && counts[412] === load.parallel - 1, `round ${round}: statuses ${JSON.stringify(counts)}`);
    const winner = replies.findIndex((r) => r.status === 200);
    const stored = await partitionItems(partitions.project(project._id), itemKeys.projectUser(project._id, target._id).SK);
    attack.check(
      stored[0]?.version === target.version + 1 && stored[0]?.tags?.[0] === `writer-${winner}`,
      `round ${round}: stored version ${stored[0]?.version} tags ${JSON.stringify(stored[0]?.tags)}, winner writer-${winner}`,
    );
    const updates = await audits(project._id, (a) => a.action === 'ProjectUserUpdated' && a.projectUserId === target._id);
    attack.check(updates.length === 1, `round ${round}: ${updates.length} update audit items`);

    // Without If-Match (every other round): every 200 that changed something is exactly one audited version bump.
    if (round % 2 === 1) continue;
    const free = await Promise.all(
      Array.from({ length: load.parallel }, (_, i) =>
        attack.send(apps[i % apps.length]!, 'PATCH', path, { key: keys[i % keys.length], body: { tags: [`free-${i}`] } }),
      ),
    );
    const freeCounts = tally(free.map((r) => r.status));
    attack.check(free.every((r) => r.status === 200 || (r.status === 409 && r.body?.code === 'conflict')), `round ${round}: without If-Match ${JSON.stringify(freeCounts)}`);
    const after = await partitionItems(partitions.project(project._id), itemKeys.projectUser(project._id, target._id).SK);
    const bumps = after[0]!.version - (target.version + 1);
    attack.check(bumps === (freeCounts[200] ?? 0), `round ${round}: ${bumps} version bumps for ${freeCounts[200] ?? 0} answers 200 (lost update?)`);
    attack.add('freeWritesCommitted', bumps);
    attack.add('freeWritesGaveUp409', freeCounts[409] ?? 0);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

// ---- a key revoked while in use --------------------------------------------------------------------------

export async function revokedWhileInUse(load: Load & { keyCacheSeconds: number }): Promise<Attack> {
  const attack = new Attack('concurrency/key-revoked-in-use');
  const windowMs = load.keyCacheSeconds * 1000;
  const serving = instances(3, { keyCacheSeconds: load.keyCacheSeconds });
  const revoker = testApp({ keyCacheSeconds: load.keyCacheSeconds });
  const org = await newOrg(revoker, 'Revocation');
  const project = await org.project('Revocation');
  const member = await org.memberWithKey(project._id, ['editor']);
  let lastSuccessAfterRevoke = 0;
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const key = await org.key(member.userId, 'read-write');
    const keyId = key.split('_').slice(1, 3).join('_');
    const path = `${usersOf(project._id)}/me`;
    // Warm every cache, the revoker's too.
    for (const app of [...serving, revoker]) attack.check((await attack.send(app, 'GET', path, { key })).status === 200, `round ${round}: warm-up refused`);
    let revokedAt = Infinity;
    let stop = false;
    const seen: { sentAt: number; endedAt: number; status: number }[] = [];
    const workers = Array.from({ length: load.parallel }, async (_, w) => {
      while (!stop) {
        const sentAt = performance.now();
        const res = await attack.send(serving[w % serving.length]!, 'GET', path, { key });
        seen.push({ sentAt, endedAt: performance.now(), status: res.status });
        await sleep(20);
      }
    });
    await sleep(150);
    const revokeSentAt = performance.now();
    const revoked = await attack.send(revoker, 'DELETE', `/api/keys/${keyId}`, { key: org.adminKey });
    revokedAt = performance.now();
    attack.check(revoked.status === 204, `round ${round}: revoke answered ${revoked.status}`);
    const here = await attack.send(revoker, 'GET', path, { key });
    attack.check(here.status === 401, `round ${round}: the revoking instance still answered ${here.status}`);
    await sleep(windowMs + 400);
    stop = true;
    await Promise.all(workers);
    for (const s of seen) {
      if (s.endedAt < revokeSentAt) attack.check(s.status === 200, `round ${round}: before revocation answered ${s.status}`);
      else if (s.sentAt >= revokedAt + windowMs) attack.check(s.status === 401, `round ${round}: ${Math.round(s.sentAt - revokedAt)} ms after revocation answered ${s.status}`);
      else attack.check(s.status === 200 || s.status === 401, `round ${round}: inside the window answered ${s.status}`);
      if (s.status === 200 && s.sentAt >= revokedAt) lastSuccessAfterRevoke = Math.max(lastSuccessAfterRevoke, s.sentAt - revokedAt);
      if (s.sentAt >= revokedAt && s.sentAt < revokedAt + windowMs) attack.add(s.status === 200 ? 'inWindow200' : 'inWindow401');
    }
  }
  attack.note('lastSuccessAfterRevokeMs', Math.round(lastSuccessAfterRevoke));
  attack.note('windowMs', windowMs);

  // A revoked global key cannot write even inside the window: the transaction re-checks the key item.
  const globalKey = await org.key(org.owner.userId, 'global');
  const gid = globalKey.split('_').slice(1, 3).join('_');
  const cached = serving[0]!;
  attack.check((await attack.send(cached, 'GET', '/api/projects', { key: globalKey })).status === 200, 'global key warm-up refused');
  attack.check((await attack.send(revoker, 'DELETE', `/api/keys/${gid}`, { key: org.adminKey })).status === 204, 'global key revoke refused');
  const write = await attack.send(cached, 'POST', '/api/users', { key: globalKey, body: { name: 'After revocation' } });
  attack.check(write.status === 401, `a revoked global key wrote through a cached instance: ${write.status}`);
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

// ---- the same Idempotency-Key from many callers at once --------------------------------------------

/**
 * A client retrying a POST under one `Idempotency-Key` while the first try is still in flight (50
 * copies at once, over several instances): every copy must get the first response (201, the same
 * project user), and there is one membership and one audit item. The same key with 50 different
 * bodies: one 201, the rest 422, one membership.
 */
export async function idempotencyKeyRace(load: Load): Promise<Attack> {
  const attack = new Attack('concurrency/idempotency-key');
  const apps = instances(4);
  const t = apps[0]!;
  const org = await newOrg(t, 'Idempotency race');
  const project = await org.project('Idempotency race');
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const target = await org.user();
    const key = `retry-${round}-${Date.now()}`;
    const same = await Promise.all(
      Array.from({ length: load.parallel }, (_, i) =>
        attack.send(apps[i % apps.length]!, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: target }, headers: { 'Idempotency-Key': key } }),
      ),
    );
    const counts = tally(same.map((r) => r.status));
    const ids = new Set(same.filter((r) => r.status === 201).map((r) => r.body?._id));
    attack.check(counts[201] === load.parallel && ids.size === 1, `round ${round}: one key, one body: ${JSON.stringify(counts)}, ${ids.size} distinct project users`);
    attack.add('replayed', same.filter((r) => r.headers.get('Idempotent-Replayed') === 'true').length);
    const items = await partitionItems(partitions.project(project._id));
    const pus = items.filter((i) => i.entity === 'ProjectUser' && i.userId === target).length;
    const added = items.filter((i) => i.entity === 'Audit' && i.action === 'ProjectUserAdded' && i.userId === target).length;
    attack.check(pus === 1 && added === 1, `round ${round}: ${pus} project users and ${added} audit items for one idempotent add`);

    const many = await users(org, load.parallel);
    const other = `bodies-${round}-${Date.now()}`;
    const varied = await Promise.all(
      many.map((u, i) => attack.send(apps[i % apps.length]!, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: u }, headers: { 'Idempotency-Key': other } })),
    );
    const variedCounts = tally(varied.map((r) => r.status));
    attack.check(variedCounts[201] === 1 && variedCounts[422] === load.parallel - 1, `round ${round}: one key, ${load.parallel} bodies: ${JSON.stringify(variedCounts)}`);
    const after = await partitionItems(partitions.project(project._id), prefixes.membership);
    const joined = many.filter((u) => after.some((m) => m.userId === u)).length;
    attack.check(joined === 1, `round ${round}: one key, ${load.parallel} bodies: ${joined} members added`);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}
