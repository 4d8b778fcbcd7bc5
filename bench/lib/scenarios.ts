import type { Role } from '../../functions/domain/permissions.js';
import { newOrg, type TestApp } from '../../test/support/app.js';
import { expectStatus } from './world.js';

/**
 * The routes the bench measures, each as a repeatable request with its own fixtures: reads by a
 * `global` key (and `GET /api/projects` by a member's key too), writes that leave state ready for
 * the next run (a fresh org user to add, a member to remove, roles that flip, ownership that goes
 * back and forth).
 */
export interface Scenario {
  name: string;
  kind: 'read' | 'write';
  /** Round trips the target allows: reads 1, writes 2 (one read, one transaction). */
  allowedRoundTrips: number;
  /** Shown, not targeted (a variant beside the route's main measurement). */
  informational?: string;
  run(): Promise<void>;
}

/**
 * Fixtures are written through `setup` (straight to DynamoDB Local) with the tests' `newOrg`
 * helpers; requests go to `measured` (which may sit behind the delay proxy). `runs` is how many
 * times each write can run.
 */
export async function createScenarios(setup: TestApp, measured: TestApp, runs: number, label: string): Promise<Scenario[]> {
  const org = await newOrg(setup, `bench ${label}`);
  const G = org.adminKey;
  const newUser = () => org.user({ name: 'Member' });
  const newKey = (userId: string) => org.key(userId, 'read-write');
  const newProject = (name: string) => org.project(name);
  const addMember = async (projectId: string, userId: string, roles: Role[]) => (await org.member(projectId, userId, roles))._id;

  // The main project: the owner and 10 members; one member also in two more projects.
  const project = await newProject('Main');
  const P = project._id;
  const members: { userId: string; pu: string }[] = [];
  for (let i = 0; i < 10; i++) {
    const userId = await newUser();
    members.push({ userId, pu: await addMember(P, userId, i % 2 ? ['editor'] : ['viewer']) });
  }
  const memberKey = await newKey(members[0]!.userId);
  for (const name of ['Second', 'Third']) {
    const other = await newProject(name);
    await addMember(other._id, members[0]!.userId, ['viewer']);
  }
  // Pools for the writes.
  const toAdd: string[] = [];
  const toAddIdempotent: string[] = [];
  const toRemove: string[] = [];
  for (let i = 0; i < runs; i++) {
    toAdd.push(await newUser());
    toAddIdempotent.push(await newUser());
    toRemove.push(await addMember(P, await newUser(), ['viewer']));
  }
  const patchTarget = members[1]!.pu;
  let patchFlip = false;

  // Ownership by the owner's own read-write key, back and forth between the org owner and B.
  const owned = await newProject('Transfer by owner');
  const ownerKey = await newKey(org.owner.userId);
  const userB = await newUser();
  const puB = await addMember(owned._id, userB, ['editor']);
  const keyB = await newKey(userB);
  let ownerSide: 'A' | 'B' = 'A';
  // Ownership moved by the global key between C and D (the caller is not the owner).
  const moved = await newProject('Transfer by global key');
  const puC = await addMember(moved._id, await newUser(), ['editor']);
  const puD = await addMember(moved._id, await newUser(), ['editor']);
  await expectStatus('transfer to C', setup, 'POST', `/api/projects/${moved._id}/owner`, 200, { key: G, body: { projectUserId: puC } });
  let movedTo: 'C' | 'D' = 'C';

  const go = async (what: string, method: string, path: string, status: number, key = G, body?: unknown, headers?: Record<string, string>) => {
    await expectStatus(what, measured, method, path, status, { key, body, headers });
  };
  const take = (pool: string[], what: string) => {
    const next = pool.shift();
    if (!next) throw new Error(`${what}: fixture pool exhausted`);
    return next;
  };
  let idem = 0;

  return [
    { name: 'GET /projects/:p/users?limit=50 (list)', kind: 'read', allowedRoundTrips: 1, run: () => go('list', 'GET', `/api/projects/${P}/users?limit=50`, 200) },
    { name: 'GET /projects/:p/users/me', kind: 'read', allowedRoundTrips: 1, run: () => go('me', 'GET', `/api/projects/${P}/users/me`, 200) },
    { name: 'GET /projects/:p/users/:pu', kind: 'read', allowedRoundTrips: 1, run: () => go('get', 'GET', `/api/projects/${P}/users/${members[2]!.pu}`, 200) },
    { name: 'GET /projects/:p', kind: 'read', allowedRoundTrips: 1, run: () => go('project', 'GET', `/api/projects/${P}`, 200) },
    { name: 'GET /projects (global key)', kind: 'read', allowedRoundTrips: 1, run: () => go('projects', 'GET', '/api/projects', 200) },
    { name: 'GET /projects (member key)', kind: 'read', allowedRoundTrips: 1, run: () => go('projects (member)', 'GET', '/api/projects', 200, memberKey) },
    {
      name: 'POST /projects/:p/users (add)',
      kind: 'write',
      allowedRoundTrips: 2,
      run: () => go('add', 'POST', `/api/projects/${P}/users`, 201, G, { _id: take(toAdd, 'add'), roles: ['viewer'] }),
    },
    {
      name: 'POST /projects/:p/users + Idempotency-Key',
      kind: 'write',
      allowedRoundTrips: 2,
      informational: 'variant of add',
      run: () =>
        go('add idempotent', 'POST', `/api/projects/${P}/users`, 201, G, { _id: take(toAddIdempotent, 'add idempotent'), roles: ['viewer'] }, {
          'Idempotency-Key': `bench-${label.replace(/\W/g, '-')}-${idem++}-${Date.now()}`,
        }),
    },
    {
      name: 'PATCH /projects/:p/users/:pu',
      kind: 'write',
      allowedRoundTrips: 2,
      run: () => {
        patchFlip = !patchFlip;
        return go('patch', 'PATCH', `/api/projects/${P}/users/${patchTarget}`, 200, G, { roles: patchFlip ? ['manager'] : ['editor'] });
      },
    },
    {
      name: 'DELETE /projects/:p/users/:pu',
      kind: 'write',
      allowedRoundTrips: 2,
      run: () => go('delete', 'DELETE', `/api/projects/${P}/users/${take(toRemove, 'delete')}`, 204),
    },
    {
      name: 'POST /projects/:p/owner (owner key)',
      kind: 'write',
      allowedRoundTrips: 2,
      run: async () => {
        if (ownerSide === 'A') await go('transfer A→B', 'POST', `/api/projects/${owned._id}/owner`, 200, ownerKey, { projectUserId: puB });
        else await go('transfer B→A', 'POST', `/api/projects/${owned._id}/owner`, 200, keyB, { projectUserId: owned.ownerProjectUserId });
        ownerSide = ownerSide === 'A' ? 'B' : 'A';
      },
    },
    {
      name: 'POST /projects/:p/owner (global key)',
      kind: 'write',
      allowedRoundTrips: 2,
      run: async () => {
        movedTo = movedTo === 'C' ? 'D' : 'C';
        await go('transfer (global)', 'POST', `/api/projects/${moved._id}/owner`, 200, G, { projectUserId: movedTo === 'C' ? puC : puD });
      },
    },
  ];
}

/**
 * The org's catalog and the check (SPEC §6, §7), measured by the round-trip table only (the
 * capacity table's model is of membership routes). The org has a custom permission and a custom
 * role, so its catalog is versioned and its members' decisions go through custom roles:
 * - `POST …/check` as the caller (a member's own read-write key), for an org user
 *   (`principal.userId`, by the `global` key) and for a presented key (`principal.key`): 1, 1 and 2
 *   sequential round trips after authentication, whatever the batch size (a 50-permission batch
 *   is shown beside);
 * - `GET /api/roles` (one strongly consistent GetItem of the catalog) and `POST /api/roles` (that
 *   read, then the transaction). `runs` roles are created: at most 50 custom roles per org, so
 *   `runs` + 1 must stay within that.
 */
export async function createCatalogScenarios(setup: TestApp, measured: TestApp, runs: number, label: string): Promise<Scenario[]> {
  const org = await newOrg(setup, `bench ${label} catalog`);
  const G = org.adminKey;
  for (const key of ['content:publish', 'content:read']) {
    await expectStatus('permission', setup, 'POST', '/api/permissions', 201, { key: G, body: { key } });
  }
  const role = await expectStatus<{ _id: string }>('role', setup, 'POST', '/api/roles', 201, {
    key: G,
    body: { name: 'Publisher', permissions: ['project:read', 'content:read', 'content:publish'] },
  });
  const project = await org.project('Check');
  const P = project._id;
  const publisher = await org.memberWithKey(P, ['viewer', role._id]);
  for (let i = 0; i < 10; i++) await org.member(P, await org.user({ name: 'Member' }), i % 2 ? ['editor'] : ['viewer']);
  // Four results of four kinds: granted by the custom role, by a built-in one, not granted, unknown.
  const permissions = ['content:publish', 'project:read', 'members:manage', 'content:delete'];
  const fifty = Array.from({ length: 50 }, (_, i) => permissions[i % permissions.length]!);

  const go = async (what: string, method: string, path: string, status: number, key = G, body?: unknown) => {
    await expectStatus(what, measured, method, path, status, { key, body });
  };
  let created = 0;
  return [
    {
      name: 'POST /projects/:p/check (caller)',
      kind: 'read',
      allowedRoundTrips: 1,
      run: () => go('check caller', 'POST', `/api/projects/${P}/check`, 200, publisher.key, { permissions }),
    },
    {
      name: 'POST /projects/:p/check (principal.userId)',
      kind: 'read',
      allowedRoundTrips: 1,
      run: () => go('check userId', 'POST', `/api/projects/${P}/check`, 200, G, { principal: { userId: publisher.userId }, permissions }),
    },
    {
      name: 'POST /projects/:p/check (principal.userId, 50 permissions)',
      kind: 'read',
      allowedRoundTrips: 1,
      informational: 'variant: batch of 50',
      run: () => go('check userId ×50', 'POST', `/api/projects/${P}/check`, 200, G, { principal: { userId: publisher.userId }, permissions: fifty }),
    },
    {
      name: 'POST /projects/:p/check (principal.key)',
      kind: 'read',
      allowedRoundTrips: 2,
      run: () => go('check key', 'POST', `/api/projects/${P}/check`, 200, G, { principal: { key: publisher.key }, permissions }),
    },
    { name: 'GET /roles', kind: 'read', allowedRoundTrips: 1, run: () => go('roles', 'GET', '/api/roles', 200) },
    {
      name: 'POST /roles',
      kind: 'write',
      allowedRoundTrips: 2,
      run: () => {
        if (++created > runs) throw new Error('POST /roles: more runs than planned');
        return go('create role', 'POST', '/api/roles', 201, G, { name: `Bench role ${created}`, permissions: ['project:read', 'content:read'] });
      },
    },
  ];
}

/**
 * Reads on an instance that has not seen the key yet (`measured` keeps no key cache, as every
 * request on a cold Lambda instance): the key item, then the org user's own item beside the route's
 * reads. Two sequential round trips where the key, the user and the route's reads took three.
 */
export async function createColdKeyScenarios(setup: TestApp, measured: TestApp, label: string): Promise<Scenario[]> {
  const org = await newOrg(setup, `bench ${label} cold`);
  const project = await org.project('Cold');
  const P = project._id;
  const member = await org.memberWithKey(P, ['editor']);
  const go = (what: string, path: string) => expectStatus(what, measured, 'GET', path, 200, { key: member.key });
  const admin = await org.memberWithKey(P, ['admin']);
  const target = await org.member(P, await org.user(), ['viewer']);
  let flip = false;
  return [
    { name: 'GET /projects/:p/users/:pu (key not cached, member key)', kind: 'read', allowedRoundTrips: 2, run: () => go('cold get', `/api/projects/${P}/users/${project.ownerProjectUserId}`) },
    { name: 'GET /projects/:p/users/me (key not cached, member key)', kind: 'read', allowedRoundTrips: 2, run: () => go('cold me', `/api/projects/${P}/users/me`) },
    {
      // A write on a cold key: the key item, then the context beside the org user, then the transaction.
      name: 'PATCH /projects/:p/users/:pu (key not cached, member key)',
      kind: 'write',
      allowedRoundTrips: 3,
      run: () => {
        flip = !flip;
        return expectStatus('cold patch', measured, 'PATCH', `/api/projects/${P}/users/${target._id}`, 200, { key: admin.key, body: { tags: [flip ? 'a' : 'b'] } });
      },
    },
  ];
}
