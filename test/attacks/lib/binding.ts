/**
 * Decisions that bind at once (issue 11): a revoked key never writes again on any instance, a key
 * never outlives its creator, the owner's record is the owner's, every membership holds a role, a
 * pinned key learns nothing of other projects, and no answer tells "unknown" from "not yours".
 * Each attack is a function of its load, so the light suite and the stress suite run the same code.
 */
import { KEY_CACHE_MAX_SECONDS } from '../../../functions/config.js';
import { keys, partitions, prefixes } from '../../../functions/store/keys.js';
import { newOrg, testApp, type TestApp } from '../../support/app.js';
import { Attack, instances, sleep, tally, type Org } from '../../support/attack.js';
import { checkInvariants, partitionItems } from '../../support/table.js';

export interface Load {
  rounds: number;
  parallel: number;
}

const usersOf = (projectId: string) => `/api/projects/${projectId}/users`;
const keyIdOf = (secret: string) => secret.split('_').slice(1, 3).join('_');

/**
 * Key K is cached by instance A; it is revoked elsewhere (on instance B through the API, or by the
 * admin CLI straight on the table), then every kind of write with K on A is tried at once,
 * `parallel` at a time: each must be 401, and nothing K wrote may postdate the revocation (the
 * invariant checker's `revoked-writer` rule). Reads on A may still succeed, for at most the cache
 * window.
 */
export async function revokedKeyWrites(load: Load): Promise<Attack> {
  const attack = new Attack('binding/revoked-key-writes');
  const [cached, other] = instances(2, { keyCacheSeconds: KEY_CACHE_MAX_SECONDS });
  const org = await newOrg(cached!, 'Revoked writes');
  const project = await org.project('Revoked writes');
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const manager = await org.memberWithKey(project._id, ['manager']);
    const viewer = await org.memberWithKey(project._id, ['viewer']);
    const global = await org.key(org.owner.userId, 'global');
    const newcomers = await Promise.all(Array.from({ length: 3 }, () => org.user()));
    for (const key of [manager.key, global]) {
      const warm = await attack.send(cached!, 'GET', `${usersOf(project._id)}/me`, { key });
      attack.check(warm.status === 200, `round ${round}: warm-up answered ${warm.status}`);
    }
    // Half the rounds revoke through the other instance's API, half through the admin CLI.
    const byCli = round % 2 === 1;
    for (const key of [manager.key, global]) {
      if (byCli) await other!.ops.revokeKey(keyIdOf(key));
      else {
        const revoked = await attack.send(other!, 'DELETE', `/api/keys/${keyIdOf(key)}`, { key: org.adminKey });
        attack.check(revoked.status === 204, `round ${round}: revoke answered ${revoked.status}`);
      }
    }
    const writes: [string, string, string, unknown][] = [
      [manager.key, 'POST', '/api/keys', { userId: manager.userId, scope: 'read-write' }],
      [manager.key, 'POST', usersOf(project._id), { _id: newcomers[0], roles: ['viewer'] }],
      [manager.key, 'PATCH', `${usersOf(project._id)}/${viewer.projectUserId}`, { tags: [`r${round}`] }],
      [manager.key, 'DELETE', `${usersOf(project._id)}/${viewer.projectUserId}`, undefined],
      [global, 'POST', '/api/users', { name: 'After revocation' }],
      [global, 'POST', '/api/projects', { name: 'After revocation' }],
      [global, 'POST', '/api/keys', { userId: org.owner.userId, scope: 'global' }],
      [global, 'POST', usersOf(project._id), { _id: newcomers[1] }],
      [global, 'POST', `/api/projects/${project._id}/owner`, { projectUserId: viewer.projectUserId }],
    ];
    const answers = await Promise.all(
      Array.from({ length: load.parallel }, (_, i) => {
        const [key, method, path, body] = writes[i % writes.length]!;
        return attack.send(cached!, method, path, { key, body }).then((res) => ({ method, path, res }));
      }),
    );
    for (const { method, path, res } of answers) {
      // 503 (DynamoDB too slow to answer in time) writes nothing either; the invariant checker proves it.
      attack.check(res.status === 401 || res.status === 503, `round ${round} (${byCli ? 'CLI' : 'API'} revocation): ${method} ${path} answered ${res.status}`);
      if (res.status === 503) attack.add('unavailable');
    }
    attack.add('writesRefused', answers.filter((a) => a.res.status === 401).length);
  }
  attack.note('instances', 2);
  attack.note('cacheWindowS', KEY_CACHE_MAX_SECONDS);
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

/**
 * Writes racing a revocation: `parallel` writers use key K on instance A while instance B revokes
 * it. Any write may win or lose, but none that commits may carry a time after the revocation, and
 * every write sent after the revocation's 204 is a 401.
 */
export async function revocationRace(load: Load): Promise<Attack> {
  const attack = new Attack('binding/revocation-race');
  const [writer, revoker] = instances(2, { keyCacheSeconds: KEY_CACHE_MAX_SECONDS });
  const org = await newOrg(writer!, 'Revocation race');
  const project = await org.project('Revocation race');
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    // A member's key: its writes rest on its membership, which the revocation does not touch.
    const { key } = await org.memberWithKey(project._id, ['manager']);
    const target = await org.memberWithKey(project._id, ['viewer']);
    await attack.send(writer!, 'GET', `${usersOf(project._id)}/me`, { key });
    let revokedAt = Infinity;
    const writes = Array.from({ length: load.parallel }, async (_, i) => {
      await sleep(i * 2);
      const sentAt = performance.now();
      const res = await attack.send(writer!, 'PATCH', `${usersOf(project._id)}/${target.projectUserId}`, { key, body: { tags: [`w${i}`] } });
      return { sentAt, status: res.status };
    });
    await sleep(load.parallel);
    const revoke = await attack.send(revoker!, 'DELETE', `/api/keys/${keyIdOf(key)}`, { key: org.adminKey });
    revokedAt = performance.now();
    attack.check(revoke.status === 204, `round ${round}: revoke answered ${revoke.status}`);
    const results = await Promise.all(writes);
    for (const r of results) {
      // A 503 is a write that did not commit (nothing half-written); the invariant checker below proves it.
      attack.check([200, 401, 409, 503].includes(r.status), `round ${round}: a racing write answered ${r.status}`);
      if (r.sentAt > revokedAt) attack.check(r.status === 401 || r.status === 503, `round ${round}: a write sent after the revocation answered ${r.status}`);
      if (r.status === 503) attack.add('unavailable');
    }
    // How much later than `revokedAt` a write that won the race recorded its own time.
    const keyItem = (await partitionItems(keys.apiKey(keyIdOf(key)).PK))[0]!;
    const audits = await partitionItems(partitions.project(project._id), prefixes.audit);
    for (const audit of audits.filter((a) => a.actor?.keyId === keyIdOf(key))) {
      const lag = Date.parse(audit.at) - Date.parse(keyItem.revokedAt);
      attack.note('maxLagMs', Math.max(Number(attack.notes.maxLagMs ?? 0), lag));
    }
    const counts = tally(results.map((r) => r.status));
    attack.add('committedBefore', counts[200] ?? 0);
    attack.add('refusedAfter', counts[401] ?? 0);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

/**
 * Findings 2 to 6, one request each per round: an expiring key minting a non-expiring one, a
 * manager editing the owner's tags, memberships without a role, a read-write self-join above
 * viewer, a pinned key reading other projects' IDs, and existence oracles.
 */
export async function leastPrivilege(load: Load): Promise<Attack> {
  const attack = new Attack('binding/least-privilege');
  const t = testApp();
  const org = await newOrg(t, 'Least privilege');
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    await expiringKeys(attack, t, org);
    await ownerRecord(attack, t, org);
    await atLeastOneRole(attack, t, org);
    await pinnedKeys(attack, t, org);
    await noOracles(attack, t, org);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}

async function expiringKeys(attack: Attack, t: TestApp, org: Org) {
  const userId = await org.user({ orgRole: 'admin' });
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  const expiring = await org.key(userId, 'read-write', { expiresAt });
  const inherit = await attack.send(t, 'POST', '/api/keys', { key: expiring, body: { userId, scope: 'read' } });
  attack.check(inherit.status === 201 && inherit.body?.key?.expiresAt === expiresAt, `no expiresAt from an expiring key: ${inherit.status} expiresAt=${inherit.body?.key?.expiresAt}`);
  const later = new Date(Date.now() + 7_200_000).toISOString();
  const outlive = await attack.send(t, 'POST', '/api/keys', { key: expiring, body: { userId, scope: 'read', expiresAt: later } });
  attack.check(outlive.status === 400 && outlive.body?.errors?.[0]?.path === 'body.expiresAt', `a later expiresAt: ${outlive.status}`);
  const forOther = await attack.send(t, 'POST', '/api/keys', { key: expiring, body: { userId: await org.user(), scope: 'read' } });
  attack.check(forOther.status === 201 && forOther.body?.key?.expiresAt === expiresAt, `a key for another user from an expiring admin key: expiresAt=${forOther.body?.key?.expiresAt}`);
}

async function ownerRecord(attack: Attack, t: TestApp, org: Org) {
  const project = await org.project('Owner record');
  const manager = await org.memberWithKey(project._id, ['manager']);
  const admin = await org.memberWithKey(project._id, ['admin']);
  const ownerPath = `${usersOf(project._id)}/${project.ownerProjectUserId}`;
  for (const [who, key] of [['manager', manager.key], ['admin', admin.key]] as const) {
    const tags = await attack.send(t, 'PATCH', ownerPath, { key, body: { tags: ['hijacked'] } });
    attack.check(tags.status === 403, `a project ${who} edited the owner's tags: ${tags.status}`);
  }
  const byGlobal = await attack.send(t, 'PATCH', ownerPath, { key: org.adminKey, body: { tags: ['by-global'] } });
  attack.check(byGlobal.status === 200, `a global key editing the owner's tags: ${byGlobal.status}`);
  const after = await attack.send(t, 'GET', ownerPath, { key: org.adminKey });
  attack.check(JSON.stringify(after.body?.tags) === '["by-global"]', `owner tags are ${JSON.stringify(after.body?.tags)}`);
}

async function atLeastOneRole(attack: Attack, t: TestApp, org: Org) {
  const project = await org.project('Roles');
  const joiner = await org.user();
  const joinerKey = await org.key(joiner, 'read-write');
  const empty = await attack.send(t, 'POST', usersOf(project._id), { key: joinerKey, body: { _id: joiner, roles: [] } });
  attack.check(empty.status === 400, `self-join with roles [] answered ${empty.status}`);
  const editor = await attack.send(t, 'POST', usersOf(project._id), { key: joinerKey, body: { _id: joiner, roles: ['viewer', 'editor'] } });
  attack.check(editor.status === 403, `self-join as viewer+editor answered ${editor.status}`);
  const joined = await attack.send(t, 'POST', usersOf(project._id), { key: joinerKey, body: { _id: joiner } });
  attack.check(joined.status === 201 && JSON.stringify(joined.body?.roles) === '["viewer"]', `self-join answered ${joined.status} ${JSON.stringify(joined.body?.roles)}`);
  const strip = await attack.send(t, 'PATCH', `${usersOf(project._id)}/${joined.body?._id}`, { key: org.adminKey, body: { roles: [] } });
  attack.check(strip.status === 400, `PATCH roles [] answered ${strip.status}`);
  const byAdmin = await attack.send(t, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: await org.user(), roles: [] } });
  attack.check(byAdmin.status === 400, `add with roles [] by a global key answered ${byAdmin.status}`);
}

async function pinnedKeys(attack: Attack, t: TestApp, org: Org) {
  const mine = await org.project('Pinned here');
  const elsewhere = await org.project('Pinned elsewhere');
  const adminUser = await org.user({ orgRole: 'admin' });
  await org.member(mine._id, adminUser, ['admin']);
  await org.member(elsewhere._id, adminUser, ['admin']);
  await org.key(adminUser, 'read-write', { projectId: elsewhere._id });
  await org.key(adminUser, 'read', { projectId: elsewhere._id });
  const pinned = await org.key(adminUser, 'read-write', { projectId: mine._id });
  const lists = ['/api/keys', `/api/keys?userId=${adminUser}`, `/api/keys?userId=${org.owner.userId}`, '/api/users', '/api/projects', `/api/users/${adminUser}`];
  for (const path of lists) {
    const res = await attack.send(t, 'GET', path, { key: pinned });
    attack.check(res.status === 200 || res.status === 403, `pinned ${path}: ${res.status}`);
    attack.check(!res.text.includes(elsewhere._id), `pinned ${path} names another project`);
  }
}

async function noOracles(attack: Attack, t: TestApp, org: Org) {
  const member = await org.user();
  const memberKey = await org.key(member, 'read-write');
  const existing = await org.user();
  const other = await newOrg(t, 'Elsewhere');
  const foreign = await other.user();
  const unknown = `usr_${'0'.repeat(10)}${'a'.repeat(16)}`;
  const answers = await Promise.all(
    [existing, foreign, unknown].map((userId) => attack.send(t, 'POST', '/api/keys', { key: memberKey, body: { userId, scope: 'read' } })),
  );
  const bodies = new Set(answers.map((a) => `${a.status} ${JSON.stringify({ ...a.body, instance: undefined })}`));
  attack.check(answers.every((a) => a.status === 403) && bodies.size === 1, `POST /api/keys for others: ${answers.map((a) => a.status).join(', ')}`);

  // Scope before state: a read key adding an existing member (or itself) is 403, never 409 or 404.
  const project = await org.project('Scope first');
  const readUser = await org.user();
  await org.member(project._id, readUser, ['admin']);
  const readKey = await org.key(readUser, 'read');
  const hidden = await org.project('Not a member');
  const tries = [
    ['POST', usersOf(project._id), { _id: readUser }],
    ['POST', usersOf(project._id), { _id: existing }],
    ['POST', usersOf(hidden._id), { _id: readUser }],
    ['PATCH', `${usersOf(hidden._id)}/${hidden.ownerProjectUserId}`, { tags: ['x'] }],
    ['DELETE', `${usersOf(hidden._id)}/${hidden.ownerProjectUserId}`, undefined],
    ['POST', `/api/projects/${hidden._id}/owner`, { projectUserId: hidden.ownerProjectUserId }],
  ] as const;
  for (const [method, path, body] of tries) {
    const res = await attack.send(t, method, path, { key: readKey, body });
    attack.check(res.status === 403, `read key ${method} ${path}: ${res.status}`);
  }
}
