import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../functions/store/client.js';
import { createCursorCodec, cursorKeyOf, openCursor, type CursorContent, type StartKey } from '../../../functions/store/cursor.js';
import { newId } from '../../../functions/domain/ids.js';
import { MEMBERSHIP_LIMITS } from '../../../functions/domain/limits.js';
import { ENTITY, gsi1, keys, partitions } from '../../../functions/store/keys.js';
import type { ProjectUser } from '../../../functions/domain/model.js';
import type { Role } from '../../../functions/domain/permissions.js';
import { call, newOrg, testApp } from '../../support/app.js';

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;

beforeAll(async () => {
  org = await newOrg(t, 'Paging');
});

const users = (projectId: string) => `/api/projects/${projectId}/users`;

/** Every page of a listing, following nextCursor. */
async function walk(path: string, key: string) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: { status: number; body: { data: { _id: string }[]; nextCursor: string | null } } = await call(
      t,
      'GET',
      cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path,
      { key },
    );
    expect(res.status).toBe(200);
    ids.push(...res.body.data.map((u) => u._id));
    cursor = res.body.nextCursor;
    pages++;
    if (pages > 500) throw new Error('pagination does not end');
  } while (cursor);
  return { ids, pages };
}

/** Seeds members straight into the table, as the store writes them (fast; not an API test). */
async function seedMembers(
  projectId: string,
  count: number,
  shape: (i: number) => { roles: Role[]; tags: string[] },
  padding = '',
) {
  const client = createDocumentClient(t.config);
  const seeded: ProjectUser[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const at = new Date(now + i).toISOString();
    seeded.push({
      projectUserId: newId('projectUser', now + i),
      projectId,
      orgId: org.orgId,
      userId: newId('user', now + i),
      ...shape(i),
      isOwner: false,
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
  }
  for (let i = 0; i < seeded.length; i += 12) {
    const chunk = seeded.slice(i, i + 12).flatMap((pu) => [
      {
        PutRequest: {
          Item: {
            ...keys.projectUser(projectId, pu.projectUserId),
            ...gsi1.membershipOfUser(pu.userId, projectId),
            ...pu,
            entity: ENTITY.projectUser,
            ...(padding ? { padding } : {}),
          },
        },
      },
      { PutRequest: { Item: { ...keys.membership(projectId, pu.userId), ...pu, entity: ENTITY.membership } } },
    ]);
    let pending: typeof chunk | undefined = chunk;
    while (pending && pending.length) {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [t.config.tableName]: pending } }));
      pending = out.UnprocessedItems?.[t.config.tableName] as typeof chunk | undefined;
    }
  }
  return seeded;
}

/** Another base64url character that decodes to the same bits when only its top 2 bits are used (a 32-byte MAC's last character). */
function lowBitsTwin(last: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const index = alphabet.indexOf(last);
  return alphabet[(index & ~0b1111) | ((index + 1) & 0b1111)]!;
}

describe('cursor pagination', () => {
  it('walks more than two pages, with and without filters, never skipping or repeating', async () => {
    const project = await org.project('Pages');
    const roles: Role[] = ['viewer', 'editor', 'manager'];
    for (let i = 0; i < 11; i++) {
      await org.member(project._id, await org.user(), [roles[i % 3]!], i % 2 === 0 ? ['even'] : ['odd']);
    }
    const all = await walk(`${users(project._id)}?limit=3`, org.adminKey);
    expect(all.ids).toHaveLength(12); // 11 + the owner
    expect(new Set(all.ids).size).toBe(12);
    expect(all.pages).toBe(4);
    expect([...all.ids].sort()).toEqual(all.ids); // creation order

    const editors = await walk(`${users(project._id)}?limit=2&role=editor`, org.adminKey);
    expect(editors.ids).toHaveLength(4);
    expect(editors.pages).toBeGreaterThanOrEqual(2);
    const evenViewers = await walk(`${users(project._id)}?limit=1&role=viewer&tag=even`, org.adminKey);
    expect(evenViewers.ids).toHaveLength(2); // i = 0, 6
    const none = await call(t, 'GET', `${users(project._id)}?tag=nobody`, { key: org.adminKey });
    expect(none.body).toEqual({ data: [], nextCursor: null });
  });

  it('every listing (table and GSI1, ascending and newest-first) walks to exactly its one-page result', async () => {
    const own = await newOrg(t, 'Paging every listing');
    const project = await own.project('Walk');
    const userIds: string[] = [];
    for (let i = 0; i < 7; i++) userIds.push(await own.user());
    for (const userId of userIds.slice(0, 5)) await own.member(project._id, userId, ['viewer']);
    const multi = userIds[0]!;
    for (let i = 0; i < 4; i++) await own.member((await own.project(`Walk ${i}`))._id, multi, ['editor']);
    for (let i = 0; i < 5; i++) await own.key(multi, 'read');
    const multiKey = await own.key(multi, 'read');
    const listings = [
      [`${users(project._id)}`, own.adminKey],
      [`/api/projects/${project._id}/audit`, own.adminKey],
      ['/api/projects', own.adminKey],
      ['/api/projects', multiKey],
      ['/api/users', own.adminKey],
      [`/api/keys?userId=${multi}`, own.adminKey],
    ] as const;
    for (const [path, key] of listings) {
      const sep = path.includes('?') ? '&' : '?';
      const whole = await call(t, 'GET', `${path}${sep}limit=100`, { key });
      expect(whole.status, path).toBe(200);
      expect(whole.body.nextCursor, path).toBeNull();
      const expected = whole.body.data.map((x: { _id: string }) => x._id);
      expect(expected.length, path).toBeGreaterThanOrEqual(5);
      for (const limit of [1, 2, 3]) {
        const walked = await walk(`${path}${sep}limit=${limit}`, key);
        expect(walked.ids, `${path} limit=${limit}`).toEqual(expected);
      }
    }
  });

  it('stays exact when a page crosses the 1 MB Query limit and the filter leaves pages short', async () => {
    const project = await org.project('Large items');
    // 1,000 members of ~11 KB each (20 tags of 64 chars, plus an attribute the API does not show,
    // standing in for future fields): a 100-member page is over DynamoDB's 1 MB response limit.
    const bigTags = (i: number) => Array.from({ length: MEMBERSHIP_LIMITS.tags }, (_, k) => `${String(k).padStart(2, '0')}-${'x'.repeat(58)}-${String(i % 10)}`);
    const seeded = await seedMembers(
      project._id,
      1_000,
      (i) => ({ roles: i % 97 === 0 ? ['admin'] : ['viewer'], tags: bigTags(i) }),
      'p'.repeat(9_500),
    );
    const expectedAdmins = seeded.filter((pu) => pu.roles.includes('admin')).map((pu) => pu.projectUserId);

    // The data really crosses the limit: one Query for a page of 100 stops at 1 MB, short of its Limit.
    const raw = await createDocumentClient(t.config).send(
      new QueryCommand({
        TableName: t.config.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :pu)',
        ExpressionAttributeValues: { ':pk': keys.project(project._id).PK, ':pu': 'PU#' },
        Limit: 101,
      }),
    );
    expect(raw.Count).toBeLessThan(100);
    expect(raw.LastEvaluatedKey).toBeDefined();
    expect(raw.LastEvaluatedKey).toBeDefined();

    const admins = await walk(`${users(project._id)}?limit=50&role=admin`, org.adminKey);
    expect(admins.ids.filter((id) => id !== project.ownerProjectUserId)).toEqual(expectedAdmins);
    const fewAdmins = await walk(`${users(project._id)}?limit=3&role=admin`, org.adminKey);
    expect(fewAdmins.ids).toEqual(admins.ids);

    const everyone = await walk(`${users(project._id)}?limit=100`, org.adminKey);
    expect(everyone.pages).toBe(11); // full pages of 100 although each Query was cut at 1 MB
    expect(everyone.ids).toHaveLength(1_001);
    expect(new Set(everyone.ids).size).toBe(1_001);
  });

  it('limit bounds and cursors that are garbled, forged or from another listing are 400', async () => {
    const project = await org.project('Cursor checks');
    for (let i = 0; i < 3; i++) await org.member(project._id, await org.user(), ['viewer']);
    const first = await call(t, 'GET', `${users(project._id)}?limit=2`, { key: org.adminKey });
    const cursor: string = first.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));

    for (const limit of ['0', '101', '-1', 'abc', '1.5', '']) {
      const res = await call(t, 'GET', `${users(project._id)}?limit=${limit}`, { key: org.adminKey });
      expect(res.status, `limit=${limit}`).toBe(400);
    }
    expect((await call(t, 'GET', `${users(project._id)}?limit=100`, { key: org.adminKey })).status).toBe(200);

    // Opaque: nothing a cursor carries is readable (a start key may name an item the caller cannot see).
    const bytes = Buffer.from(cursor, 'base64url');
    expect(bytes.toString('latin1')).not.toMatch(/"PK"|"SK"|PROJECT#|PU#|prj_|pu_|usr_/);
    const edited = Buffer.from(bytes);
    edited[20] = edited[20]! ^ 1;
    const otherAlphabet = cursor.replace(/-/g, '+').replace(/_/g, '/');
    const other = await org.project('Other listing');
    for (const [label, path] of [
      ['garbled', `${users(project._id)}?cursor=not-a-cursor`],
      ['one byte edited', `${users(project._id)}?cursor=${edited.toString('base64url')}`],
      ['other project', `${users(other._id)}?cursor=${encodeURIComponent(cursor)}`],
      ['other filter', `${users(project._id)}?role=admin&cursor=${encodeURIComponent(cursor)}`],
      // Edits of the cursor's text that base64url decoding would forgive.
      ['padded', `${users(project._id)}?cursor=${encodeURIComponent(`${cursor}==`)}`],
      ...(otherAlphabet !== cursor ? [['in the other alphabet', `${users(project._id)}?cursor=${encodeURIComponent(otherAlphabet)}`] as const] : []),
      ['a space inside', `${users(project._id)}?cursor=${encodeURIComponent(`${cursor.slice(0, 5)} ${cursor.slice(5)}`)}`],
      ['unused low bits of the last character', `${users(project._id)}?cursor=${encodeURIComponent(`${cursor.slice(0, -1)}${lowBitsTwin(cursor.at(-1)!)}`)}`],
    ] as const) {
      const res = await call(t, 'GET', path, { key: org.adminKey });
      expect(res.status, label).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      // Named like every other query error (it said `cursor`).
      expect(res.body.errors, label).toEqual([{ path: 'query.cursor', message: 'invalid cursor' }]);
    }
    const second = await call(t, 'GET', `${users(project._id)}?limit=2&cursor=${encodeURIComponent(cursor)}`, { key: org.adminKey });
    expect(second.status).toBe(200);
    expect(second.body.data).toHaveLength(2);
    expect(second.body.nextCursor).toBeNull();
  });

  it('a cursor sealed with the real secret whose start key lies outside its listing is the same 400, never a 500', async () => {
    // Whoever holds the cursor secret (or a future bug that seals the wrong key) can point a cursor of
    // one listing at another partition, outside the key range, or at other attributes: DynamoDB
    // rejects such an ExclusiveStartKey with a ValidationException, which must not become a 500.
    const codec = createCursorCodec(t.config.cursorSecret);
    const other = await newOrg(t, 'Paging elsewhere');
    const otherProject = await other.project('Elsewhere');
    const project = await org.project('Sealed cursors');
    await org.project('Sealed cursors, second'); // the org's project list has a second page
    for (let i = 0; i < 2; i++) await org.member(project._id, await org.user(), ['viewer']);
    const open = (cursor: string) => openCursor(cursorKeyOf(t.config.cursorSecret as string), cursor) as CursorContent;
    const forgedBody = (await call(t, 'GET', `${users(project._id)}?cursor=${'e30AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'}`, { key: org.adminKey })).body;
    expect(forgedBody.code).toBe('validation_failed');

    const table = open((await call(t, 'GET', `${users(project._id)}?limit=1`, { key: org.adminKey })).body.nextCursor);
    const index = open((await call(t, 'GET', '/api/projects?limit=1', { key: org.adminKey })).body.nextCursor);
    expect(Object.keys(table.k).sort()).toEqual(['PK', 'SK']);
    expect(Object.keys(index.k).sort()).toEqual(['GSI1PK', 'GSI1SK', 'PK', 'SK']);
    const { PK, SK } = table.k;
    const cases: Array<[string, string, { l: string; k: StartKey }]> = [
      // The listing of project users (table, PK = PROJECT#p, SK in PU#..PU$).
      ['another project', users(project._id), { ...table, k: { PK: partitions.project(otherProject._id), SK: SK! } }],
      ["another org's partition", users(project._id), { ...table, k: { PK: partitions.org(other.orgId), SK: SK! } }],
      ['same partition, sort key below the range', users(project._id), { ...table, k: { PK: PK!, SK: 'MEMBER#usr_x' } }],
      ['same partition, sort key above the range', users(project._id), { ...table, k: { PK: PK!, SK: 'PV#' } }],
      ['sort key missing', users(project._id), { ...table, k: { PK: PK! } }],
      ['an extra attribute', users(project._id), { ...table, k: { PK: PK!, SK: SK!, GSI1PK: partitions.user(org.owner.userId) } }],
      ['index attributes instead', users(project._id), { ...table, k: { GSI1PK: PK!, GSI1SK: SK! } }],
      ['empty partition key', users(project._id), { ...table, k: { PK: '', SK: SK! } }],
      ['sort key over 1 KB', users(project._id), { ...table, k: { PK: PK!, SK: `${SK}${'z'.repeat(1_100)}` } }],
      // The org's projects (GSI1, GSI1PK = ORG#o, GSI1SK in PROJECT#..PROJECT$).
      ["another org's projects", '/api/projects', { ...index, k: { ...index.k, GSI1PK: partitions.org(other.orgId) } }],
      ['index sort key outside the range', '/api/projects', { ...index, k: { ...index.k, GSI1SK: 'KEY#key_x' } }],
      ['table key missing', '/api/projects', { ...index, k: { GSI1PK: index.k.GSI1PK!, GSI1SK: index.k.GSI1SK! } }],
    ];
    const statuses: Record<string, number> = {};
    for (const [label, path, { l, k }] of cases) {
      const res = await call(t, 'GET', `${path}?cursor=${encodeURIComponent(codec.encode(l, k))}`, { key: org.adminKey });
      statuses[label] = res.status;
      if (res.status === 400) expect(res.body, label).toEqual(forgedBody);
    }
    expect(statuses).toEqual(Object.fromEntries(cases.map(([label]) => [label, 400])));
    // The same codec and secret seal a good cursor: it is the start key that is refused, not the seal.
    for (const [path, { l, k }] of [[users(project._id), table], ['/api/projects', index]] as const) {
      const res = await call(t, 'GET', `${path}?cursor=${encodeURIComponent(codec.encode(l, k))}`, { key: org.adminKey });
      expect(res.status, path).toBe(200);
    }
  });
});
