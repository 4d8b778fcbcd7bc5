/**
 * The tests' shared table: where it is, a raw client on it, one partition's items, and the
 * invariant checker over the attacked organizations or over the whole table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { readConfig } from '../../functions/config.js';
import { DEFAULT_LOCAL_REGION, LOCAL_CREDENTIALS } from '../../scripts/local-defaults.js';
import { inspectTable, type CheckTableOptions } from '../../scripts/invariants/index.js';
import type { Attack } from './attack.js';

/** Where the tests' table is (set by test/support/env.ts). */
export function tableTarget(): Pick<CheckTableOptions, 'tableName' | 'endpoint'> {
  const config = readConfig();
  return { tableName: config.tableName, endpoint: config.dynamoEndpoint };
}

/** A raw client on a DynamoDB Local (the caller destroys it). */
export function localDynamoClient(endpoint: string | undefined, region: string = DEFAULT_LOCAL_REGION): DynamoDBClient {
  return new DynamoDBClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
}

let shared: { raw: DynamoDBClient; doc: DynamoDBDocumentClient } | null = null;
/** A raw client on the tests' table, for reading what the API wrote. */
export function tableClient() {
  if (!shared) {
    const config = readConfig();
    const raw = localDynamoClient(config.dynamoEndpoint, config.region);
    shared = { raw, doc: DynamoDBDocumentClient.from(raw) };
  }
  return shared;
}

/** Every item of one partition (consistent), optionally with an SK prefix. */
export async function partitionItems(pk: string, skPrefix = '', client = tableClient().doc, tableName = tableTarget().tableName) {
  const out: Record<string, any>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: skPrefix ? 'PK = :pk AND begins_with(SK, :p)' : 'PK = :pk',
        ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':p': skPrefix } : { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * The invariant checker over the attacked organizations (by Query: other test files write to the
 * same table in parallel, so a whole-table Scan here would see their writes half-done).
 */
export async function checkInvariants(attack: Attack, orgIds: string[], target: CheckTableOptions = { ...tableTarget(), client: tableClient().raw }) {
  const report = await inspectTable({ ...target, orgIds });
  for (const v of report.violations) attack.violation(`invariant ${v.rule}: ${v.item}: ${v.detail}`);
  attack.add('itemsChecked', report.items);
  return report;
}

/**
 * The invariant checker over the whole shared table (a Scan of it and of GSI1). Only for a run
 * whose files go one at a time (the stress run), so nothing is half-written while it looks.
 */
export async function expectWholeTableSound(after: string) {
  const report = await inspectTable({ ...tableTarget(), client: tableClient().raw });
  console.log(
    `CHECK-TABLE after ${after}: ${report.items} items, ${report.indexEntries} GSI1 entries, violations=${report.violations.length}` +
      ` (${Object.entries(report.byEntity).map(([e, n]) => `${e} ${n}`).join(', ')})`,
  );
  for (const v of report.violations.slice(0, 20)) console.log(`  VIOLATION ${v.rule}: ${v.item}: ${v.detail}`);
  expect(report.violations).toEqual([]);
}
