import { DynamoDBClient, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEventBridgeClient, createSqsClient } from '../../../functions/events/bus.js';
import { createOrgUserDeletedConsumer } from '../../../functions/events/org-user-deleted.js';
import { createPublisher, type EventDetail } from '../../../functions/events/publish.js';
import { keys } from '../../../functions/store/keys.js';
import { createStore } from '../../../functions/store/store.js';
import { ensureTable } from '../../../functions/store/schema.js';
import { call, newOrg, testApp, type TestApp } from '../../support/app.js';
import { startFakeAws, type FakeAws } from '../../support/fake-aws.js';

/** Its own table, so its stream holds only this file's changes. */
const TABLE = 'project-users-events';
const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let t: TestApp;
let fake: FakeAws;
let streams: DynamoDBStreamsClient;
let streamArn: string;
/** Stream position already consumed, per shard, so each test reads only its own records. */
const positions = new Map<string, string>();

beforeAll(async () => {
  const endpoint = inject('dynamoEndpoint');
  const raw = new DynamoDBClient({ endpoint, region, credentials });
  await ensureTable(raw, TABLE);
  streamArn = (await raw.send(new DescribeTableCommand({ TableName: TABLE }))).Table!.LatestStreamArn!;
  raw.destroy();
  streams = new DynamoDBStreamsClient({ endpoint, region, credentials });
  t = testApp({ tableName: TABLE });
  fake = await startFakeAws();
  await readNewRecords(); // skip anything from before this run
});

afterAll(async () => {
  await fake?.close();
  streams?.destroy();
});

/** The stream records written since the last call, as the Lambda event source would deliver them. */
async function readNewRecords(): Promise<DynamoDBRecord[]> {
  const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
  const records: _Record[] = [];
  for (const shard of shards) {
    const after = positions.get(shard.ShardId!);
    let iterator = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId!,
          ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(out.Records ?? []));
      if (!out.Records?.length) break;
      positions.set(shard.ShardId!, out.Records.at(-1)!.dynamodb!.SequenceNumber!);
      iterator = out.NextShardIterator;
    }
  }
  // As Lambda delivers them: the SDK reads the creation time as a Date, Lambda sends epoch seconds.
  return records.map(
    (r) =>
      ({
        ...r,
        eventSourceARN: streamArn,
        dynamodb: { ...r.dynamodb, ApproximateCreationDateTime: r.dynamodb?.ApproximateCreationDateTime && r.dynamodb.ApproximateCreationDateTime.getTime() / 1000 },
      }) as unknown as DynamoDBRecord,
  );
}

const streamEvent = (Records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records });

/** The publisher as deployed, but with short retries; `holdSeconds: 0` parks a failing event at once. */
function publisher(overrides: { dlq?: string | undefined; holdSeconds?: number } = {}) {
  const config = { region, eventBridgeEndpoint: fake.endpoint, sqsEndpoint: fake.endpoint };
  return createPublisher({
    events: createEventBridgeClient(config),
    sqs: createSqsClient(config),
    busName: 'project-users-test',
    deadLetterQueueUrl: 'dlq' in overrides ? overrides.dlq : `${fake.endpoint}/000000000000/publisher-dlq`,
    retry: { attempts: 3, baseDelayMs: 1 },
    holdSeconds: overrides.holdSeconds,
  });
}

const details = (entries: { Detail: string }[]) => entries.map((e) => JSON.parse(e.Detail) as EventDetail);

describe('publisher: stream → EventBridge', () => {
  it('publishes one event per membership change with type, IDs, roles before/after and actor', async () => {
    fake.events.length = 0;
    const org = await newOrg(t, 'Events');
    const project = await org.project('Evented');
    const userId = await org.user();
    const added = await org.member(project._id, userId, ['viewer']);
    const path = `/api/projects/${project._id}/users/${added._id}`;
    expect((await call(t, 'PATCH', path, { key: org.adminKey, body: { roles: ['editor'] } })).status).toBe(200);
    const heir = await org.member(project._id, await org.user(), ['admin']);
    expect((await call(t, 'POST', `/api/projects/${project._id}/owner`, { key: org.adminKey, body: { projectUserId: heir._id } })).status).toBe(200);
    expect((await call(t, 'DELETE', path, { key: org.adminKey })).status).toBe(204);

    const records = await readNewRecords();
    const result = await publisher()(streamEvent(records));
    expect(result.batchItemFailures).toEqual([]);

    const mine = fake.events.filter((e) => JSON.parse(e.Detail).projectId === project._id);
    expect(mine.map((e) => e.DetailType)).toEqual([
      'ProjectCreated',
      'ProjectUserAdded',
      'ProjectUserUpdated',
      'ProjectUserAdded',
      'ProjectOwnershipTransferred',
      'ProjectUserRemoved',
    ]);
    expect(mine.every((e) => e.Source === 'project-users' && e.EventBusName === 'project-users-test')).toBe(true);
    const [, add, update, , transfer, remove] = details(mine);
    const adminKeyId = org.adminKey.split('_').slice(1, 3).join('_');
    expect(add).toMatchObject({ projectUserId: added._id, userId, rolesBefore: null, rolesAfter: ['viewer'], actor: { keyId: adminKeyId } });
    expect(update).toMatchObject({ projectUserId: added._id, rolesBefore: ['viewer'], rolesAfter: ['editor'] });
    expect(remove).toMatchObject({ projectUserId: added._id, rolesBefore: ['editor'], rolesAfter: null });
    // Both memberships a transfer changes: the new owner's roles (kept) and isOwner, and the old owner's roles (+ admin).
    expect(transfer).toMatchObject({
      projectUserId: heir._id,
      rolesBefore: ['admin'],
      rolesAfter: ['admin'],
      before: { isOwner: false, ownerProjectUserId: project.ownerProjectUserId, oldOwnerRoles: ['admin'] },
      after: { isOwner: true, ownerProjectUserId: heir._id, oldOwnerRoles: ['admin'] },
    });
    expect(new Set(details(mine).map((d) => d.eventId)).size).toBe(6);
    expect(details(mine).every((d) => d.orgId === org.orgId && typeof d.time === 'string')).toBe(true);

    // The audit endpoint shows the same entries, newest first, with the same IDs.
    const audit = await call(t, 'GET', `/api/projects/${project._id}/audit?limit=100`, { key: org.adminKey });
    expect(audit.body.data.map((a: { _id: string }) => a._id)).toEqual(details(mine).map((d) => d.eventId).reverse());
    // Key events are published too (org-level audit items).
    expect(fake.events.some((e) => e.DetailType === 'ApiKeyCreated')).toBe(true);
  });

  it('retries only the entries PutEvents rejected, and re-delivery keeps the event IDs', async () => {
    const org = await newOrg(t, 'Retry');
    const project = await org.project('Retry');
    for (let i = 0; i < 3; i++) await org.member(project._id, await org.user(), ['viewer']);
    const records = await readNewRecords();

    fake.calls.length = 0;
    fake.events.length = 0;
    let rejected = 0;
    fake.rejectEntry = (entry) => (entry.DetailType === 'ProjectUserAdded' && rejected++ < 2 ? 'ThrottlingException' : null);
    const result = await publisher()(streamEvent(records));
    fake.rejectEntry = null;
    expect(result.batchItemFailures).toEqual([]);
    // Rejected entries are re-sent alone; nothing else is sent twice; the project's order holds.
    const sent = fake.calls.flat().filter((e) => JSON.parse(e.Detail).projectId === project._id);
    expect(sent).toHaveLength(4 + 2);
    const published = fake.events.filter((e) => JSON.parse(e.Detail).projectId === project._id);
    expect(published.map((e) => e.DetailType)).toEqual(['ProjectCreated', 'ProjectUserAdded', 'ProjectUserAdded', 'ProjectUserAdded']);
    const times = published.map((e) => JSON.parse(e.Detail).eventId);
    expect([...times].sort()).toEqual(times); // event IDs are time-ordered: publication order = commit order

    // At-least-once: a re-delivered batch publishes the same event IDs, for consumers to de-duplicate.
    const again = await publisher()(streamEvent(records));
    expect(again.batchItemFailures).toEqual([]);
    const ids = fake.events.filter((e) => JSON.parse(e.Detail).projectId === project._id).map((e) => JSON.parse(e.Detail).eventId);
    expect(ids.slice(4)).toEqual(ids.slice(0, 4));
  });

  it("an event PutEvents keeps refusing holds its project's later events back (batch item failure) until its hold ends", async () => {
    const org = await newOrg(t, 'Hold');
    const project = await org.project('Held');
    const other = await org.project('Not held');
    const userId = await org.user();
    const added = await org.member(project._id, userId, ['viewer']);
    const path = `/api/projects/${project._id}/users/${added._id}`;
    expect((await call(t, 'PATCH', path, { key: org.adminKey, body: { roles: ['editor'] } })).status).toBe(200);
    expect((await call(t, 'DELETE', path, { key: org.adminKey })).status).toBe(204);
    await org.member(other._id, await org.user(), ['viewer']);
    const records = await readNewRecords();
    const ofProject = (id: string) => fake.events.filter((e) => JSON.parse(e.Detail).projectId === id).map((e) => e.DetailType);
    const addedRecord = records.find((r) => r.dynamodb?.NewImage?.action?.S === 'ProjectUserAdded' && r.dynamodb.NewImage.projectId?.S === project._id)!;

    fake.events.length = 0;
    fake.messages.length = 0;
    fake.rejectEntry = (entry) => (entry.DetailType === 'ProjectUserAdded' && JSON.parse(entry.Detail).projectId === project._id ? 'ThrottlingException' : null);
    const held = await publisher()(streamEvent(records));
    // Lambda retries from the refused event; nothing of its project went past it, nothing was parked.
    expect(held.batchItemFailures).toEqual([{ itemIdentifier: addedRecord.dynamodb!.SequenceNumber }]);
    expect(ofProject(project._id)).toEqual(['ProjectCreated']);
    expect(ofProject(other._id)).toEqual(['ProjectCreated', 'ProjectUserAdded']);
    expect(fake.messages).toEqual([]);

    // The retry, once PutEvents takes it again: the project's events in their order.
    fake.rejectEntry = null;
    const retried = await publisher()(streamEvent(records.filter((r) => BigInt(r.dynamodb!.SequenceNumber!) >= BigInt(addedRecord.dynamodb!.SequenceNumber!))));
    expect(retried.batchItemFailures).toEqual([]);
    expect(ofProject(project._id)).toEqual(['ProjectCreated', 'ProjectUserAdded', 'ProjectUserUpdated', 'ProjectUserRemoved']);
  });

  it('calls stay under PutEvents 256 KB: large events that fit alone are all published, none dead-lettered', async () => {
    const org = await newOrg(t, 'Big events');
    // A tag the API accepts (64 graphemes, 1,024 code points): a letter carrying 1,022 variation selectors, ~4 KB.
    const bigTag = (i: number) => String.fromCodePoint(0x61 + (i % 26), 0x41 + Math.floor(i / 26)) + '\u{E0100}'.repeat(1022);
    const tags = Array.from({ length: 14 }, (_, i) => bigTag(i));
    const projects: string[] = [];
    for (let i = 0; i < 5; i++) {
      const project = await org.project(`Big ${i}`);
      await org.member(project._id, await org.user(), ['viewer'], tags);
      projects.push(project._id);
    }
    const records = await readNewRecords();
    fake.events.length = 0;
    fake.messages.length = 0;
    fake.calls.length = 0;
    const result = await publisher()(streamEvent(records));
    expect(result.batchItemFailures).toEqual([]);
    expect(fake.messages).toEqual([]);
    const added = fake.events.filter((e) => e.DetailType === 'ProjectUserAdded' && projects.includes(JSON.parse(e.Detail).projectId));
    expect(added).toHaveLength(5);
    expect(Math.min(...added.map((e) => Buffer.byteLength(e.Detail)))).toBeGreaterThan(50_000);
    expect(fake.calls.every((entries) => entries.reduce((sum, e) => sum + Buffer.byteLength(e.Detail), 0) < 256 * 1024)).toBe(true);
  });

  it('entries that keep failing go to the DLQ with the original record; without a DLQ they are batch item failures', async () => {
    const org = await newOrg(t, 'Poison');
    const project = await org.project('Poison');
    await org.member(project._id, await org.user(), ['viewer']);
    const records = await readNewRecords();
    const poison: DynamoDBRecord = {
      ...records.find((r) => r.dynamodb?.NewImage?.entity?.S === 'Audit')!,
      dynamodb: { ...records[0]!.dynamodb, NewImage: { entity: { S: 'Audit' }, action: { S: 'ProjectUserAdded' } } as never },
    };

    fake.messages.length = 0;
    fake.rejectEntry = (entry) => (entry.DetailType === 'ProjectUserAdded' ? 'InternalFailure' : null);
    const parked = await publisher({ holdSeconds: 0 })(streamEvent([...records, poison]));
    expect(parked.batchItemFailures).toEqual([]);
    const bodies = fake.messages.map((m) => JSON.parse(m.MessageBody));
    expect(bodies.map((b) => b.reason)).toEqual([expect.stringContaining('lacks eventId'), expect.stringContaining('PutEvents failed: InternalFailure')]);
    expect(bodies[1].record.dynamodb.NewImage.action.S).toBe('ProjectUserAdded');

    const noDlq = await publisher({ dlq: undefined, holdSeconds: 0 })(streamEvent(records));
    const failedRecord = records.find((r) => r.dynamodb?.NewImage?.action?.S === 'ProjectUserAdded')!;
    expect(noDlq.batchItemFailures).toEqual([{ itemIdentifier: failedRecord.dynamodb!.SequenceNumber }]);
    fake.rejectEntry = null;
  });

  it('publishes a TTL removal of an expired membership as ProjectUserRemoved (SPEC §3: every membership change is one of its four types), by dynamodb-ttl; expired members get 404 at once', async () => {
    const org = await newOrg(t, 'Expiry');
    const project = await org.project('Expiry');
    const userId = await org.user();
    const key = await org.key(userId, 'read-write');
    const soon = new Date(Date.now() + 1_500).toISOString();
    const added = await call(t, 'POST', `/api/projects/${project._id}/users`, {
      key: org.adminKey,
      body: { _id: userId, roles: ['editor'], expiresAt: soon },
    });
    expect(added.status).toBe(201);
    expect(added.body.expiresAt).toBe(soon);
    expect((await call(t, 'GET', `/api/projects/${project._id}/users`, { key })).status).toBe(200);
    expect((await call(t, 'GET', '/api/projects', { key })).body.data.map((p: { _id: string }) => p._id)).toEqual([project._id]);
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await call(t, 'GET', `/api/projects/${project._id}/users`, { key })).status).toBe(404);
    expect((await call(t, 'GET', '/api/projects', { key })).body.data).toEqual([]);
    expect((await call(t, 'GET', `/api/projects/${project._id}/users/${added.body._id}`, { key: org.adminKey })).status).toBe(404);
    const listed = await call(t, 'GET', `/api/projects/${project._id}/users`, { key: org.adminKey });
    expect(listed.text).not.toContain(added.body._id);

    // DynamoDB Local does not run TTL; delete the item and mark the record as TTL's, as AWS does.
    await readNewRecords();
    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    const { createDocumentClient } = await import('../../../functions/store/client.js');
    await createDocumentClient(t.config).send(
      new DeleteCommand({ TableName: TABLE, Key: keys.projectUser(project._id, added.body._id) }),
    );
    const removal = (await readNewRecords()).map((r) => ({
      ...r,
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    }));
    expect(removal).toHaveLength(1);
    fake.events.length = 0;
    expect((await publisher()(streamEvent(removal))).batchItemFailures).toEqual([]);
    expect(fake.events.map((e) => e.DetailType)).toEqual(['ProjectUserRemoved']);
    expect(JSON.parse(fake.events[0]!.Detail)).toMatchObject({
      projectId: project._id,
      projectUserId: added.body._id,
      userId,
      rolesBefore: ['editor'],
      rolesAfter: null,
      actor: { userId: 'dynamodb-ttl' },
    });
  });

  it('publishes role and permission changes (SPEC §6) as org-level events with the actor', async () => {
    const org = await newOrg(t, 'Catalog events');
    await readNewRecords();
    expect((await call(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: 'content:publish' } })).status).toBe(201);
    const role = await call(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: 'Publisher', permissions: ['content:publish'] } });
    expect(role.status).toBe(201);
    expect((await call(t, 'PATCH', `/api/roles/${role.body._id}`, { key: org.adminKey, body: { permissions: [] } })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/roles/${role.body._id}`, { key: org.adminKey })).status).toBe(204);
    expect((await call(t, 'DELETE', '/api/permissions/content:publish', { key: org.adminKey })).status).toBe(204);

    // Only audit items, as the event source's filter delivers (DynamoDB Local's stream shows the catalog
    // item's empty maps as `{}`, which the publisher would take for poison).
    const audits = (await readNewRecords()).filter((r) => r.dynamodb?.NewImage?.entity?.S === 'Audit');
    fake.events.length = 0;
    expect((await publisher()(streamEvent(audits))).batchItemFailures).toEqual([]);
    const mine = fake.events.filter((e) => JSON.parse(e.Detail).orgId === org.orgId);
    expect(mine.map((e) => e.DetailType)).toEqual(['PermissionCreated', 'RoleCreated', 'RoleUpdated', 'RoleDeleted', 'PermissionDeleted']);
    const adminKeyId = org.adminKey.split('_').slice(1, 3).join('_');
    expect(details(mine).every((d) => d.projectId === null && d.actor.keyId === adminKeyId)).toBe(true);
    expect(details(mine)[1]!.after).toMatchObject({ roleId: role.body._id, name: 'Publisher', permissions: ['content:publish'] });
  });
});

describe('membership expiry', () => {
  it('an expired membership blocks a re-add (409 naming it) until a PATCH of expiresAt restores it', async () => {
    const org = await newOrg(t, 'Restore');
    const project = await org.project('Restore');
    const userId = await org.user();
    const users = `/api/projects/${project._id}/users`;
    const added = await call(t, 'POST', users, {
      key: org.adminKey,
      body: { _id: userId, roles: ['viewer'], expiresAt: new Date(Date.now() + 1_000).toISOString() },
    });
    expect(added.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1_100));

    const again = await call(t, 'POST', users, { key: org.adminKey, body: { _id: userId } });
    expect(again.status).toBe(409);
    expect(again.body.projectUserId).toBe(added.body._id);
    const path = `${users}/${added.body._id}`;
    expect((await call(t, 'PATCH', path, { key: org.adminKey, body: { tags: ['x'] } })).status).toBe(404);
    expect((await call(t, 'DELETE', path, { key: org.adminKey })).status).toBe(404);

    const restored = await call(t, 'PATCH', path, { key: org.adminKey, body: { expiresAt: null } });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ expiresAt: null, version: 2 });
    expect((await call(t, 'GET', path, { key: org.adminKey })).status).toBe(200);
    expect((await call(t, 'GET', users, { key: org.adminKey })).text).toContain(added.body._id);
  });

  it('an expired member is a 404 to a member who may not restore it, as a missing ID is: no existence oracle', async () => {
    const org = await newOrg(t, 'Expired oracle');
    const project = await org.project('Expired oracle');
    const users = `/api/projects/${project._id}/users`;
    const viewer = await org.user();
    await org.member(project._id, viewer, ['viewer']);
    const viewerKey = await org.key(viewer, 'read-write');
    const expiring = await call(t, 'POST', users, {
      key: org.adminKey,
      body: { _id: await org.user(), roles: ['viewer'], expiresAt: new Date(Date.now() + 1_000).toISOString() },
    });
    expect(expiring.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1_100));

    const missing = await call(t, 'PATCH', `${users}/pu_01m8m61wax5bpv0sntpf39tjbz`, { key: viewerKey, body: { expiresAt: null } });
    const expired = await call(t, 'PATCH', `${users}/${expiring.body._id}`, { key: viewerKey, body: { expiresAt: null } });
    expect(missing.status).toBe(404);
    expect({ status: expired.status, body: expired.body }).toEqual({ status: missing.status, body: missing.body });
    // The one who may restore it still can.
    expect((await call(t, 'PATCH', `${users}/${expiring.body._id}`, { key: org.adminKey, body: { expiresAt: null } })).status).toBe(200);
  });
});

describe('OrgUserDeleted consumer', () => {
  it('removes memberships across projects, keeps the owned one and reports it; a second delivery changes nothing', async () => {
    const org = await newOrg(t, 'Cascade');
    const doomed = await org.user({ orgRole: 'admin' });
    const doomedKey = await org.key(doomed, 'read-write');
    const owned = await org.project('Owned', doomedKey);
    const projects = [await org.project('A'), await org.project('B'), await org.project('C')];
    for (const p of projects) await org.member(p._id, doomed, ['editor']);

    const consumer = createOrgUserDeletedConsumer({
      store: t.store,
      events: createEventBridgeClient({ region, eventBridgeEndpoint: fake.endpoint }),
      busName: 'project-users-test',
    });
    const sqsEvent = (id: string): SQSEvent => ({
      Records: [
        {
          messageId: `m-${id}`,
          body: JSON.stringify({ id, source: 'identity', 'detail-type': 'OrgUserDeleted', detail: { orgId: org.orgId, userId: doomed } }),
        } as SQSEvent['Records'][number],
      ],
    });
    fake.events.length = 0;
    expect((await consumer(sqsEvent('e1'))).batchItemFailures).toEqual([]);
    for (const p of projects) {
      expect((await call(t, 'GET', `/api/projects/${p._id}/users`, { key: org.adminKey })).text).not.toContain(doomed);
    }
    const blocked = fake.events.filter((e) => e.DetailType === 'OrgUserDeletionBlocked').map((e) => JSON.parse(e.Detail));
    expect(blocked).toEqual([expect.objectContaining({ orgId: org.orgId, userId: doomed, blockedProjects: [owned._id] })]);
    expect((await call(t, 'GET', `/api/projects/${owned._id}/users`, { key: org.adminKey })).text).toContain(doomed);

    const auditBefore = await call(t, 'GET', `/api/projects/${projects[0]!._id}/audit`, { key: org.adminKey });
    expect(auditBefore.body.data[0]).toMatchObject({ action: 'ProjectUserRemoved', userId: doomed, actor: { userId: 'event:OrgUserDeleted' } });
    expect((await consumer(sqsEvent('e1'))).batchItemFailures).toEqual([]);
    const auditAfter = await call(t, 'GET', `/api/projects/${projects[0]!._id}/audit`, { key: org.adminKey });
    expect(auditAfter.body.data).toEqual(auditBefore.body.data);

    // After a transfer, the next delivery completes the deletion; then it is a no-op.
    const heir = await org.member(owned._id, await org.user(), ['admin']);
    await call(t, 'POST', `/api/projects/${owned._id}/owner`, { key: org.adminKey, body: { projectUserId: heir._id } });
    expect((await consumer(sqsEvent('e2'))).batchItemFailures).toEqual([]);
    expect((await call(t, 'GET', `/api/users/${doomed}`, { key: org.adminKey })).status).toBe(404);
    expect((await consumer(sqsEvent('e3'))).batchItemFailures).toEqual([]);
  });

  it('writes nothing while its cursor secret cannot be read: the record fails untouched and is retried', async () => {
    const org = await newOrg(t, 'No secret');
    const doomed = await org.user();
    const doomedKey = await org.key(doomed, 'read-write');
    const project = await org.project('Kept');
    await org.member(project._id, doomed, ['editor']);
    let reads = 0;
    const consumer = createOrgUserDeletedConsumer({
      store: createStore({
        ...t.config,
        cursorSecret: async () => {
          reads++;
          throw new Error('Cannot read the cursor secret: AccessDeniedException');
        },
      }),
      events: createEventBridgeClient({ region, eventBridgeEndpoint: fake.endpoint }),
      busName: 'project-users-test',
    });
    const result = await consumer({
      Records: [
        {
          messageId: 'no-secret',
          body: JSON.stringify({ id: 'e-no-secret', 'detail-type': 'OrgUserDeleted', detail: { orgId: org.orgId, userId: doomed } }),
        },
      ] as SQSEvent['Records'],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'no-secret' }]);
    expect(reads).toBeGreaterThanOrEqual(1); // the read started at load, or a new one for the record
    // Not even marked as being deleted: its key still works, its membership is still there.
    expect((await call(t, 'GET', `/api/projects/${project._id}/users/me`, { key: doomedKey })).status).toBe(200);
    expect((await call(t, 'GET', `/api/projects/${project._id}/users`, { key: org.adminKey })).text).toContain(doomed);
  });

  it('reports malformed messages as batch item failures (so the queue moves them to its DLQ)', async () => {
    const consumer = createOrgUserDeletedConsumer({
      store: t.store,
      events: createEventBridgeClient({ region, eventBridgeEndpoint: fake.endpoint }),
      busName: 'project-users-test',
    });
    const result = await consumer({
      Records: [
        { messageId: 'bad-json', body: '{' },
        { messageId: 'bad-id', body: JSON.stringify({ 'detail-type': 'OrgUserDeleted', detail: { orgId: 'org_x', userId: 'usr_#' } }) },
      ] as SQSEvent['Records'],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'bad-json' }, { itemIdentifier: 'bad-id' }]);
  });
});
