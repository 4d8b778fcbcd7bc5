import { instrumentCapacity, type CapacityCall } from '../lib/capacity.js';
import { createScenarios } from '../lib/scenarios.js';
import { fmt, markdownTable, pass, round } from '../lib/stats.js';
import { appFor, expectStatus, orgWithProject, TABLE_NAME, type World } from '../lib/world.js';
import { KEY_CACHE_MAX_SECONDS } from '../../functions/config.js';
import { createDocumentClient } from '../../functions/store/client.js';

export interface CapacityRow {
  route: string;
  kind: 'read' | 'write' | 'auth';
  informational?: string;
  calls: string;
  reportedByLocal: number;
  rcu: number;
  wcu: number;
  requiredRcu: number;
  requiredWcu: number;
  maxItemBytes: number;
  note: string;
  pass: boolean;
}

function describe(calls: CapacityCall[]): string {
  return calls
    .map((c) => {
      if (c.op === 'TransactWriteItems') return `TransactWriteItems [${c.items.join(', ')}]`;
      const items = c.op === 'Query' ? c.items.join(', ') : c.items.join(', ');
      return `${c.op}${c.consistent ? ' (strong)' : ''} [${items}]`;
    })
    .join(' → ');
}

/**
 * Consumed capacity per route, with `ReturnConsumedCapacity: TOTAL` on every call of an app built
 * over an instrumented client (straight to DynamoDB Local), the key cache warm. Read routes must
 * read eventually consistently; a write reads once, strongly consistent (its decision must see
 * the caller's and the target's latest committed state: read-your-writes), then commits one
 * transaction. No item is read twice in one request.
 */
export async function capacity(world: World) {
  const client = createDocumentClient(world.config);
  const recorder = instrumentCapacity(client, world.raw, TABLE_NAME);
  const setup = appFor(world.config);
  const measured = appFor(world.config, client);
  const warmups = 2;
  const runs = 3;
  const scenarios = await createScenarios(setup, measured, warmups + runs, 'capacity');
  const rows: CapacityRow[] = [];
  const row = (name: string, kind: CapacityRow['kind'], calls: CapacityCall[], informational?: string): CapacityRow => {
    const rcu = calls.reduce((n, c) => n + c.rcu, 0);
    const wcu = calls.reduce((n, c) => n + c.wcu, 0);
    const reads = calls.filter((c) => c.op !== 'TransactWriteItems');
    const transactions = calls.filter((c) => c.op === 'TransactWriteItems');
    // Required: every item read once (an item read twice in one request is waste); read routes
    // eventually consistent; before a write, strongly consistent (the decision must see the latest
    // committed state: a just-added member, a just-stored idempotent response).
    const seen = new Set<string>();
    let requiredRcu = 0;
    let duplicates = 0;
    for (const c of reads) {
      if (c.op === 'Query') requiredRcu += kind === 'read' ? c.rcuEventual : c.rcu;
      for (const k of c.keyReads) {
        if (seen.has(k.key)) {
          duplicates++;
          continue;
        }
        seen.add(k.key);
        requiredRcu += kind === 'read' ? k.rcuEventual : k.rcu;
      }
    }
    const notes: string[] = [];
    if (kind === 'read') notes.push(rcu > requiredRcu && duplicates === 0 ? 'strongly consistent read on a read route' : 'eventually consistent');
    else if (kind === 'auth') notes.push('strong by design: a key revoked through this instance must fail at once');
    else notes.push(`${reads.length === 1 ? 'one strong read' : `${reads.length} strong reads`} + ${transactions.length} transaction${transactions.length === 1 ? '' : 's'}`);
    if (duplicates) notes.push(`${duplicates} item${duplicates === 1 ? '' : 's'} read twice`);
    const note = notes.join('; ');
    const requiredWcu = wcu; // every item is charged its own size; see PERFORMANCE.md for why each is needed
    return {
      route: name,
      kind,
      informational,
      calls: describe(calls),
      reportedByLocal: round(calls.reduce((n, c) => n + c.reported, 0), 1),
      rcu: round(rcu, 1),
      wcu: round(wcu, 1),
      requiredRcu: round(requiredRcu, 1),
      requiredWcu: round(requiredWcu, 1),
      maxItemBytes: Math.max(0, ...calls.map((c) => c.maxItemBytes)),
      note,
      pass: rcu <= requiredRcu && wcu <= requiredWcu,
    };
  };

  for (const scenario of scenarios) {
    for (let i = 0; i < warmups; i++) await scenario.run();
    let last: CapacityCall[] = [];
    for (let i = 0; i < runs; i++) {
      recorder.reset();
      await scenario.run();
      last = [...recorder.calls];
    }
    rows.push(row(scenario.name, scenario.kind, last, scenario.informational));
  }

  // Key resolution on a cold key cache: once per key per KEY_CACHE_SECONDS per instance.
  const fixture = await orgWithProject(setup, 'capacity auth');
  const coldClient = createDocumentClient(world.config);
  const coldRecorder = instrumentCapacity(coldClient, world.raw, TABLE_NAME);
  const cold = appFor(world.config, coldClient);
  await expectStatus('cold GET', cold, 'GET', `/api/projects/${fixture.projectId}/users/${fixture.ownerPu}`, 200, { key: fixture.adminKey });
  const authCalls = coldRecorder.calls.slice(0, -1);
  rows.push(row(`key resolution (cache miss, ≤ 1 per key per ${KEY_CACHE_MAX_SECONDS} s)`, 'auth', authCalls));

  for (const c of [client, setup.client, coldClient]) c.destroy();
  const markdown = markdownTable(
    ['route', 'DynamoDB calls [items]', 'RCU', 'WCU', 'required RCU / WCU', 'largest item (B)', 'DynamoDB Local reports', 'target'],
    rows.map((r) => [
      `\`${r.route}\``,
      r.calls,
      fmt(r.rcu),
      fmt(r.wcu),
      `${fmt(r.requiredRcu)} / ${fmt(r.requiredWcu)}`,
      r.maxItemBytes,
      fmt(r.reportedByLocal),
      `${pass(r.pass)}${r.informational ? ` (${r.informational})` : ''}`,
    ]),
    'llrrrrrl',
  );
  return { rows, markdown };
}
