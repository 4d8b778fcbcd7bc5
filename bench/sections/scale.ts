import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys, partitions, prefixes } from '../../functions/store/keys.js';
import { rangeQuery } from '../../functions/store/queries.js';
import { newOrg } from '../../test/support/app.js';
import { seedMembers } from '../lib/seed.js';
import { fmt, fmtInt, markdownTable, median, pass, round } from '../lib/stats.js';
import { appFor, expectStatus, TABLE_NAME, type World } from '../lib/world.js';

export interface ScaleRow {
  route: string;
  /** Not a route: DynamoDB Local's own share, shown beside the list pages. */
  sdkOnly?: boolean;
  /** Median latency, ms, by member count. */
  ms: Record<number, number>;
  ratio: number;
  pass: boolean;
}

/** The org's catalog at its limits' scale: 50 custom permissions, 50 custom roles of 20 (+ `project:read`) each. */
const CUSTOM_RESOURCES = ['content', 'billing', 'reports', 'deploy', 'docs'];
const CUSTOM_ACTIONS = ['read', 'write', 'publish', 'delete', 'approve', 'export', 'import', 'archive', 'review', 'comment'];
const CUSTOM_ROLES = 50;
const PERMISSIONS_PER_ROLE = 20;

/**
 * The same requests on projects of 10, 1,000 and 10,000 members (seeded with BatchWriteItem), on
 * a warm in-process app straight to DynamoDB Local. Sizes are interleaved in every round so that
 * machine noise hits them alike. List pages hold 5 members, so every size returns full pages.
 * The org has 50 custom roles (created through the API) and two members in three hold one, so
 * every listed page and every check resolves custom roles (SPEC §6: 10,000 members and 50 custom
 * roles stay within 1.2× of 10 members).
 */
export async function scale(world: World, sizes: number[], samples: number) {
  const t = appFor(world.config);
  const { client } = t;
  const org = await newOrg(t, 'bench scale');
  const G = org.adminKey;
  const customPermissions = CUSTOM_RESOURCES.flatMap((resource) => CUSTOM_ACTIONS.map((action) => `${resource}:${action}`));
  for (const key of customPermissions) await expectStatus('permission', t, 'POST', '/api/permissions', 201, { key: G, body: { key } });
  const customRoles: string[] = [];
  for (let j = 0; j < CUSTOM_ROLES; j++) {
    const permissions = ['project:read', ...Array.from({ length: PERMISSIONS_PER_ROLE }, (_, k) => customPermissions[(j + k) % customPermissions.length]!)];
    const role = await expectStatus('role', t, 'POST', '/api/roles', 201, { key: G, body: { name: `Scale role ${j + 1}`, permissions } });
    customRoles.push(role._id);
  }
  // Ten results each: custom permissions (granted or not), a system one granted, one not, one unknown.
  const checked = [...customPermissions.slice(0, 7), 'project:read', 'members:manage', 'nothing:here'];
  /** The store's Query for a project's users (functions/store/queries.ts). */
  const usersQuery = (projectId: string) => rangeQuery({ pk: partitions.project(projectId), prefix: prefixes.projectUser }).input;
  const warmups = 3;
  const pageSize = 5;
  const seeding: { members: number; items: number; seconds: number }[] = [];

  interface Fixture {
    n: number;
    projectId: string;
    target: string;
    patchTarget: string;
    /** A member holding a custom role, and a read-write key of its own, for the check rows. */
    checkUser: string;
    checkKey: string;
    spare: string[];
    removable: string[];
    middleCursor: string;
    middleStartKey: Record<string, unknown>;
    flip: boolean;
  }
  const fixtures: Fixture[] = [];
  for (const n of sizes) {
    const project = await org.project(`${n} members`);
    const t0 = performance.now();
    const seeded = await seedMembers(world.raw, TABLE_NAME, { orgId: org.orgId, projectId: project._id, members: n, spareUsers: warmups + samples, customRoles });
    seeding.push({ members: n, items: seeded.items, seconds: round((performance.now() - t0) / 1000, 1) });
    // A cursor to the middle of the list, reached through the API (cursors are sealed).
    let cursor: string | undefined;
    let seen = 0;
    const half = Math.floor((n + 1) / 2); // the owner is a member too
    while (seen < half) {
      const limit = Math.min(100, half - seen);
      const page = await expectStatus('walk to the middle', t, 'GET', `/api/projects/${project._id}/users?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 200, { key: G });
      seen += page.data.length;
      cursor = page.nextCursor;
    }
    // The same position as a DynamoDB start key, for the SDK-only rows.
    const keysOnly = await client.send(
      new QueryCommand({ TableName: TABLE_NAME, ...usersQuery(project._id), ProjectionExpression: 'PK, SK', Limit: half }),
    );
    const middle = Math.floor(n / 2);
    const holder = seeded.members.slice(middle).find((m) => m.roles.some((role) => customRoles.includes(role)))!;
    fixtures.push({
      n,
      projectId: project._id,
      target: seeded.members[middle]!.projectUserId,
      patchTarget: seeded.members[Math.min(middle + 1, n - 1)]!.projectUserId,
      checkUser: holder.userId,
      checkKey: await org.key(holder.userId, 'read-write'),
      spare: seeded.spareUsers,
      removable: [],
      middleCursor: cursor!,
      middleStartKey: keysOnly.LastEvaluatedKey!,
      flip: false,
    });
  }

  /** The list route's DynamoDB calls without the app: the page's Query and, in parallel, the BatchGetItem of the caller's context. */
  const pageQuery = (projectId: string, start: Record<string, unknown> | undefined, beginsWith: boolean) => {
    const query = usersQuery(projectId);
    const values = query.ExpressionAttributeValues!;
    // `beginsWith`, for the comparison row: the prefix condition the store sent before it used ranges.
    if (beginsWith) {
      return {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': values[':pk'], ':prefix': prefixes.projectUser },
      };
    }
    // Resumed from a start key, the range starts there too (as the store does).
    return start ? { ...query, ExpressionAttributeValues: { ...values, ':from': start.SK } } : query;
  };
  const pageCalls = (projectId: string, start?: Record<string, unknown>, beginsWith = false) =>
    Promise.all([
      client.send(new QueryCommand({ TableName: TABLE_NAME, ...pageQuery(projectId, start, beginsWith), Limit: pageSize + 1, ExclusiveStartKey: start })),
      client.send(
        new BatchGetCommand({
          RequestItems: { [TABLE_NAME]: { Keys: [keys.project(projectId), keys.membership(projectId, org.owner.userId)] } },
        }),
      ),
    ]);
  const routes: { name: string; sdkOnly?: boolean; run: (f: Fixture) => Promise<unknown> }[] = [
    { name: 'GET /projects/:p/users/:pu', run: (f) => expectStatus('get', t, 'GET', `/api/projects/${f.projectId}/users/${f.target}`, 200, { key: G }) },
    {
      name: 'POST /projects/:p/users (add)',
      run: async (f) => {
        const added = await expectStatus('add', t, 'POST', `/api/projects/${f.projectId}/users`, 201, { key: G, body: { _id: f.spare.shift(), roles: ['viewer'] } });
        f.removable.push(added._id);
      },
    },
    {
      name: 'PATCH /projects/:p/users/:pu',
      run: (f) => {
        f.flip = !f.flip;
        return expectStatus('update', t, 'PATCH', `/api/projects/${f.projectId}/users/${f.patchTarget}`, 200, { key: G, body: { roles: f.flip ? ['manager'] : ['editor'] } });
      },
    },
    {
      name: 'DELETE /projects/:p/users/:pu',
      run: (f) => expectStatus('remove', t, 'DELETE', `/api/projects/${f.projectId}/users/${f.removable.shift()}`, 204, { key: G }),
    },
    {
      name: `GET /projects/:p/users?limit=${pageSize} (first page)`,
      run: (f) => expectStatus('first page', t, 'GET', `/api/projects/${f.projectId}/users?limit=${pageSize}`, 200, { key: G }),
    },
    {
      name: `GET /projects/:p/users?limit=${pageSize}&cursor= (middle page)`,
      run: (f) =>
        expectStatus('middle page', t, 'GET', `/api/projects/${f.projectId}/users?limit=${pageSize}&cursor=${encodeURIComponent(f.middleCursor)}`, 200, { key: G }),
    },
    { name: 'GET /projects/:p/users/me', run: (f) => expectStatus('me', t, 'GET', `/api/projects/${f.projectId}/users/me`, 200, { key: G }) },
    {
      name: `POST /projects/:p/check (principal.userId, ${checked.length} permissions)`,
      run: (f) =>
        expectStatus('check userId', t, 'POST', `/api/projects/${f.projectId}/check`, 200, { key: G, body: { principal: { userId: f.checkUser }, permissions: checked } }),
    },
    {
      name: `POST /projects/:p/check (principal.key, ${checked.length} permissions)`,
      run: (f) =>
        expectStatus('check key', t, 'POST', `/api/projects/${f.projectId}/check`, 200, { key: G, body: { principal: { key: f.checkKey }, permissions: checked } }),
    },
    // No app: the list route's DynamoDB calls alone, the same SDK client straight to DynamoDB Local.
    { name: `SDK only, no app: the first page's Query ∥ BatchGetItem`, sdkOnly: true, run: (f) => pageCalls(f.projectId) },
    { name: `SDK only, no app: the middle page's Query ∥ BatchGetItem`, sdkOnly: true, run: (f) => pageCalls(f.projectId, f.middleStartKey) },
    {
      name: "SDK only, no app: the middle page's Query with `begins_with(SK, 'PU#')` and the start key alone (what the store sent before)",
      sdkOnly: true,
      run: (f) => pageCalls(f.projectId, f.middleStartKey, true),
    },
  ];

  const timings = new Map<string, number[]>();
  for (let round_ = 0; round_ < warmups + samples; round_++) {
    for (const route of routes) {
      const order = round_ % 2 ? [...fixtures].reverse() : fixtures;
      for (const f of order) {
        const t0 = performance.now();
        await route.run(f);
        const ms = performance.now() - t0;
        if (round_ >= warmups) {
          const k = `${route.name}|${f.n}`;
          timings.set(k, [...(timings.get(k) ?? []), ms]);
        }
      }
    }
  }
  client.destroy();

  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  const rows: ScaleRow[] = routes.map((route) => {
    const ms = Object.fromEntries(sizes.map((n) => [n, round(median(timings.get(`${route.name}|${n}`)!), 2)]));
    const ratio = round(ms[largest]! / ms[smallest]!, 2);
    return { route: route.name, sdkOnly: route.sdkOnly, ms, ratio, pass: ratio <= 1.2 };
  });
  const markdown = markdownTable(
    ['route', ...sizes.map((n) => `${fmtInt(n)} members (ms)`), `${fmtInt(largest)} / ${fmtInt(smallest)}`, 'target ≤ 1.2×'],
    rows.map((r) => [
      r.sdkOnly ? `*${r.route}*` : `\`${r.route}\``,
      ...sizes.map((n) => fmt(r.ms[n], 2)),
      `${fmt(r.ratio, 2)}×`,
      r.sdkOnly ? '(DynamoDB Local alone)' : pass(r.pass),
    ]),
    `l${'r'.repeat(sizes.length + 1)}l`,
  );
  return { rows, seeding, samples, customRoles: customRoles.length, customPermissions: customPermissions.length, markdown };
}
