/**
 * Hostile input: property-based fuzzing (fast-check) of every route's path parameters, query and
 * body — wrong types, huge strings, unicode and lone surrogates, `#`, `/`, `%00`, prototype keys,
 * deep nesting, duplicate JSON keys, 64 KiB + 1 bodies, wrong content types. Every answer: never a
 * 500, never a stack trace, always problem+json for errors; and the table's item count is unchanged
 * by every rejected write. The fuzz runs on a table of its own, so the count is exact while other
 * test files write to the shared one.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { ensureTable } from '../../../functions/store/schema.js';
import { newId } from '../../../functions/domain/ids.js';
import { inspectTable } from '../../../scripts/invariants/index.js';
import { newOrg, testApp, type Reply, type TestApp } from '../../support/app.js';
import { Attack, problemIssues } from '../../support/attack.js';
import { localDynamoClient, tableTarget } from '../../support/table.js';

// ---- a table of the fuzz's own ------------------------------------------------------------------

export async function fuzzTable() {
  const { endpoint } = tableTarget();
  const tableName = `fuzz-${randomBytes(4).toString('hex')}`;
  const raw = localDynamoClient(endpoint);
  await ensureTable(raw, tableName);
  const doc = DynamoDBDocumentClient.from(raw);
  async function count(): Promise<number> {
    let n = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: start }));
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return n;
  }
  return { tableName, raw, count, t: testApp({ tableName }) };
}

// ---- arbitraries -------------------------------------------------------------------------------------

const NASTY = [
  '#', '/', '%00', '\u0000', '%', '%%', '%E0%A4%A', '%2F', '%23', '%2e%2e', '..', '../..', '?', '&', '=', ';', ',',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf',
  'PK', 'SK', 'PROJECT#x', 'USER#x', 'KEY#', 'ORG#', 'AUDIT#', 'MEMBER#', 'PU#', '*', '$', '${x}', '{{x}}',
  '\ud800', '\udfff', 'a\ud800b', '\u202e', '\ufeff', '\u0085', '\u2028', 'Ω≈ç√', '𝕏', '👩‍👩‍👧', 'ﷺ', 'İ', 'ß',
  'null', 'undefined', 'true', 'NaN', 'Infinity', '-1', '0', '1e309', '0x10', ' ', '\t', '\n', '\r\n',
  'admin', 'owner', 'viewer', 'global', "' OR 1=1 --", '<script>alert(1)</script>', 'puk_', 'Bearer',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY), fc.string(), fc.constantFrom(...NASTY)).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 70_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('prj_', 'pu_', 'usr_', 'key_').chain((p) => fc.string({ unit: 'binary-ascii', minLength: 20, maxLength: 30 }).map((s) => p + s)) },
);

const KEYS = ['_id', 'roles', 'tags', 'name', 'email', 'kind', 'orgRole', 'userId', 'scope', 'projectId', 'expiresAt', 'projectUserId',
  '__proto__', 'constructor', 'prototype', 'isOwner', 'version', 'orgId', 'permissions', 'PK', 'SK', 'entity', 'secretHash', 'revokedAt'];
const hostileKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: hostileString });

const enc = (v: unknown) => JSON.stringify(v);
/** encodeURIComponent, or raw UTF-8 percent-escapes for what it refuses (lone surrogates). */
const pct = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  }
};
/** JSON text (not values): so duplicate keys, `__proto__` keys and odd numbers survive. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constantFrom('null', 'true', 'false', '0', '-0', '1e400', '-1', '1.5', '[]', '{}', '""'),
    fc.double().map((d) => (Number.isFinite(d) ? String(d) : '0')),
    hostileString.map(enc),
    fc.array(tie('value'), { maxLength: 5 }).map((a) => `[${a.join(',')}]`),
    fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 6 }).map((kv) => `{${kv.map(([k, v]) => `${enc(k)}:${v}`).join(',')}}`),
  ),
})).value;

export interface World {
  t: TestApp;
  orgId: string;
  adminKey: string;
  managerKey: string;
  projectId: string;
  projectUserId: string;
  userId: string;
  victimKeyId: string;
  cursor: string;
}

/** A small org on the fuzz table: the IDs the fuzz mixes in so some requests reach DynamoDB. */
export async function fuzzWorld(t: TestApp): Promise<World> {
  const org = await newOrg(t, 'Fuzz');
  const project = await org.project('Fuzz');
  const manager = await org.memberWithKey(project._id, ['manager']);
  const userId = await org.user();
  const pu = await org.member(project._id, userId, ['viewer'], ['t']);
  const victim = await org.key(userId, 'read');
  await org.member(project._id, await org.user(), ['editor']);
  const page = await t.app.request(`/api/projects/${project._id}/users?limit=1`, { headers: { Authorization: `Bearer ${org.adminKey}` } });
  const cursor = (await page.json()).nextCursor as string;
  return {
    t,
    orgId: org.orgId,
    adminKey: org.adminKey,
    managerKey: manager.key,
    projectId: project._id,
    projectUserId: pu._id,
    userId,
    victimKeyId: victim.split('_').slice(1, 3).join('_'),
    cursor,
  };
}

type Slot = 'p' | 'pu' | 'u' | 'k';
export interface RouteSpec {
  method: string;
  template: string;
  query?: boolean;
  body?: (w: World) => fc.Arbitrary<string>;
}

/** A body object of plausible fields with hostile values (and hostile extras), as JSON text with possible duplicate keys. */
function objectOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const pairs = Object.entries(fields).map(([k, arb]) =>
    fc.option(fc.oneof({ weight: 3, arbitrary: arb.map(enc) }, { weight: 2, arbitrary: jsonText }).map((v) => `${enc(k)}:${v}`), { nil: undefined }),
  );
  const extras = fc.array(fc.tuple(hostileKey, jsonText).map(([k, v]) => `${enc(k)}:${v}`), { maxLength: 3 });
  return fc.tuple(fc.tuple(...pairs), extras, fc.boolean()).map(([fieldPairs, extra, duplicate]) => {
    const all = [...fieldPairs.filter((p): p is string => p !== undefined), ...extra];
    if (duplicate && all.length > 0) all.push(all[0]!); // the same key twice
    return `{${all.join(',')}}`;
  });
}

const roleList = fc.array(fc.oneof(fc.constantFrom('viewer', 'editor', 'manager', 'admin', 'owner', 'Admin', 'admin ', ''), hostileString), { maxLength: 25 });
const tagList = fc.array(fc.oneof(fc.string({ maxLength: 64 }), hostileString), { maxLength: 25 });

export const ROUTES: RouteSpec[] = [
  { method: 'GET', template: '/api/projects/{p}/users', query: true },
  { method: 'GET', template: '/api/projects/{p}/users/me', query: true },
  { method: 'GET', template: '/api/projects/{p}/users/{pu}' },
  { method: 'POST', template: '/api/projects/{p}/users', body: (w) => objectOf({ _id: fc.oneof(fc.constant(w.userId), hostileString), roles: roleList, tags: tagList }) },
  { method: 'PATCH', template: '/api/projects/{p}/users/{pu}', body: () => objectOf({ roles: roleList, tags: tagList }) },
  { method: 'DELETE', template: '/api/projects/{p}/users/{pu}' },
  { method: 'POST', template: '/api/projects/{p}/owner', body: (w) => objectOf({ projectUserId: fc.oneof(fc.constant(w.projectUserId), hostileString) }) },
  { method: 'GET', template: '/api/projects', query: true },
  { method: 'POST', template: '/api/projects', body: () => objectOf({ name: hostileString }) },
  { method: 'GET', template: '/api/projects/{p}' },
  { method: 'GET', template: '/api/projects/{p}/audit', query: true },
  { method: 'GET', template: '/api/users', query: true },
  {
    method: 'POST',
    template: '/api/users',
    body: () =>
      objectOf({
        name: hostileString,
        email: fc.oneof(fc.emailAddress(), hostileString.map((s) => `${s}@example.com`), hostileString),
        kind: fc.oneof(fc.constantFrom('human', 'api'), hostileString),
        orgRole: fc.oneof(fc.constantFrom('admin', 'member', 'owner'), hostileString),
      }),
  },
  { method: 'GET', template: '/api/users/{u}' },
  { method: 'DELETE', template: '/api/users/{u}' },
  { method: 'GET', template: '/api/keys', query: true },
  {
    method: 'POST',
    template: '/api/keys',
    body: (w) =>
      objectOf({
        userId: fc.oneof(fc.constant(w.userId), hostileString),
        scope: fc.oneof(fc.constantFrom('read', 'read-write', 'global'), hostileString),
        projectId: fc.oneof(fc.constant(w.projectId), hostileString),
        name: hostileString,
        expiresAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2999-01-01T00:00:00Z', '2999-01-01', '+275760-09-13T00:00:00.000Z'), hostileString),
      }),
  },
  { method: 'DELETE', template: '/api/keys/{k}' },
];

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json', 'application/json;charset=utf-16',
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '', 'application/json, text/plain', 'json',
];

const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);
function sized(bytes: number) {
  const prefix = '{"name":"';
  const suffix = '"}';
  return prefix + 'x'.repeat(bytes - prefix.length - suffix.length) + suffix;
}
const SPECIAL_BODIES = [
  '', ' ', '{', '{"_id":', '\ufeff{}', 'null', '[]', '"string"', '1', '{"a":1}{"b":2}', '{"_id":"x",}', "{'_id':'x'}", '{"__proto__":{"isOwner":true}}',
  '{"constructor":{"prototype":{"isOwner":true}}}', deep(5_000, '[', ']'), deep(3_000, '{"a":', '}'), sized(64 * 1024 + 1), sized(64 * 1024), '\u0000',
];

/** Header values a client can actually send (ByteString, no CR/LF/NUL). */
const headerValue = fc.oneof(
  fc.constantFrom('*', '"1"', 'W/"1"', '1', '"0"', '"999999999999999999999"', '"1", "2"', '""', 'W/', '"\u00ff"', 'a'.repeat(300), '__proto__'),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s)),
);

export interface FuzzRequest {
  method: string;
  path: string;
  body?: Uint8Array;
  headers: Record<string, string>;
  useManager: boolean;
}

export function requestArb(w: World, spec: RouteSpec): fc.Arbitrary<FuzzRequest> {
  const real: Record<Slot, string> = { p: w.projectId, pu: w.projectUserId, u: w.userId, k: w.victimKeyId };
  const fresh: Record<Slot, () => string> = { p: () => newId('project'), pu: () => newId('projectUser'), u: () => newId('user'), k: () => newId('key') };
  const param = (slot: Slot) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(real[slot]) },
      { weight: 1, arbitrary: fc.constant(slot).map((s) => fresh[s]()) },
      { weight: 3, arbitrary: fc.tuple(hostileString, fc.boolean()).map(([s, raw]) => (raw ? s : pct(s))) },
    );
  const slots = [...spec.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as Slot);
  const path = fc.tuple(...slots.map(param)).map((values) => {
    let i = 0;
    return spec.template.replace(/\{\w+\}/g, () => values[i++]!);
  });
  const queryValue = fc.oneof(
    fc.constantFrom('1', '100', '0', '101', '-1', '1.5', '01', '1e2', 'abc', '', 'viewer', 'admin', 'ProjectUserAdded', w.cursor, `${w.cursor}x`, w.cursor.replace('.', '.A'), w.userId, w.projectUserId),
    hostileString,
  );
  const queryKey = fc.oneof(fc.constantFrom('limit', 'cursor', 'role', 'tag', 'userId', 'projectUserId', 'action', '__proto__', 'constructor', 'limit[]', 'sort'), hostileString);
  const query = spec.query
    ? fc.array(fc.tuple(queryKey, queryValue, fc.boolean()), { maxLength: 4 }).map((pairs) =>
        pairs.length ? `?${pairs.map(([k, v, raw]) => (raw ? `${k}=${v}` : `${pct(k)}=${pct(v)}`)).join('&')}` : '',
      )
    : fc.constant('');
  const body = spec.body
    ? fc.oneof({ weight: 5, arbitrary: spec.body(w) }, { weight: 2, arbitrary: jsonText }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_BODIES) }, { weight: 1, arbitrary: hostileString })
    : spec.method === 'GET'
      ? fc.constant(undefined)
      : fc.option(jsonText, { freq: 5, nil: undefined });
  const headers = fc.record(
    {
      'Content-Type': fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
      'If-Match': headerValue,
      'Idempotency-Key': headerValue,
      'X-Request-Id': headerValue,
    },
    { requiredKeys: [] },
  );
  return fc.record({ path: fc.tuple(path, query).map(([p, q]) => p + q), body, headers, useManager: fc.boolean() }).map((r) => ({
    method: spec.method,
    path: r.path,
    body: r.body === undefined ? undefined : new TextEncoder().encode(r.body),
    headers: r.headers as Record<string, string>,
    useManager: r.useManager,
  }));
}

async function send(w: World, r: FuzzRequest): Promise<Reply | null> {
  let request: Request;
  try {
    const headers = new Headers();
    for (const [k, v] of Object.entries(r.headers)) headers.set(k, v);
    headers.set('Authorization', `Bearer ${r.useManager ? w.managerKey : w.adminKey}`);
    const body = r.method === 'GET' ? undefined : (r.body as BodyInit | undefined);
    request = new Request(new URL(r.path, 'http://localhost'), { method: r.method, headers, body });
  } catch {
    return null; // not something a client can send
  }
  const response = await w.t.app.request(request);
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** Fuzz every route `runsPerRoute` times; one world per route so earlier deletes do not starve later routes. */
export async function fuzzRoutes(options: { runsPerRoute: number; seed?: number }): Promise<Attack> {
  const attack = new Attack('hostile-input/fuzz');
  const table = await fuzzTable();
  let rejectedWrites = 0;
  let writesAccepted = 0;
  const recorded = new Set<RouteSpec>();
  try {
    for (const spec of ROUTES) {
      attack.rounds++;
      const world = await fuzzWorld(table.t);
      let before = await table.count();
      await fc.assert(
        fc.asyncProperty(requestArb(world, spec), async (r) => {
          const res = await send(world, r);
          if (!res) return;
          attack.requests++;
          attack.statuses[res.status] = (attack.statuses[res.status] ?? 0) + 1;
          const issues = problemIssues(res);
          if (res.status >= 500) issues.push(`answered ${res.status}`);
          if (res.status < 300 && res.status !== 204) {
            if (!/^application\/json/.test(res.headers.get('Content-Type') ?? '')) issues.push(`2xx content-type ${res.headers.get('Content-Type')}`);
            if (res.body === undefined) issues.push('2xx body is not JSON');
          }
          const after = await table.count();
          if (res.status >= 400 || r.method === 'GET') {
            if (r.method !== 'GET') rejectedWrites++;
            if (after !== before) issues.push(`${res.status} but the table went from ${before} to ${after} items`);
          } else writesAccepted++;
          before = after;
          if (issues.length > 0) {
            const where = `${r.method} ${JSON.stringify(r.path).slice(0, 200)} body ${JSON.stringify(r.body ? new TextDecoder().decode(r.body).slice(0, 200) : null)} headers ${JSON.stringify(r.headers)}`;
            for (const issue of issues) attack.violation(`${where}: ${issue}`);
            recorded.add(spec);
            throw new Error(issues.join('; '));
          }
        }),
        { numRuns: options.runsPerRoute, seed: options.seed, endOnFailure: true },
      ).catch((error) => {
        // An answer's violations are already recorded; anything else is the harness failing, which counts too.
        if (!String((error as Error).message).includes('Property failed by returning false') && !recorded.has(spec)) {
          attack.violation(`${spec.method} ${spec.template}: fuzz harness error ${String((error as Error).message).slice(0, 300)}`);
        }
      });
    }
    const report = await inspectTable({ tableName: table.tableName, client: table.raw });
    for (const v of report.violations) attack.violation(`invariant ${v.rule}: ${v.item}: ${v.detail}`);
    attack.note('rejectedWritesCounted', rejectedWrites);
    attack.note('writesAccepted', writesAccepted);
    attack.note('itemsChecked', report.items);
  } finally {
    table.raw.destroy();
  }
  return attack;
}
