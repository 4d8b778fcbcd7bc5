/**
 * Broken object-level authorization: every route × every kind of caller, with the exact status the
 * spec gives; no body carries data of a project or organization the caller cannot see; every 404
 * ("exists but hidden" or "does not exist") and every 401 is byte-identical apart from the request ID.
 */
import { SECRET_BODY_LENGTH, formatApiKey, parseApiKey, secretWithChecksum } from '../../../functions/domain/api-key.js';
import { ID_BODY, ID_PREFIX, newId } from '../../../functions/domain/ids.js';
import type { Role } from '../../../functions/domain/permissions.js';
import { newOrg, testApp, type Reply, type TestApp } from '../../support/app.js';
import { Attack, problemIssues, sleep, withoutRequestId, type Org } from '../../support/attack.js';
import { checkInvariants } from '../../support/table.js';

export const CALLER_KINDS = [
  'none',
  'garbage',
  'revoked',
  'expired',
  'read',
  'viewer',
  'editor',
  'manager',
  'admin',
  'owner',
  'nonMember',
  'pinnedElsewhere',
  'globalOtherOrg',
  'globalSameOrg',
  'orgAdminNonMember',
] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

interface Caller {
  kind: CallerKind;
  key: string | null;
  userId: string | null;
  orgId: string | null;
  orgAdmin: boolean;
  global: boolean;
  pin: string | null;
  memberOf: Set<string>;
}

interface Entry {
  kind: 'org' | 'usr' | 'prj' | 'pu' | 'key';
  orgId: string;
  projectId?: string;
  userId?: string;
  members?: Set<string>;
}

const UNAUTHENTICATED: CallerKind[] = ['none', 'garbage', 'revoked', 'expired'];
const HIDDEN: CallerKind[] = ['nonMember', 'pinnedElsewhere', 'globalOtherOrg', 'orgAdminNonMember'];
const MANAGE: CallerKind[] = ['manager', 'admin', 'owner', 'globalSameOrg'];
const ORG_ADMIN: CallerKind[] = ['owner', 'orgAdminNonMember', 'globalSameOrg', 'globalOtherOrg'];

interface Cell {
  path: string;
  body?: unknown;
  /** The same request about something that does not exist (its 404 must equal the hidden one). */
  missingPath?: string;
  after?: (res: Reply) => Promise<void>;
}

interface Route {
  name: string;
  method: string;
  /** An audit log names who acted (users, key IDs) by design: only project and org boundaries are checked. */
  actorsVisible?: boolean;
  /** Builds the request for one caller (fresh targets for writes, so cells do not interfere). */
  cell: (caller: Caller) => Promise<Cell>;
  expect: (kind: CallerKind) => number;
}

/** An org, user, project, membership or key ID anywhere in a text. */
const ID = new RegExp(`\\b(${(['org', 'user', 'project', 'projectUser', 'key'] as const).map((kind) => ID_PREFIX[kind]).join('|')})_${ID_BODY}\\b`, 'g');
const randomId = (kind: 'project' | 'projectUser' | 'user' | 'key') => newId(kind);

export async function isolationMatrix(
  options: { only?: string[]; skip?: string[] } = {},
): Promise<Attack & { cells: number; matrix: Record<string, Record<string, number>> }> {
  const attack = new Attack('isolation/matrix') as Attack & { cells: number; matrix: Record<string, Record<string, number>> };
  attack.cells = 0;
  attack.matrix = {};
  const t: TestApp = testApp();
  const A = await newOrg(t, 'Isolation A');
  const B = await newOrg(t, 'Isolation B');
  const registry = new Map<string, Entry>();
  const reg = (id: string, entry: Entry) => registry.set(id, entry);
  reg(A.orgId, { kind: 'org', orgId: A.orgId });
  reg(B.orgId, { kind: 'org', orgId: B.orgId });
  reg(A.owner.userId, { kind: 'usr', orgId: A.orgId, members: new Set() });
  reg(B.owner.userId, { kind: 'usr', orgId: B.orgId, members: new Set() });

  async function user(org: Org, orgRole: 'admin' | 'member' = 'member') {
    const id = await org.user({ orgRole });
    reg(id, { kind: 'usr', orgId: org.orgId, members: new Set() });
    return id;
  }
  async function key(org: Org, userId: string, scope: 'read' | 'read-write' | 'global', extra: { projectId?: string; expiresAt?: string } = {}) {
    const secret = await org.key(userId, scope, extra);
    reg(parseApiKey(secret)!.keyId, { kind: 'key', orgId: org.orgId, userId });
    return secret;
  }
  async function member(org: Org, projectId: string, userId: string, roles: Role[]) {
    const pu = await org.member(projectId, userId, roles);
    reg(pu._id, { kind: 'pu', orgId: org.orgId, projectId, userId });
    registry.get(userId)?.members?.add(projectId);
    return pu;
  }
  async function project(org: Org, name: string, ownerKey: string, ownerUserId: string) {
    const p = await org.project(name, ownerKey);
    reg(p._id, { kind: 'prj', orgId: org.orgId, projectId: p._id });
    reg(p.ownerProjectUserId, { kind: 'pu', orgId: org.orgId, projectId: p._id, userId: ownerUserId });
    registry.get(ownerUserId)?.members?.add(p._id);
    return p;
  }

  // ---- the world -------------------------------------------------------------------------------
  const expiringKey = (async () => {
    const u = await user(A);
    const expiresAt = Date.now() + 2_000;
    return { userId: u, expiresAt, key: await key(A, u, 'read-write', { expiresAt: new Date(expiresAt).toISOString() }) };
  })();
  const ownerUser = await user(A, 'admin');
  const ownerKey = await key(A, ownerUser, 'read-write');
  const P = await project(A, 'P', ownerKey, ownerUser);
  const Q = await project(A, 'Q', ownerKey, ownerUser);
  const R = await project(B, 'R', B.adminKey, B.owner.userId);
  const expiring = await expiringKey;
  await member(A, P._id, expiring.userId, ['admin']);
  const callers = new Map<CallerKind, Caller>();
  const base = (kind: CallerKind, over: Partial<Caller>): Caller => ({
    kind, key: null, userId: null, orgId: A.orgId, orgAdmin: false, global: false, pin: null, memberOf: new Set(), ...over,
  });
  callers.set('none', base('none', { orgId: null }));
  const garbageId = randomId('key');
  // Well-formed (valid checksum), so it is refused by the table lookup, not by the format check.
  callers.set('garbage', base('garbage', { key: formatApiKey(garbageId, secretWithChecksum(garbageId, 'A'.repeat(SECRET_BODY_LENGTH))), orgId: null }));
  for (const role of ['viewer', 'editor', 'manager', 'admin'] as const) {
    const u = await user(A);
    await member(A, P._id, u, [role]);
    callers.set(role, base(role, { key: await key(A, u, 'read-write'), userId: u, memberOf: new Set([P._id]) }));
  }
  {
    const u = await user(A);
    await member(A, P._id, u, ['admin']);
    callers.set('read', base('read', { key: await key(A, u, 'read'), userId: u, memberOf: new Set([P._id]) }));
    const revoked = await key(A, u, 'read-write');
    const revokeRes = await attack.send(t, 'DELETE', `/api/keys/${parseApiKey(revoked)!.keyId}`, { key: A.adminKey });
    if (revokeRes.status !== 204) throw new Error(`revoke: ${revokeRes.status}`);
    callers.set('revoked', base('revoked', { key: revoked, userId: u, orgId: null }));
  }
  callers.set('expired', base('expired', { key: expiring.key, userId: expiring.userId, orgId: null }));
  callers.set('owner', base('owner', { key: ownerKey, userId: ownerUser, orgAdmin: true, memberOf: new Set([P._id, Q._id]) }));
  {
    const u = await user(A);
    callers.set('nonMember', base('nonMember', { key: await key(A, u, 'read-write'), userId: u }));
  }
  {
    const u = await user(A);
    await member(A, P._id, u, ['admin']);
    await member(A, Q._id, u, ['viewer']);
    callers.set('pinnedElsewhere', base('pinnedElsewhere', { key: await key(A, u, 'read-write', { projectId: Q._id }), userId: u, pin: Q._id, memberOf: new Set([P._id, Q._id]) }));
  }
  callers.set('globalOtherOrg', base('globalOtherOrg', { key: B.adminKey, userId: B.owner.userId, orgId: B.orgId, orgAdmin: true, global: true, memberOf: new Set([R._id]) }));
  callers.set('globalSameOrg', base('globalSameOrg', { key: A.adminKey, userId: A.owner.userId, orgAdmin: true, global: true }));
  {
    const u = await user(A, 'admin');
    callers.set('orgAdminNonMember', base('orgAdminNonMember', { key: await key(A, u, 'read-write'), userId: u, orgAdmin: true }));
  }
  const directoryUser = await user(A);
  const viewerPu = await member(A, P._id, directoryUser, ['viewer']);

  const projectsOf = (orgId: string) => [...registry.entries()].filter(([, e]) => e.kind === 'prj' && e.orgId === orgId).map(([id]) => id);
  function visibleProjects(c: Caller): Set<string> {
    if (!c.orgId) return new Set();
    const all = c.global ? projectsOf(c.orgId) : [...c.memberOf];
    return new Set(c.pin ? all.filter((p) => p === c.pin && (c.global || c.memberOf.has(p))) : all);
  }
  /** Does a 2xx body name anything this caller may not see? */
  function leaks(c: Caller, text: string, actorsVisible = false): string[] {
    const found: string[] = [];
    const visible = visibleProjects(c);
    // Cursors are opaque (encrypted): a readable one would disclose its start key.
    const cursors = [...text.matchAll(/"nextCursor":"([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64url').toString('latin1'));
    for (const cursor of cursors) if (/"PK"|"SK"|"k":/.test(cursor) || (cursor.match(ID) ?? []).length > 0) found.push(`a readable cursor (${cursor.slice(0, 40)}…)`);
    for (const id of new Set(text.match(ID) ?? [])) {
      const e = registry.get(id);
      if (!e) continue; // created by this very request
      let ok = e.orgId === c.orgId;
      if (ok && (e.kind === 'prj' || e.kind === 'pu')) ok = visible.has(e.projectId!);
      if (ok && actorsVisible && (e.kind === 'usr' || e.kind === 'key')) continue;
      if (ok && e.kind === 'usr') ok = c.orgAdmin || c.global || id === c.userId || [...(e.members ?? [])].some((p) => visible.has(p));
      if (ok && e.kind === 'key') ok = c.orgAdmin || c.global || e.userId === c.userId;
      if (!ok) found.push(`${id} (${e.kind} of ${e.orgId === c.orgId ? 'this org' : 'another org'}${e.projectId ? `, project ${e.projectId}` : ''})`);
    }
    return found;
  }

  const seeP = (k: CallerKind) => (HIDDEN.includes(k) ? 404 : 200);
  const manageP = (ok: number) => (k: CallerKind) => (HIDDEN.includes(k) ? 404 : MANAGE.includes(k) ? ok : 403);
  const orgWrite = (ok: number) => (k: CallerKind) => (ORG_ADMIN.includes(k) ? ok : 403);
  const orgAdminOfA = (ok: number) => (k: CallerKind) => (k === 'globalOtherOrg' ? 404 : ORG_ADMIN.includes(k) ? ok : 403);
  const users = (p: string) => `/api/projects/${p}/users`;
  const freshViewer = async () => member(A, P._id, await user(A), ['viewer']);

  const routes: Route[] = [
    { name: 'GET users', method: 'GET', expect: seeP, cell: async () => ({ path: users(P._id), missingPath: users(randomId('project')) }) },
    { name: 'GET users/me', method: 'GET', expect: seeP, cell: async () => ({ path: `${users(P._id)}/me`, missingPath: `${users(randomId('project'))}/me` }) },
    {
      name: 'GET users/:pu',
      method: 'GET',
      expect: seeP,
      cell: async (c) => ({
        path: `${users(P._id)}/${viewerPu._id}`,
        // For callers who see P: a project user that does not exist; for the others: a project that does not exist.
        missingPath: HIDDEN.includes(c.kind) ? `${users(randomId('project'))}/${viewerPu._id}` : `${users(P._id)}/${randomId('projectUser')}`,
      }),
    },
    {
      name: 'POST users',
      method: 'POST',
      expect: manageP(201),
      cell: async () => {
        const target = await user(A);
        return {
          path: users(P._id),
          body: { _id: target },
          missingPath: users(randomId('project')),
          after: async (res) => {
            if (res.status === 201) {
              reg(res.body._id, { kind: 'pu', orgId: A.orgId, projectId: P._id, userId: target });
              registry.get(target)?.members?.add(P._id);
            }
          },
        };
      },
    },
    {
      name: 'PATCH users/:pu',
      method: 'PATCH',
      expect: manageP(200),
      cell: async () => {
        const target = await freshViewer();
        return { path: `${users(P._id)}/${target._id}`, body: { tags: ['patched'] }, missingPath: `${users(randomId('project'))}/${target._id}` };
      },
    },
    {
      name: 'DELETE users/:pu',
      method: 'DELETE',
      expect: manageP(204),
      cell: async () => {
        const target = await freshViewer();
        return { path: `${users(P._id)}/${target._id}`, missingPath: `${users(randomId('project'))}/${target._id}` };
      },
    },
    {
      name: 'POST owner',
      method: 'POST',
      expect: (k) => (HIDDEN.includes(k) ? 404 : k === 'owner' || k === 'globalSameOrg' ? 200 : 403),
      cell: async () => {
        const target = await freshViewer();
        return {
          path: `/api/projects/${P._id}/owner`,
          body: { projectUserId: target._id },
          missingPath: `/api/projects/${randomId('project')}/owner`,
          after: async (res) => {
            if (res.status !== 200) return;
            // Give P back to its owner so the next cells see the same world.
            const back = await attack.send(t, 'POST', `/api/projects/${P._id}/owner`, { key: A.adminKey, body: { projectUserId: P.ownerProjectUserId } });
            if (back.status !== 200) throw new Error(`transfer back: ${back.status} ${back.text}`);
          },
        };
      },
    },
    {
      name: 'GET audit',
      method: 'GET',
      actorsVisible: true,
      // Effective `members:manage` (a read key keeps only `…:read` permissions, SPEC §6) and global keys.
      expect: (k) => (HIDDEN.includes(k) ? 404 : ['manager', 'admin', 'owner', 'globalSameOrg'].includes(k) ? 200 : 403),
      cell: async () => ({ path: `/api/projects/${P._id}/audit`, missingPath: `/api/projects/${randomId('project')}/audit` }),
    },
    { name: 'GET project', method: 'GET', expect: seeP, cell: async () => ({ path: `/api/projects/${P._id}`, missingPath: `/api/projects/${randomId('project')}` }) },
    { name: 'GET projects', method: 'GET', expect: () => 200, cell: async () => ({ path: '/api/projects' }) },
    {
      name: 'POST projects',
      method: 'POST',
      expect: orgWrite(201),
      cell: async () => ({ path: '/api/projects', body: { name: 'From the matrix' } }),
    },
    { name: 'GET org users', method: 'GET', expect: (k) => (ORG_ADMIN.includes(k) ? 200 : 403), cell: async () => ({ path: '/api/users' }) },
    { name: 'POST org users', method: 'POST', expect: orgWrite(201), cell: async () => ({ path: '/api/users', body: { name: 'From the matrix' } }) },
    {
      name: 'GET org user',
      method: 'GET',
      expect: orgAdminOfA(200),
      cell: async () => ({ path: `/api/users/${directoryUser}`, missingPath: `/api/users/${randomId('user')}` }),
    },
    {
      name: 'DELETE org user',
      method: 'DELETE',
      expect: orgAdminOfA(204),
      cell: async () => {
        const target = await user(A);
        return { path: `/api/users/${target}`, missingPath: `/api/users/${randomId('user')}` };
      },
    },
    { name: 'GET keys', method: 'GET', expect: () => 200, cell: async () => ({ path: '/api/keys' }) },
    {
      name: 'POST keys (own)',
      method: 'POST',
      expect: (k) => (k === 'read' || k === 'pinnedElsewhere' ? 403 : 201),
      cell: async (c) => ({ path: '/api/keys', body: { userId: c.userId ?? directoryUser, scope: 'read' } }),
    },
    {
      name: 'GET key (another user’s)',
      method: 'GET',
      // Readable by whoever could list it (org admins of A, any scope); hidden like a missing key otherwise.
      expect: (k) => (ORG_ADMIN.includes(k) && k !== 'globalOtherOrg' ? 200 : 404),
      cell: async () => {
        const target = await key(A, directoryUser, 'read');
        return { path: `/api/keys/${parseApiKey(target)!.keyId}`, missingPath: `/api/keys/${randomId('key')}` };
      },
    },
    {
      name: 'DELETE key (another user’s)',
      method: 'DELETE',
      // A read key never writes (403 first); a key the caller could not list is hidden like a
      // missing one (404: no existence oracle for keys, SPEC §1); org admins of A revoke it.
      expect: (k) => (k === 'read' ? 403 : ORG_ADMIN.includes(k) && k !== 'globalOtherOrg' ? 204 : 404),
      cell: async () => {
        const target = await key(A, directoryUser, 'read');
        return { path: `/api/keys/${parseApiKey(target)!.keyId}`, missingPath: `/api/keys/${randomId('key')}` };
      },
    },
  ];

  // The expiring key must have expired before the matrix runs.
  await sleep(Math.max(0, expiring.expiresAt + 50 - Date.now()));

  const bodies404 = new Map<string, string>();
  const bodies401 = new Map<string, string>();
  // GET /api/projects/:id/audit is in the spec; while no caller at all can reach it, it is reported, not asserted.
  const auditProbe = await attack.send(t, 'GET', `/api/projects/${P._id}/audit`, { key: A.adminKey });
  const auditRoute = auditProbe.status !== 404;
  for (const route of routes) {
    if (options.only && !options.only.includes(route.name)) continue;
    if (options.skip?.includes(route.name)) continue;
    attack.rounds++;
    attack.matrix[route.name] = {};
    for (const kind of CALLER_KINDS) {
      const caller = callers.get(kind)!;
      const cell = await route.cell(caller);
      const res = await attack.send(t, route.method, cell.path, { key: caller.key, body: cell.body });
      attack.cells++;
      attack.matrix[route.name]![kind] = res.status;
      await cell.after?.(res);
      const expected = UNAUTHENTICATED.includes(kind) ? 401 : route.expect(kind);
      if (route.name === 'GET audit' && !auditRoute) continue; // not implemented: see the report
      const where = `${route.method} ${route.name} as ${kind}`;
      attack.check(res.status === expected, `${where}: ${res.status}, spec says ${expected} (${res.text.slice(0, 120)})`);
      for (const issue of problemIssues(res)) attack.violation(`${where}: ${issue}`);
      if (res.status < 300) for (const leak of leaks(caller, res.text, route.actorsVisible)) attack.violation(`${where}: body names ${leak}`);
      if (res.status >= 400) {
        const named = [...new Set(res.text.match(ID) ?? [])];
        attack.check(named.length === 0, `${where}: error body names ${named.join(', ')}`);
      }
      if (res.status === 404) bodies404.set(where, withoutRequestId(res));
      if (res.status === 401) bodies401.set(where, withoutRequestId(res));
      if (cell.missingPath && !UNAUTHENTICATED.includes(kind)) {
        const missing = await attack.send(t, route.method, cell.missingPath, { key: caller.key, body: cell.body });
        const mwhere = `${route.method} ${route.name} (does not exist) as ${kind}`;
        if (expected === 404 || [200, 201, 204].includes(expected)) {
          attack.check(missing.status === 404, `${mwhere}: ${missing.status}, expected 404`);
        }
        if (missing.status === 404) bodies404.set(mwhere, withoutRequestId(missing));
        if (expected === 404 && missing.status === 404) {
          attack.check(withoutRequestId(missing) === withoutRequestId(res), `${where}: the hidden 404 differs from the missing 404`);
          attack.add('hiddenVsMissingCompared');
        }
        // Scope comes before visibility: a `read` key's write is the same 403 whether the target
        // exists or not (DELETE /api/keys/:id looked the key up first: 403 told it existed).
        if (kind === 'read' && route.method !== 'GET' && expected === 403) {
          attack.check(withoutRequestId(missing) === withoutRequestId(res), `${mwhere}: ${missing.status}, but ${res.status} when it exists`);
          attack.add('readWriteVsMissingCompared');
        }
      }
    }
  }
  const distinct404 = new Set(bodies404.values());
  const distinct401 = new Set(bodies401.values());
  attack.check(distinct404.size === 1, `${distinct404.size} different 404 bodies: ${[...distinct404].join(' | ')}`);
  attack.check(distinct401.size === 1, `${distinct401.size} different 401 bodies`);
  attack.note('404bodies', bodies404.size);
  attack.note('401bodies', bodies401.size);
  attack.note('auditRoute', auditRoute ? 'checked' : 'not implemented (404 for every caller)');
  attack.note('cells', attack.cells);
  await checkInvariants(attack, [A.orgId, B.orgId]);
  return attack;
}

/** Callers of one project probing another: list, get and guessed IDs never cross the boundary. */
export async function crossProjectProbes(): Promise<Attack> {
  const attack = new Attack('isolation/cross-project-probes');
  const t = testApp();
  const A = await newOrg(t, 'Probes');
  const P = await A.project('P');
  const Q = await A.project('Q');
  const inQUser = await A.user();
  const inQ = await A.member(Q._id, inQUser, ['viewer']);
  const adminOfP = await A.memberWithKey(P._id, ['admin']);
  const attempts: [string, string, unknown?][] = [
    // A project user of Q addressed through P (the key's own project): never found.
    ['GET', `/api/projects/${P._id}/users/${inQ._id}`],
    ['PATCH', `/api/projects/${P._id}/users/${inQ._id}`, { tags: ['x'] }],
    ['DELETE', `/api/projects/${P._id}/users/${inQ._id}`],
    // Q itself.
    ['GET', `/api/projects/${Q._id}/users`],
    ['GET', `/api/projects/${Q._id}/users/${inQ._id}`],
    // Adding someone else to Q (adding itself as viewer is allowed to any read-write key of the org).
    ['POST', `/api/projects/${Q._id}/users`, { _id: inQUser }],
    ['POST', `/api/projects/${Q._id}/owner`, { projectUserId: inQ._id }],
  ];
  attack.rounds = 1;
  for (const [method, path, body] of attempts) {
    const res = await attack.send(t, method, path, { key: adminOfP.key, body });
    attack.check(res.status === 404, `${method} ${path}: ${res.status}`);
    attack.check(!res.text.includes(inQ._id) && !res.text.includes(Q._id), `${method} ${path}: body names Q's data`);
  }
  const inQAfter = await attack.send(t, 'GET', `/api/projects/${Q._id}/users/${inQ._id}`, { key: A.adminKey });
  attack.check(inQAfter.status === 200 && inQAfter.body.tags.length === 0, 'the probes changed Q');
  await checkInvariants(attack, [A.orgId]);
  return attack;
}

/**
 * Another organization's user listed through `GET /api/keys?userId=`: the listing is by user, then
 * filtered by org, so a foreign user with more keys than `limit` answers an empty page with a
 * cursor — which tells that the user exists and has keys.
 */
export async function foreignKeyListing(): Promise<Attack> {
  const attack = new Attack('isolation/foreign-key-listing');
  const t = testApp();
  const A = await newOrg(t, 'Key listing A');
  const B = await newOrg(t, 'Key listing B');
  const foreign = await B.user();
  await B.key(foreign, 'read');
  await B.key(foreign, 'read');
  attack.rounds = 1;
  const real = await attack.send(t, 'GET', `/api/keys?userId=${foreign}&limit=1`, { key: A.adminKey });
  const unknown = await attack.send(t, 'GET', `/api/keys?userId=${newId('user')}&limit=1`, { key: A.adminKey });
  attack.check(
    real.status === unknown.status && withoutRequestId(real) === withoutRequestId(unknown),
    `another org's user (${real.status} ${real.text}) and an unknown user (${unknown.status} ${unknown.text}) answer differently`,
  );
  return attack;
}

/** A key pinned to project P must not change project Q — not even through org-level routes. */
export async function pinnedKeyReach(): Promise<Attack> {
  const attack = new Attack('isolation/pinned-key-reach');
  const t = testApp();
  const A = await newOrg(t, 'Pinned reach');
  const P = await A.project('P');
  const Q = await A.project('Q');
  const pinnedGlobal = await A.key(A.owner.userId, 'global', { projectId: P._id });
  const inQOnly = await A.user();
  const pu = await A.member(Q._id, inQOnly, ['viewer']);
  attack.rounds = 1;
  const res = await attack.send(t, 'DELETE', `/api/users/${inQOnly}`, { key: pinnedGlobal });
  const after = await attack.send(t, 'GET', `/api/projects/${Q._id}/users/${pu._id}`, { key: A.adminKey });
  attack.check(after.status === 200, `a key pinned to P removed a member of Q (DELETE /api/users answered ${res.status}; Q's member now ${after.status})`);
  await checkInvariants(attack, [A.orgId]);
  return attack;
}
