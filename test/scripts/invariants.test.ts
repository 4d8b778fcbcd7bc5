import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../functions/domain/ids.js';
import { findViolations, inspectTable, WRITE_CLOCK_TOLERANCE_MS } from '../../scripts/invariants/index.js';
import { freePort } from '../../scripts/dynamodb-local.js';
import { gsi1, keys, type ItemKey } from '../../functions/store/keys.js';
import { ensureTable } from '../../functions/store/schema.js';
import { call, newOrg, testApp } from '../support/app.js';
import { Attack } from '../support/attack.js';
import { localDynamoClient, tableTarget } from '../support/table.js';

/**
 * The invariant checker itself: silent on a table the API built, and it finds every kind of broken
 * invariant planted by hand (each in a project of its own), by Scan and by organization; the CLI
 * exits 0 / 1 accordingly.
 */
const run = promisify(execFile);
const { endpoint } = tableTarget();
const tableName = `invariants-${randomBytes(4).toString('hex')}`;
const raw = localDynamoClient(endpoint);
const doc = DynamoDBDocumentClient.from(raw);
let orgId: string;
let org: Awaited<ReturnType<typeof newOrg>>;
const t = testApp({ tableName });

beforeAll(async () => {
  await ensureTable(raw, tableName);
  org = await newOrg(t, 'Invariants');
  orgId = org.orgId;
});
afterAll(() => raw.destroy());

/** How the checker names an item: `PK | SK`. */
const at = ({ PK, SK }: ItemKey) => `${PK} | ${SK}`;
const get = async (Key: ItemKey) => (await doc.send(new GetCommand({ TableName: tableName, Key }))).Item as Record<string, any>;
const put = (Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: tableName, Item }));
const del = (Key: ItemKey) => doc.send(new DeleteCommand({ TableName: tableName, Key }));
const set = (Key: ItemKey, values: Record<string, unknown>) =>
  doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key,
      UpdateExpression: `SET ${Object.keys(values).map((k, i) => `#n${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(values).map((k, i) => [`#n${i}`, k])),
      ExpressionAttributeValues: Object.fromEntries(Object.values(values).map((v, i) => [`:v${i}`, v])),
    }),
  );

/** A project with an owner and one viewer, built through the API. */
async function scene() {
  const project = await org.project('Scene');
  const userId = await org.user();
  const pu = await org.member(project._id, userId, ['viewer']);
  const p = project._id;
  return {
    project,
    userId,
    pu,
    /** The keys of the project and of the viewer's twins. */
    projectKey: keys.project(p),
    puKey: keys.projectUser(p, pu._id),
    memberKey: keys.membership(p, userId),
    owner: await get(keys.projectUser(p, project.ownerProjectUserId)),
  };
}

describe('check-table', () => {
  it('reports nothing for a table built through the API, by Scan and by organization', async () => {
    const s = await scene();
    await org.member(s.project._id, await org.user(), ['manager']);
    await org.key(s.userId, 'read');
    const patched = await t.app.request(`/api/projects/${s.project._id}/users/${s.pu._id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${org.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ roles: ['editor'] }),
    });
    expect(patched.status).toBe(200);
    const whole = await inspectTable({ tableName, client: raw });
    const scoped = await inspectTable({ tableName, client: raw, orgIds: [orgId] });
    expect(whole.violations).toEqual([]);
    expect(scoped.violations).toEqual([]);
    expect(whole.items).toBeGreaterThan(15);
    expect(whole.indexEntries).toBeGreaterThan(3);
  });

  it('finds every kind of broken invariant, and the CLI exits 1 listing them', async () => {
    const attack = new Attack('check-table/planted-violations');
    const planted: [string, string][] = []; // [rule, item]

    // Membership without its guard, and a guard without its project user.
    let s = await scene();
    await del(s.memberKey);
    planted.push(['membership-without-guard', at(s.puKey)]);
    s = await scene();
    await del(s.puKey);
    planted.push(['guard-without-membership', at(s.memberKey)]);

    // Twins that disagree.
    s = await scene();
    await set(s.memberKey, { roles: ['admin'] });
    planted.push(['twin-mismatch', at(s.puKey)]);

    // No owner; two owners; the pointer at someone who is not a member.
    s = await scene();
    await set(keys.projectUser(s.project._id, s.owner.projectUserId), { isOwner: false });
    await set(keys.membership(s.project._id, s.owner.userId), { isOwner: false });
    planted.push(['owner-count', at(s.projectKey)], ['owner-pointer', at(s.projectKey)]);
    s = await scene();
    await set(s.puKey, { isOwner: true });
    await set(s.memberKey, { isOwner: true });
    planted.push(['owner-count', at(s.projectKey)]);
    s = await scene();
    await set(s.projectKey, { ownerProjectUserId: newId('projectUser') });
    planted.push(['owner-not-member', at(s.projectKey)]);
    s = await scene();
    await set(s.projectKey, { ownerRoles: ['viewer'] });
    planted.push(['owner-pointer', at(s.projectKey)]);

    // A membership of an org user that does not exist (its USER# GSI entry dangles).
    s = await scene();
    const ghost = newId('user');
    const ghostPu: Record<string, any> = { ...s.owner, projectUserId: newId('projectUser'), userId: ghost, isOwner: false, roles: ['viewer'], version: 1 };
    const ghostKey = keys.projectUser(s.project._id, ghostPu.projectUserId);
    await put({ ...ghostPu, ...ghostKey, ...gsi1.membershipOfUser(ghost, s.project._id) });
    const { GSI1PK: _a, GSI1SK: _b, ...guard }: Record<string, any> = { ...ghostPu, ...keys.membership(s.project._id, ghost), entity: 'Membership' };
    await put(guard);
    const eventId = newId('audit');
    await put({ ...keys.projectAudit(s.project._id, eventId), entity: 'Audit', eventId, orgId, projectId: s.project._id, action: 'ProjectUserAdded', projectUserId: ghostPu.projectUserId, userId: ghost, actor: { keyId: null, userId: ghost }, before: null, after: null, at: new Date().toISOString() });
    planted.push(['member-user-missing', at(ghostKey)]);

    // An unaudited write (version bumped on both twins without an audit item).
    s = await scene();
    await set(s.puKey, { version: 2 });
    await set(s.memberKey, { version: 2 });
    planted.push(['audit-version', at(s.puKey)]);

    // A live key whose org user does not exist; a project whose org does not exist (dangling GSI1).
    const keyId = newId('key');
    const keyUser = newId('user');
    await put({ ...keys.apiKey(keyId), ...gsi1.keyOfUser(keyUser, keyId), entity: 'ApiKey', keyId, orgId, userId: keyUser, scope: 'read', secretHash: 'a'.repeat(64), createdAt: new Date().toISOString() });
    planted.push(['key-without-user', at(keys.apiKey(keyId))]);
    const lost = newId('project');
    const lostOrg = newId('org');
    await put({ ...keys.project(lost), ...gsi1.projectOfOrg(lostOrg, lost), entity: 'Project', projectId: lost, orgId: lostOrg, name: 'x', ownerProjectUserId: newId('projectUser'), ownerUserId: keyUser, createdAt: '', updatedAt: '', version: 1 });
    planted.push(['dangling-gsi', at(keys.project(lost))]);

    // A membership with no role at all.
    s = await scene();
    await set(s.puKey, { roles: [] });
    await set(s.memberKey, { roles: [] });
    planted.push(['bad-value', at(s.puKey)]);

    // A write audited after its key was revoked, and a key that outlives the expiring key that made it.
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const writer = newId('key');
    const minted = newId('key');
    const keyItem = (id: string, extra: Record<string, unknown>) => ({
      ...keys.apiKey(id), ...gsi1.keyOfUser(s.userId, id), entity: 'ApiKey', keyId: id, orgId, userId: s.userId,
      scope: 'read-write', secretHash: 'a'.repeat(64), createdAt: iso(now - 20_000), ...extra,
    });
    await put(keyItem(writer, { expiresAt: iso(now + 3_600_000), revokedAt: iso(now - 1_000 - WRITE_CLOCK_TOLERANCE_MS - 1) }));
    await put(keyItem(minted, {}));
    const mintEvent = newId('audit', now - 1_000);
    const mintAudit = keys.orgAudit(orgId, mintEvent);
    await put({
      ...mintAudit, entity: 'Audit', eventId: mintEvent, orgId, projectId: null, action: 'ApiKeyCreated',
      actor: { keyId: writer, userId: s.userId }, projectUserId: null, userId: s.userId, before: null,
      after: { keyId: minted, scope: 'read-write', projectId: null, expiresAt: null }, at: iso(now - 1_000),
    });
    planted.push(['revoked-writer', at(mintAudit)], ['key-outlives-creator', at(keys.apiKey(minted))]);

    // A key whose copy of its holder is not its org user (another name and version).
    const copied = newId('key');
    await put(keyItem(copied, { holder: { name: 'Not the holder', email: null, kind: 'human', orgRole: 'member', createdAt: iso(now), version: 7 } }));
    planted.push(['key-holder', at(keys.apiKey(copied))]);

    // A custom role's grant that expires before the membership holding it (a transfer once left it so).
    const grantRole = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Granted', permissions: ['project:read'] } });
    s = await scene();
    const holder = await call(t, 'PATCH', `/api/projects/${s.project._id}/users/${s.pu._id}`, { key: org.adminKey, body: { roles: ['viewer', grantRole.body._id] } });
    expect(holder.status, holder.text).toBe(200);
    await set(keys.roleGrant(grantRole.body._id, s.project._id, s.pu._id), { expiresAt: iso(now + 60_000) });
    planted.push(['role-grant', at(s.puKey)]);

    // An item no layout knows.
    const stray = { PK: s.projectKey.PK, SK: 'STRAY' };
    await put({ ...stray, entity: 'Nonsense' });
    planted.push(['entity', at(stray)]);

    const whole = await inspectTable({ tableName, client: raw });
    const found = new Set(whole.violations.map((v) => `${v.rule} @ ${v.item}`));
    for (const [rule, item] of planted) {
      attack.rounds++;
      attack.check(found.has(`${rule} @ ${item}`), `not found: ${rule} @ ${item}`);
    }
    const rules = new Set(planted.map(([rule]) => rule));
    const unexpected = whole.violations.filter((v) => !rules.has(v.rule) && !['audit-creation', 'orphan'].includes(v.rule));
    attack.check(unexpected.length === 0, `unexpected: ${JSON.stringify(unexpected)}`);
    attack.note('planted', planted.length);
    attack.note('reported', whole.violations.length);

    // By organization (Query only): the planted violations of this org's projects are found too.
    const scoped = await inspectTable({ tableName, client: raw, orgIds: [orgId] });
    const scopedFound = new Set(scoped.violations.map((v) => `${v.rule} @ ${v.item}`));
    // (The keys and the project of an unknown organization are not this organization's.)
    const elsewhere = new Set([at(keys.apiKey(keyId)), at(keys.apiKey(minted)), at(keys.project(lost))]);
    for (const [rule, item] of planted.filter(([, item]) => !elsewhere.has(item))) {
      attack.check(scopedFound.has(`${rule} @ ${item}`), `by organization, not found: ${rule} @ ${item}`);
    }

    // The CLI: exit code 1 and one line per violation.
    const cli = await run('npx', ['tsx', 'scripts/check-table.ts', '--table', tableName, '--endpoint', endpoint!, '--once'], { cwd: process.cwd() }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    attack.requests++;
    attack.check(cli.code === 1, `CLI exit code ${cli.code}`);
    for (const [rule, item] of planted) attack.check(cli.stdout.includes(`VIOLATION ${rule}: ${item}`), `CLI did not print ${rule}: ${item}`);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, 60_000);

  it('the CLI exits 0 on a sound table and 2 on one it cannot read', async () => {
    const clean = `invariants-clean-${randomBytes(3).toString('hex')}`;
    await ensureTable(raw, clean);
    const ok = await run('npx', ['tsx', 'scripts/check-table.ts', '--table', clean, '--endpoint', endpoint!]);
    expect(ok.stdout).toContain('No violations.');
    const missing = await run('npx', ['tsx', 'scripts/check-table.ts', '--table', 'no-such-table', '--endpoint', endpoint!]).catch((e) => e);
    expect(missing.code).toBe(2);
    // The local table with nothing on its port: says where it looked and which variable moves it.
    const port = String(await freePort());
    const noEngine = await run('npx', ['tsx', 'scripts/check-table.ts'], { env: { ...process.env, DYNAMODB_LOCAL_PORT: port, DYNAMODB_ENDPOINT: '', TABLE_NAME: '' } }).catch((e) => e);
    expect(noEngine.code).toBe(2);
    expect(noEngine.stderr).toContain(`127.0.0.1:${port}`);
    expect(noEngine.stderr).toContain('the same DYNAMODB_LOCAL_PORT');
  }, 60_000);

  it('the rules are pure functions of the items: nothing for nothing, an item without entity is reported', () => {
    expect(findViolations([])).toEqual([]);
    expect(findViolations([{ PK: 'X', SK: 'Y' }]).map((v) => v.rule)).toEqual(['entity']);
  });
});
