/**
 * The check and the routes decide alike (SPEC §7, issue 13): "for every route, a check of the
 * permission the route needs agrees with what the route does for that caller".
 *
 * Every project-scoped route × every caller kind of the isolation matrix (test/attacks/lib/isolation.ts,
 * whose kinds are rebuilt here: its callers are private to it), plus the kinds it leaves out (read
 * keys of every role, the owner through a read key, keys pinned here, global keys pinned here or
 * elsewhere, an expired membership, a member holding a custom role beside `viewer`, and one holding
 * only a custom role, without `project:read`). Each caller asks
 * `POST /api/projects/:p/check` (no principal) for every permission a route needs, in one batch
 * (each result stands alone, SPEC §7); then every route is performed as that caller with a request
 * that succeeds on state whenever the caller is permitted: writes get targets no earlier cell has
 * touched (a new org user to add, a fresh `viewer` to PATCH, DELETE or transfer to; replaced once a
 * route has succeeded on one), added members are `viewer`s, so `members:manage` alone decides, and
 * a transfer is given back at once. Nothing a cell does touches a caller, so one check answer per
 * caller stands for all its cells; the check is asked again after the walk and must not have moved.
 *
 * Agreement, per cell: route 2xx ⇔ check 200 `allowed: true`; route 403 ⇔ check 200 `allowed: false`;
 * route 404 (project not visible) ⇔ check 404; route 401 ⇔ check 401. Any other route answer
 * (409, 412, 5xx) means state decided, which the cell was built to rule out: a violation too.
 *
 * Not walked: a `read-write` key's self-join (`POST …/users { _id: itself }` by a non-member), a
 * rule of its own (SPEC §1) that no permission stands for: the non-member gets 201 while a check of
 * `members:manage` is 404 for it. It is measured once, at the end, and reported as a note.
 *
 * One more cell family has no route: a custom permission (no route enforces one; other services
 * do, through the check). A custom role holding it is given to a member; the check must allow it
 * to that member, to `admin` members, the owner and global keys (§6: they hold the whole catalog),
 * and deny it to a viewer, a manager and a read key.
 */
import { SECRET_BODY_LENGTH, formatApiKey, parseApiKey, secretWithChecksum } from '../../../functions/domain/api-key.js';
import { newId } from '../../../functions/domain/ids.js';
import { newOrg, testApp, type Reply, type TestApp } from '../../support/app.js';
import { Attack, sleep } from '../../support/attack.js';
import { checkInvariants } from '../../support/table.js';
import { CALLER_KINDS } from './isolation.js';

/** The isolation matrix's kinds, then the ones it does not have. */
export const AGREEMENT_CALLER_KINDS = [
  ...CALLER_KINDS,
  'readViewer',
  'readEditor',
  'readManager',
  'readOwner',
  'pinnedHere',
  'globalPinnedHere',
  'globalPinnedElsewhere',
  'expiredMember',
  'customRole',
  'customRoleOnly',
] as const;
export type AgreementCallerKind = (typeof AGREEMENT_CALLER_KINDS)[number];

/** Project-scoped routes and the permission each needs (issue 13). */
export const ROUTE_PERMISSIONS = {
  'GET users': 'project:read',
  'GET users/me': 'project:read',
  'GET users/:pu': 'project:read',
  'GET project': 'project:read',
  'POST users': 'members:manage',
  'PATCH users/:pu': 'members:manage',
  'DELETE users/:pu': 'members:manage',
  'POST owner': 'project:transfer-ownership',
  'GET audit': 'members:manage',
} as const;
type RouteName = keyof typeof ROUTE_PERMISSIONS;

interface Request {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** After a success: the target is spent; ownership goes back to its owner. */
  after?: (res: Reply) => Promise<void>;
}

/** What one answer says about the caller here. */
export type Verdict = 'allowed' | 'denied' | 'hidden' | 'unauthenticated' | `other ${number}` | 'malformed check';

function routeVerdict(res: Reply): Verdict {
  if (res.status >= 200 && res.status < 300) return 'allowed';
  if (res.status === 403) return 'denied';
  if (res.status === 404) return 'hidden';
  if (res.status === 401) return 'unauthenticated';
  return `other ${res.status}`;
}

function checkVerdict(res: Reply, permission: string): Verdict {
  if (res.status === 200) {
    const results = res.body?.results;
    if (!Array.isArray(results) || results.length !== 1 || results[0]?.permission !== permission || typeof results[0]?.allowed !== 'boolean') {
      return 'malformed check';
    }
    return results[0].allowed ? 'allowed' : 'denied';
  }
  if (res.status === 404) return 'hidden';
  if (res.status === 401) return 'unauthenticated';
  return `other ${res.status}`;
}

const describeCheck = (res: Reply) =>
  res.status === 200 ? `200 allowed=${res.body?.results?.[0]?.allowed} reason=${res.body?.results?.[0]?.reason}` : `${res.status} ${res.body?.code ?? ''}`.trim();
const describeRoute = (res: Reply) => (res.status < 300 ? `${res.status}` : `${res.status} ${res.body?.code ?? ''}`.trim());

interface Caller {
  kind: AgreementCallerKind;
  key: string | null;
}

export type AgreementAttack = Attack & {
  cells: number;
  /** route → caller kind → "route status | check answer". */
  matrix: Record<string, Record<string, string>>;
};

export async function checkAgreement(): Promise<AgreementAttack> {
  const attack = new Attack('check/agreement') as AgreementAttack;
  attack.cells = 0;
  attack.matrix = {};
  const t: TestApp = testApp();
  const [A, B] = await Promise.all([newOrg(t, 'Check agreement A'), newOrg(t, 'Check agreement B')]);

  // ---- the world (the isolation matrix's, and the kinds it leaves out) ---------------------------
  const ownerUser = await A.user({ orgRole: 'admin' });
  const ownerKey = await A.key(ownerUser, 'read-write');
  const [P, Q] = await Promise.all([A.project('P', ownerKey), A.project('Q', ownerKey)]);
  const users = `/api/projects/${P._id}/users`;

  // A custom permission and a role holding only it (SPEC §6).
  const CUSTOM = 'content:publish';
  const permission = await attack.send(t, 'POST', '/api/permissions', { key: A.adminKey, body: { key: CUSTOM } });
  if (permission.status !== 201) throw new Error(`custom permission: ${permission.status} ${permission.text}`);
  const role = await attack.send(t, 'POST', '/api/roles', { key: A.adminKey, body: { name: 'Publisher', permissions: [CUSTOM] } });
  if (role.status !== 201) throw new Error(`custom role: ${role.status} ${role.text}`);
  const customRoleId = role.body._id as string;

  const callers = new Map<AgreementCallerKind, Caller>();
  const set = (kind: AgreementCallerKind, key: string | null) => callers.set(kind, { kind, key });
  set('none', null);
  const garbageId = newId('key');
  // Well-formed (valid checksum), so it is refused by the table lookup, not by the format check.
  set('garbage', formatApiKey(garbageId, secretWithChecksum(garbageId, 'A'.repeat(SECRET_BODY_LENGTH))));
  set('owner', ownerKey);
  set('globalOtherOrg', B.adminKey);
  set('globalSameOrg', A.adminKey);
  /** A new org user, member of P with `roles` when given. */
  const memberOfP = async (roles?: string[], orgRole: 'admin' | 'member' = 'member') => {
    const u = await A.user({ orgRole });
    if (roles) await A.member(P._id, u, roles);
    return u;
  };
  // The expiring ones first: they must have expired before the walk, and setup gives them the time.
  // Each expiry is taken when its request is sent (setup can be slow on a loaded machine).
  let lastExpiry = 0;
  const expiring = () => {
    lastExpiry = Math.max(lastExpiry, Date.now() + 2_500);
    return new Date(lastExpiry).toISOString();
  };
  await Promise.all([
    (async () => {
      const u = await memberOfP(['admin']);
      set('expired', await A.key(u, 'read-write', { expiresAt: expiring() }));
    })(),
    (async () => {
      // An admin whose membership has expired: it authorizes nothing (SPEC §7 "membership_expired").
      const u = await A.user();
      const res = await attack.send(t, 'POST', users, { key: A.adminKey, body: { _id: u, roles: ['admin'], expiresAt: expiring() } });
      if (res.status !== 201) throw new Error(`expiring member: ${res.status} ${res.text}`);
      set('expiredMember', await A.key(u, 'read-write'));
    })(),
    ...(['viewer', 'editor', 'manager', 'admin'] as const).map(async (r) => {
      const u = await memberOfP([r]);
      const [rw, read] = await Promise.all([A.key(u, 'read-write'), A.key(u, 'read')]);
      set(r, rw);
      // The isolation matrix's `read` is an admin member's read key.
      set(r === 'admin' ? 'read' : (`read${r[0]!.toUpperCase()}${r.slice(1)}` as AgreementCallerKind), read);
    }),
    (async () => {
      const revoked = await A.key(await memberOfP(['admin']), 'read-write');
      const res = await attack.send(t, 'DELETE', `/api/keys/${parseApiKey(revoked)!.keyId}`, { key: A.adminKey });
      if (res.status !== 204) throw new Error(`revoke: ${res.status}`);
      set('revoked', revoked);
    })(),
    (async () => set('readOwner', await A.key(ownerUser, 'read')))(),
    (async () => set('nonMember', await A.key(await memberOfP(), 'read-write')))(),
    (async () => {
      const u = await memberOfP(['admin']);
      await A.member(Q._id, u, ['viewer']);
      set('pinnedElsewhere', await A.key(u, 'read-write', { projectId: Q._id }));
    })(),
    (async () => set('pinnedHere', await A.key(await memberOfP(['manager']), 'read-write', { projectId: P._id })))(),
    (async () => set('globalPinnedHere', await A.key(A.owner.userId, 'global', { projectId: P._id })))(),
    (async () => set('globalPinnedElsewhere', await A.key(A.owner.userId, 'global', { projectId: Q._id })))(),
    (async () => set('orgAdminNonMember', await A.key(await memberOfP(undefined, 'admin'), 'read-write')))(),
    (async () => set('customRole', await A.key(await memberOfP(['viewer', customRoleId]), 'read-write')))(),
    // Only the custom role: no project:read, so every route is refused with 403, as the check says.
    (async () => set('customRoleOnly', await A.key(await memberOfP([customRoleId]), 'read-write')))(),
  ]);
  for (const kind of AGREEMENT_CALLER_KINDS) if (!callers.has(kind)) throw new Error(`no caller built for ${kind}`);
  const kinds = AGREEMENT_CALLER_KINDS.map((k) => callers.get(k)!);

  // ---- the routes --------------------------------------------------------------------------------
  /**
   * Targets no earlier cell has touched: a refused request leaves its target as it was, so a
   * target is replaced only once a route has succeeded on it.
   */
  function fresh<T>(make: () => Promise<T>) {
    let current: Promise<T> | null = null;
    return {
      get: () => (current ??= make()),
      used: () => {
        current = null;
      },
    };
  }
  const freshViewer = async () => (await A.member(P._id, await memberOfP(), ['viewer']))._id;
  const readTarget = await freshViewer();
  const toAdd = fresh(() => memberOfP());
  const toPatch = fresh(freshViewer);
  const toDelete = fresh(freshViewer);
  const toOwn = fresh(freshViewer);
  const routes: Record<RouteName, () => Promise<Request>> = {
    'GET users': async () => ({ method: 'GET', path: users }),
    'GET users/me': async () => ({ method: 'GET', path: `${users}/me` }),
    'GET users/:pu': async () => ({ method: 'GET', path: `${users}/${readTarget}` }),
    'GET project': async () => ({ method: 'GET', path: `/api/projects/${P._id}` }),
    'POST users': async () => ({ method: 'POST', path: users, body: { _id: await toAdd.get(), roles: ['viewer'] }, after: async () => toAdd.used() }),
    'PATCH users/:pu': async () => ({ method: 'PATCH', path: `${users}/${await toPatch.get()}`, body: { tags: ['patched'] }, after: async () => toPatch.used() }),
    'DELETE users/:pu': async () => ({ method: 'DELETE', path: `${users}/${await toDelete.get()}`, after: async () => toDelete.used() }),
    'POST owner': async () => ({
      method: 'POST',
      path: `/api/projects/${P._id}/owner`,
      body: { projectUserId: await toOwn.get() },
      after: async () => {
        toOwn.used();
        // Ownership goes back, so every cell sees the same owner.
        const back = await attack.send(t, 'POST', `/api/projects/${P._id}/owner`, { key: A.adminKey, body: { projectUserId: P.ownerProjectUserId } });
        if (back.status !== 200) throw new Error(`transfer back: ${back.status} ${back.text}`);
      },
    }),
    'GET audit': async () => ({ method: 'GET', path: `/api/projects/${P._id}/audit` }),
  };

  /**
   * The check, as each caller, for every permission a route needs and the custom one, in one batch
   * (each result stands alone, SPEC §7). Nothing a cell does touches a caller (targets are other
   * members, and ownership is given back), so one answer per caller stands for all its cells; it
   * is asked again after the walk, and must not have moved.
   */
  const PERMISSIONS = [...new Set<string>([...Object.values(ROUTE_PERMISSIONS), CUSTOM])];
  const askAll = async () =>
    new Map(
      await Promise.all(
        kinds.map(async (caller) => {
          const res = await attack.send(t, 'POST', `/api/projects/${P._id}/check`, { key: caller.key, body: { permissions: PERMISSIONS } });
          return [caller.kind, res] as const;
        }),
      ),
    );
  /** The check's answer for one permission, shaped like a one-permission check. */
  const answerFor = (res: Reply, permission: string): Reply =>
    res.status === 200 && Array.isArray(res.body?.results)
      ? { ...res, body: { ...res.body, results: res.body.results.filter((r: { permission: string }) => r.permission === permission) } }
      : res;

  async function cell(name: RouteName, caller: Caller, checks: Map<AgreementCallerKind, Reply>) {
    const permission = ROUTE_PERMISSIONS[name];
    const request = await routes[name]();
    const check = answerFor(checks.get(caller.kind)!, permission);
    const res = await attack.send(t, request.method, request.path, { key: caller.key, body: request.body });
    if (res.status >= 200 && res.status < 300) await request.after?.(res);
    attack.cells++;
    attack.rounds++;
    const route = routeVerdict(res);
    const decided = checkVerdict(check, permission);
    attack.matrix[name]![caller.kind] = `${describeRoute(res)} | ${describeCheck(check)}`;
    if (route.startsWith('other')) {
      attack.violation(`${name} as ${caller.kind}: route answered ${describeRoute(res)} (state decided; the cell is wrong): ${res.text.slice(0, 160)}`);
      return;
    }
    attack.check(route === decided, `${name} as ${caller.kind}: route ${describeRoute(res)}, check of ${permission} ${describeCheck(check)}`);
  }

  // The expired key and the expired membership must have expired before the first check.
  await sleep(Math.max(0, lastExpiry + 50 - Date.now()));
  attack.note('setupS', ((Date.now() - attack.started) / 1000).toFixed(1));

  const before = await askAll();
  const names = Object.keys(ROUTE_PERMISSIONS) as RouteName[];
  for (const name of names) attack.matrix[name] = {};
  // Each route walks the caller kinds one after another, the routes side by side; transfers run
  // alone at the end (while P is transferred and given back, its owner is someone else).
  await Promise.all(
    names.filter((name) => name !== 'POST owner').map(async (name) => {
      for (const caller of kinds) await cell(name, caller, before);
    }),
  );
  for (const caller of kinds) await cell('POST owner', caller, before);
  const after = await askAll();
  for (const caller of kinds) {
    const [b, a] = [before.get(caller.kind)!, after.get(caller.kind)!];
    const summary = (res: Reply) => (res.status === 200 ? JSON.stringify(res.body.results) : `${res.status}`);
    attack.check(summary(b) === summary(a), `the check as ${caller.kind} moved during the walk: ${summary(b)} → ${summary(a)}`);
  }

  // ---- the custom permission: no route enforces it; the check alone decides ----------------------
  const customExpect: Partial<Record<AgreementCallerKind, Verdict>> = {
    customRole: 'allowed',
    customRoleOnly: 'allowed',
    admin: 'allowed',
    owner: 'allowed',
    globalSameOrg: 'allowed',
    globalPinnedHere: 'allowed',
    viewer: 'denied',
    manager: 'denied',
    read: 'denied',
    nonMember: 'hidden',
    globalOtherOrg: 'hidden',
  };
  attack.matrix[CUSTOM] = {};
  for (const [kind, expected] of Object.entries(customExpect)) {
    const check = answerFor(before.get(kind as AgreementCallerKind)!, CUSTOM);
    attack.cells++;
    attack.rounds++;
    attack.matrix[CUSTOM]![kind] = describeCheck(check);
    attack.check(checkVerdict(check, CUSTOM) === expected, `check of custom ${CUSTOM} as ${kind}: ${describeCheck(check)}, spec says ${expected}`);
  }
  const customReason = answerFor(before.get('customRole')!, CUSTOM).body?.results?.[0]?.reason;
  attack.check(customReason === `role:${customRoleId}`, `check of ${CUSTOM} as customRole: reason ${customReason}, expected role:${customRoleId}`);

  // ---- the documented exception, measured: a read-write key's self-join ---------------------------
  {
    const u = await memberOfP();
    const selfKey = await A.key(u, 'read-write');
    const check = await attack.send(t, 'POST', `/api/projects/${P._id}/check`, { key: selfKey, body: { permissions: ['members:manage'] } });
    const join = await attack.send(t, 'POST', users, { key: selfKey, body: { _id: u, roles: ['viewer'] } });
    attack.note('selfJoinNotWalked', `route ${describeRoute(join)} / check members:manage ${describeCheck(check).replace(/ /g, '_')}`);
  }

  attack.note('cells', attack.cells);
  attack.note('routes', names.length);
  attack.note('callerKinds', kinds.length);
  attack.note('customCells', Object.keys(customExpect).length);
  attack.note('disagreements', attack.violations.length);
  await checkInvariants(attack, [A.orgId, B.orgId]);
  return attack;
}

/** The matrix as text, one row per route: `kind=route|check` cells. */
export function formatAgreementMatrix(matrix: AgreementAttack['matrix']): string {
  return Object.entries(matrix)
    .map(([route, row]) => `${route}:\n${Object.entries(row).map(([kind, v]) => `    ${kind.padEnd(22)} ${v}`).join('\n')}`)
    .join('\n');
}
