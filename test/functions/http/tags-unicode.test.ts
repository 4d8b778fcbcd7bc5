import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_TAG_CODE_POINTS, MAX_TAG_LENGTH } from '../../../functions/domain/limits.js';
import { graphemeLength } from '../../../functions/domain/tags.js';
import { call, newOrg, testApp } from '../../support/app.js';

const t = testApp();
let org: Awaited<ReturnType<typeof newOrg>>;
let projectId: string;

beforeAll(async () => {
  org = await newOrg(t, 'Unicode tags');
  projectId = (await org.project('Tags'))._id;
});

const users = () => `/api/projects/${projectId}/users`;
const FAMILY = '👨‍👩‍👧'; // man, ZWJ, woman, ZWJ, girl: 5 code points, 8 UTF-16 units, 1 grapheme
const E_ACUTE = 'é'; // U+00E9
const E_COMBINING = 'e\u0301';

/**
 * Refused tags, as raw JSON string literals (so a lone surrogate reaches the server exactly as
 * `"\ud800"`, the only way JSON can carry one).
 */
const REFUSED: [label: string, json: string][] = [
  ['empty', '""'],
  ['NUL', '"a\\u0000b"'],
  ['newline', '"a\\nb"'],
  ['tab', '"a\\tb"'],
  ['DEL U+007F', '"a\\u007fb"'],
  ['C1 U+0085', '"a\\u0085b"'],
  ['C1 U+009B (CSI)', '"a\\u009bb"'],
  ['line separator U+2028', '"a\\u2028b"'],
  ['lone high surrogate', '"\\ud800"'],
  ['lone low surrogate inside text', '"a\\udc00b"'],
  ['high surrogate at the end', '"ab\\ud83d"'],
  ...['202a', '202b', '202c', '202d', '202e', '2066', '2067', '2068', '2069'].map(
    (hex): [string, string] => [`bidi control U+${hex.toUpperCase()}`, `"abc\\u${hex}def"`],
  ),
  ['left-to-right mark U+200E', '"abc\\u200e"'],
  ['right-to-left mark U+200F', '"\\u200fabc"'],
  ['Arabic letter mark U+061C', '"abc\\u061c"'],
  [`${MAX_TAG_LENGTH + 1} family emoji`, JSON.stringify(FAMILY.repeat(MAX_TAG_LENGTH + 1))],
  [`${MAX_TAG_LENGTH + 1} ASCII characters`, JSON.stringify('a'.repeat(MAX_TAG_LENGTH + 1))],
  [`${MAX_TAG_LENGTH + 1} precomposed é sent decomposed`, JSON.stringify(E_COMBINING.repeat(MAX_TAG_LENGTH + 1))],
  ['one grapheme of 2,000 stacked combining marks', JSON.stringify(`e${'\u0301'.repeat(2000)}`)],
];

async function addMember(tags: string[]) {
  const userId = await org.user();
  const res = await call(t, 'POST', users(), { key: org.adminKey, body: { _id: userId, roles: ['viewer'], tags } });
  expect(res.status, res.text).toBe(201);
  return res.body as { _id: string; userId: string; tags: string[]; version: number };
}

function expectTagProblem(res: { status: number; headers: Headers; body: any; text: string }, path: string, label: string) {
  expect(res.status, `${label}: ${res.text}`).toBe(400);
  expect(res.headers.get('Content-Type'), label).toBe('application/problem+json');
  expect(res.body.code, label).toBe('validation_failed');
  expect(res.body.errors.map((e: { path: string }) => e.path), label).toEqual([path]);
  expect(res.body.errors[0].message, label).toEqual(expect.any(String));
}

describe('tags: Unicode', () => {
  it('PATCH refuses control, separator, bidi and lone-surrogate characters, empty and over-long tags: 400 naming the tag, nothing written', async () => {
    const member = await addMember(['keep']);
    const path = `${users()}/${member._id}`;
    for (const [label, json] of REFUSED) {
      const res = await call(t, 'PATCH', path, { key: org.adminKey, body: `{"tags":["fine",${json}]}` });
      expectTagProblem(res, 'body.tags.1', label);
    }
    const after = await call(t, 'GET', path, { key: org.adminKey });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ tags: ['keep'], version: member.version });
  });

  it('POST refuses the same tags: 400 naming the tag, and the user is not added', async () => {
    const userId = await org.user();
    for (const [label, json] of REFUSED) {
      const res = await call(t, 'POST', users(), { key: org.adminKey, body: `{"_id":"${userId}","roles":["viewer"],"tags":[${json},"fine"]}` });
      expectTagProblem(res, 'body.tags.0', label);
    }
    const list = await call(t, 'GET', users(), { key: org.adminKey });
    expect(list.body.data.map((u: { userId: string }) => u.userId)).not.toContain(userId);
    // The same user with valid tags is still addable: nothing half-written blocks it.
    expect((await call(t, 'POST', users(), { key: org.adminKey, body: { _id: userId, roles: ['viewer'], tags: ['fine'] } })).status).toBe(201);
  });

  it(`counts ${MAX_TAG_LENGTH} user-perceived characters: ${MAX_TAG_LENGTH} family emoji are one tag, stored unchanged`, async () => {
    const long = FAMILY.repeat(MAX_TAG_LENGTH);
    expect(graphemeLength(long)).toBe(MAX_TAG_LENGTH);
    expect(long.length).toBe(8 * MAX_TAG_LENGTH); // UTF-16 units: far over 64
    // And the longest emoji sequences (family with skin tones, 11 code points) fit the code point guard.
    const skinToned = '👨🏽‍👩🏽‍👧🏽‍👦🏽';
    expect([...skinToned.repeat(MAX_TAG_LENGTH)].length).toBeLessThanOrEqual(MAX_TAG_CODE_POINTS);
    const member = await addMember([long, skinToned.repeat(MAX_TAG_LENGTH), 'ZWNJ: می\u200cخواهم']);
    expect(member.tags).toEqual([long, skinToned.repeat(MAX_TAG_LENGTH), 'ZWNJ: می\u200cخواهم']);
    const got = await call(t, 'GET', `${users()}/${member._id}`, { key: org.adminKey });
    expect(got.body.tags[0]).toBe(long);
  });

  it('stores tags in NFC: e + U+0301 is é (U+00E9), equal to the precomposed tag, deduplicated, and found by either spelling', async () => {
    const added = await addMember([E_COMBINING, 'x']);
    expect(added.tags).toEqual([E_ACUTE, 'x']);
    expect(added.tags[0]!.codePointAt(0)).toBe(0xe9);

    const patched = await call(t, 'PATCH', `${users()}/${added._id}`, { key: org.adminKey, body: { tags: [E_ACUTE, E_COMBINING, `caf${E_COMBINING}`] } });
    expect(patched.status).toBe(200);
    expect(patched.body.tags).toEqual([E_ACUTE, `caf${E_ACUTE}`]);

    for (const spelling of [E_ACUTE, E_COMBINING, `caf${E_COMBINING}`]) {
      const list = await call(t, 'GET', `${users()}?tag=${encodeURIComponent(spelling)}`, { key: org.adminKey });
      expect(list.status, list.text).toBe(200);
      expect(list.body.data.map((u: { _id: string }) => u._id), spelling).toEqual([added._id]);
    }
  });

  it('the tag filter refuses what a tag may not be: 400 on query.tag', async () => {
    for (const [label, raw] of [
      ['empty', ''],
      ['newline', 'a\nb'],
      ['bidi override', 'a\u202eb'],
      ['lone surrogate (percent-encoded CESU bytes)', '%ED%A0%80'],
      [`${MAX_TAG_LENGTH + 1} characters`, 'a'.repeat(MAX_TAG_LENGTH + 1)],
    ] as const) {
      const query = raw.startsWith('%') ? raw : encodeURIComponent(raw);
      const res = await call(t, 'GET', `${users()}?tag=${query}`, { key: org.adminKey });
      if (label.startsWith('lone surrogate')) {
        // Not UTF-8: decoded as U+FFFD (a valid tag, matching nothing) or refused; never a 500.
        expect([200, 400], `${label}: ${res.text}`).toContain(res.status);
        continue;
      }
      expectTagProblem(res, 'query.tag', label);
    }
  });
});

/** What no stored text may hold (functions/domain/text.ts), as raw JSON string literals. */
const REFUSED_IN_TEXT: [label: string, json: string][] = [
  ['NUL', '"a\\u0000b"'],
  ['C1 U+009B (CSI)', '"a\\u009bb"'],
  ['line separator U+2028', '"a\\u2028b"'],
  ['lone high surrogate', '"ab\\ud800"'],
  ['right-to-left override U+202E', '"adm\\u202enimda"'],
  ['left-to-right mark U+200E', '"admin\\u200e"'],
];

describe('names and descriptions: the characters a tag may not hold', () => {
  it('a project, org user, key or role name with one is a 400 naming the field, and nothing is created', async () => {
    const userId = await org.user();
    const routes: [path: string, body: (name: string) => string][] = [
      ['/api/projects', (name) => `{"name":${name}}`],
      ['/api/users', (name) => `{"name":${name}}`],
      ['/api/keys', (name) => `{"userId":"${userId}","scope":"read","name":${name}}`],
      ['/api/roles', (name) => `{"name":${name},"permissions":[]}`],
    ];
    const before = await Promise.all(['/api/projects?limit=100', '/api/roles', `/api/keys?userId=${userId}`].map((p) => call(t, 'GET', p, { key: org.adminKey })));
    for (const [path, body] of routes) {
      for (const [label, json] of REFUSED_IN_TEXT) {
        const res = await call(t, 'POST', path, { key: org.adminKey, body: body(json) });
        expect(res.status, `${path} ${label}: ${res.text}`).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path), `${path} ${label}`).toEqual(['body.name']);
      }
      // A newline or tab is not part of a name either.
      expect((await call(t, 'POST', path, { key: org.adminKey, body: body('"a\\nb"') })).status, path).toBe(400);
    }
    const after = await Promise.all(['/api/projects?limit=100', '/api/roles', `/api/keys?userId=${userId}`].map((p) => call(t, 'GET', p, { key: org.adminKey })));
    expect(after.map((r) => r.body.data.length)).toEqual(before.map((r) => r.body.data.length));
  });

  it('a role or permission description is prose: line breaks and tabs pass, the rest is refused', async () => {
    for (const [label, json] of REFUSED_IN_TEXT) {
      const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: `{"name":"R","description":${json},"permissions":[]}` });
      expect([label, role.status, role.body.errors?.[0]?.path]).toEqual([label, 400, 'body.description']);
      const permission = await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: `{"key":"docs:edit","description":${json}}` });
      expect([label, permission.status, permission.body.errors?.[0]?.path]).toEqual([label, 400, 'body.description']);
    }
    const prose = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Prose', description: 'Line one\n\tindented', permissions: [] } });
    expect(prose.status, prose.text).toBe(201);
    expect(prose.body.description).toBe('Line one\n\tindented');
  });
});

describe('bodies that are not UTF-8', () => {
  it('are malformed JSON (400), never stored with U+FFFD in place of their bytes', async () => {
    const userId = await org.user();
    const bytes = Buffer.concat([Buffer.from(`{"_id":"${userId}","tags":["a`), Buffer.from([0xff, 0xfe]), Buffer.from('"]}')]);
    const res = await t.app.request(users(), {
      method: 'POST',
      headers: { Authorization: `Bearer ${org.adminKey}`, 'Content-Type': 'application/json' },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('malformed_json');
    const listed = await call(t, 'GET', `${users()}?limit=100`, { key: org.adminKey });
    expect(listed.body.data.map((pu: { userId: string }) => pu.userId)).not.toContain(userId);
    // The same body in UTF-8 is accepted.
    const valid = await call(t, 'POST', users(), { key: org.adminKey, body: { _id: userId, tags: ['a\ufffd'] } });
    expect(valid.status, valid.text).toBe(201);
  });
});
