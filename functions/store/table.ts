import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DomainError, errors } from '../domain/errors.js';
import { createCursorCodec, invalidCursor, startKeyFitsQuery, type CursorCodec, type CursorSecret, type StartKey } from './cursor.js';
import { GSI1, type ItemKey } from './keys.js';
import type { RangeQuery } from './queries.js';

/**
 * The table kit: the only code that sends commands. Reads are single GetItem/BatchGetItem/Query
 * calls; every write is one TransactWriteItems that carries the change, the invariants as
 * conditions, the assertion that the caller's authority is unchanged, and an audit item.
 */

/** A pre-read item changed before the transaction committed: re-read and decide again. */
export class StaleReadError extends Error {
  constructor() {
    super('An item read before the write changed before the write committed');
    this.name = 'StaleReadError';
  }
}

/** Another request with the same Idempotency-Key committed first: replay its response. */
export class IdempotencyRaceError extends Error {
  constructor() {
    super('A request with the same Idempotency-Key committed first');
    this.name = 'IdempotencyRaceError';
  }
}

/**
 * A transaction that kept meeting concurrent transactions on its items and gave up: a 503 for the
 * client, but the caller may first learn whether contention hid a dead key (see withFreshReads).
 */
export class WriteContentionError extends DomainError {
  constructor() {
    const unavailable = errors.unavailable();
    super(unavailable.status, unavailable.code, unavailable.title, unavailable.detail);
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One operation of a transaction, without its table: the runner names the table when it sends. */
export interface Operation {
  Key?: ItemKey;
  Item?: Record<string, unknown>;
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}
export type TxItem = Partial<Record<'Put' | 'Update' | 'Delete' | 'ConditionCheck', Operation>>;

export const STALE = 'stale' as const;

/**
 * A condition value that is the time the transaction is sent, taken anew for every attempt (after
 * its preconditions and any retry): what a key's expiry is compared with, so that a write decided
 * before the expiry but sent after it is refused.
 */
export const SENT_AT: unique symbol = Symbol('the time the transaction is sent');

/** The item as sent at `sentAt`: every SENT_AT value replaced by that time. */
function atSendTime(item: Record<string, Record<string, unknown>>, sentAt: string) {
  for (const op of Object.values(item)) {
    const values = op.ExpressionAttributeValues as Record<string, unknown> | undefined;
    if (!values || !Object.values(values).includes(SENT_AT)) continue;
    op.ExpressionAttributeValues = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value === SENT_AT ? sentAt : value]));
  }
  return item;
}

export interface TxEntry {
  item: TxItem;
  /** What a failed condition on this item means to the caller. */
  onConditionFailed: Error | typeof STALE;
  /** Must settle before the transaction is sent; its rejection is the write's error. */
  precondition?: Promise<unknown>;
}

const STRIP = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity', 'ttl']);
/**
 * Storage details (keys, entity, TTL) never leave the store. A `for…in` copy, not
 * `Object.entries`: a list page runs this for every item, and the pairs array per item was a tenth
 * of the list route's own CPU (bench/PERFORMANCE.md).
 */
function toRecord<T>(item: Record<string, unknown> | undefined | null): T | null {
  if (!item) return null;
  const record: Record<string, unknown> = {};
  for (const name in item) if (!STRIP.has(name)) record[name] = item[name];
  return record as T;
}

const UNAVAILABLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'TransactionInProgressException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (e.name && UNAVAILABLE_ERRORS.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return e.cause !== undefined && isUnavailable(e.cause);
}

/**
 * DynamoDB takes one operation per item in a transaction. A check on an item the write also
 * touches (the caller's own membership, key or user) is folded into that operation's condition,
 * with its placeholders renamed; the folded operation keeps the first entry's failure meaning.
 */
export function mergeSameItem(entries: TxEntry[], tableName: string): TxEntry[] {
  const merged: TxEntry[] = [];
  const byItem = new Map<string, TxEntry>();
  entries.forEach((entry, index) => {
    const id = itemIdOf(entry.item, tableName);
    const first = id === null ? undefined : byItem.get(id);
    if (!first || id === null) {
      if (id !== null) byItem.set(id, entry);
      merged.push(entry);
      return;
    }
    const check = entry.item.ConditionCheck;
    if (!check) throw new Error(`Two writes to one item in a transaction: ${id}`);
    const op = operationOf(first.item);
    const rename = (text: string) => text.replace(/([:#][A-Za-z0-9_]+)/g, `$1_m${index}`);
    const renamed = <V>(record: Record<string, V> | undefined) =>
      Object.fromEntries(Object.entries(record ?? {}).map(([name, value]) => [rename(name), value]));
    const condition = rename(check.ConditionExpression!);
    op.ConditionExpression = op.ConditionExpression ? `(${op.ConditionExpression}) AND (${condition})` : condition;
    const names = { ...op.ExpressionAttributeNames, ...renamed(check.ExpressionAttributeNames) };
    const values = { ...op.ExpressionAttributeValues, ...renamed(check.ExpressionAttributeValues) };
    if (Object.keys(names).length) op.ExpressionAttributeNames = names;
    if (Object.keys(values).length) op.ExpressionAttributeValues = values;
    first.precondition = first.precondition && entry.precondition
      ? Promise.all([first.precondition, entry.precondition])
      : (first.precondition ?? entry.precondition);
  });
  return merged;
}

function operationOf(item: TxItem): Operation {
  return (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck)!;
}

function itemIdOf(item: TxItem, tableName: string): string | null {
  const op = operationOf(item);
  const key = (op.Key ?? op.Item) as { PK?: unknown; SK?: unknown } | undefined;
  return key ? `${tableName}\u0000${String(key.PK)}\u0000${String(key.SK)}` : null;
}

/** The item as sent: each operation names the table. */
function inTable(item: TxItem, TableName: string) {
  return Object.fromEntries(Object.entries(item).map(([kind, op]) => [kind, { TableName, ...op }]));
}

const MAX_TRANSACTION_CONFLICT_RETRIES = 3;
const MAX_FILTERED_QUERY_ROUNDS = 5;

/**
 * A range query resumed from a start key also starts its range there (`:from` ascending, `:to`
 * descending): the same items on DynamoDB, where `ExclusiveStartKey` is a seek, but DynamoDB
 * Local walks the range from its start up to the key (a page at member 9,990 of 10,000: 8.4 ms
 * instead of 3.9 ms), so pages deep in a large project stay as fast as the first.
 */
function resumeRange(input: Omit<QueryCommandInput, 'TableName'>, startKey: StartKey | undefined) {
  const values = input.ExpressionAttributeValues;
  if (!startKey || !values || !(':from' in values) || !(':to' in values)) return {};
  const sortKey = startKey[input.IndexName === GSI1 ? 'GSI1SK' : 'SK'];
  // Only a key inside the range narrows it (our own cursors always are).
  if (typeof sortKey !== 'string' || sortKey < String(values[':from']) || sortKey > String(values[':to'])) return {};
  const bound = input.ScanIndexForward === false ? ':to' : ':from';
  return { ExpressionAttributeValues: { ...values, [bound]: sortKey } };
}

/** The connection every operation below runs on. */
interface Db {
  client: DynamoDBDocumentClient;
  TableName: string;
  cursors: CursorCodec;
}

async function send<T>(db: Db, command: { input: unknown }): Promise<T> {
  try {
    return (await db.client.send(command as never)) as T;
  } catch (error) {
    if (isUnavailable(error)) throw errors.unavailable();
    throw error;
  }
}

async function getItem<T>(db: Db, key: ItemKey, consistent = false): Promise<T | null> {
  const out = await send<{ Item?: Record<string, unknown> }>(db, new GetCommand({ TableName: db.TableName, Key: key, ConsistentRead: consistent }));
  return toRecord<T>(out.Item);
}

/**
 * One BatchGetItem (re-sent only for keys DynamoDB left unprocessed); records in key order, null
 * where an item is missing. A single key is a GetItem: the same read, with less to (de)serialize
 * than a batch.
 */
async function batchGet(db: Db, itemKeys: ItemKey[], consistent: boolean): Promise<(Record<string, unknown> | null)[]> {
  if (itemKeys.length === 0) return [];
  if (itemKeys.length === 1) return [await getItem(db, itemKeys[0]!, consistent)];
  const { TableName } = db;
  const id = (key: object) => { const { PK, SK } = key as ItemKey; return `${PK}\u0000${SK}`; };
  const found = new Map<string, Record<string, unknown>>();
  // BatchGetItem rejects duplicate keys (a caller who is also the target asks twice).
  let pending: ItemKey[] = [...new Map(itemKeys.map((key) => [id(key), key])).values()];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 5) throw errors.unavailable();
    if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    const out = await send<{
      Responses?: Record<string, Record<string, unknown>[]>;
      UnprocessedKeys?: Record<string, { Keys?: Record<string, unknown>[] }>;
    }>(db, new BatchGetCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: consistent } } }));
    for (const item of out.Responses?.[TableName] ?? []) found.set(id(item), item);
    pending = (out.UnprocessedKeys?.[TableName]?.Keys ?? []) as unknown as ItemKey[];
  }
  return itemKeys.map((key) => toRecord(found.get(id(key))));
}

/**
 * One page of a Query. The cursor points just after the last item returned, so a page cut short
 * by DynamoDB's 1 MB limit or by a filter neither skips nor repeats an item.
 */
async function queryPage<T>(db: Db, listing: string, query: RangeQuery, page: { limit: number; cursor?: string }): Promise<Page<T>> {
  const { input, keyAttributes } = query;
  const { limit } = page;
  await db.cursors.available();
  let startKey: StartKey | undefined = page.cursor ? db.cursors.decode(listing, page.cursor) : undefined;
  // Signed is not enough: a start key outside this Query is DynamoDB's ValidationException (a 500).
  if (startKey && !startKeyFitsQuery(startKey, input, keyAttributes)) throw invalidCursor();
  const filtered = input.FilterExpression !== undefined;
  const items: Record<string, unknown>[] = [];
  let rounds = 0;
  do {
    const wanted = limit + 1 - items.length;
    const out = await send<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: StartKey }>(
      db,
      new QueryCommand({
        ...input,
        ...resumeRange(input, startKey),
        TableName: db.TableName,
        ExclusiveStartKey: startKey,
        // A filter drops items after they are read, so read ahead to fill the page in fewer calls.
        Limit: filtered ? Math.min(wanted * 4, 1_000) : wanted,
      }),
    );
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
    rounds++;
  } while (items.length <= limit && startKey && (!filtered || rounds < MAX_FILTERED_QUERY_ROUNDS));

  let next: StartKey | undefined = startKey;
  if (items.length > limit) {
    items.length = limit;
    const last = items[limit - 1]!;
    next = Object.fromEntries(keyAttributes.map((name) => [name, String(last[name])]));
  }
  return {
    items: items.map((item) => toRecord<T>(item)!),
    nextCursor: next ? db.cursors.encode(listing, next) : null,
  };
}

/**
 * Sends one transaction. A failed condition becomes the failing entry's meaning; a conflict with
 * another transaction is retried a few times with backoff, then is a WriteContentionError.
 */
async function transact(db: Db, all: TxEntry[]): Promise<void> {
  const entries = mergeSameItem(all, db.TableName);
  await Promise.all(entries.map((entry) => entry.precondition));
  for (let attempt = 0; ; attempt++) {
    try {
      const sentAt = new Date().toISOString();
      await db.client.send(new TransactWriteCommand({ TransactItems: entries.map((e) => atSendTime(inTable(e.item, db.TableName), sentAt)) }));
      return;
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((error as { name?: string }).name === 'TransactionCanceledException' && reasons) {
        const failedItems = reasons.flatMap((r, index) => (r.Code === 'ConditionalCheckFailed' ? [index] : []));
        // An Idempotency-Key race explains every other failure of the same transaction.
        const failed =
          failedItems.find((index) => entries[index]!.onConditionFailed instanceof IdempotencyRaceError) ?? failedItems[0] ?? -1;
        if (failed >= 0) {
          const meaning = entries[failed]!.onConditionFailed;
          throw meaning === STALE ? new StaleReadError() : meaning;
        }
        if (reasons.some((r) => r.Code === 'TransactionConflict')) {
          if (attempt >= MAX_TRANSACTION_CONFLICT_RETRIES) throw new WriteContentionError();
          await new Promise((r) => setTimeout(r, 10 * 2 ** attempt + Math.random() * 10));
          continue;
        }
        throw errors.unavailable();
      }
      if (isUnavailable(error)) throw errors.unavailable();
      throw error;
    }
  }
}

/** The table kit the entity modules are written against. */
export interface Table {
  name: string;
  cursors: CursorCodec;
  getItem<T>(key: ItemKey, consistent?: boolean): Promise<T | null>;
  batchGet(itemKeys: ItemKey[], consistent: boolean): Promise<(Record<string, unknown> | null)[]>;
  queryPage<T>(listing: string, query: RangeQuery, page: { limit: number; cursor?: string }): Promise<Page<T>>;
  transact(entries: TxEntry[]): Promise<void>;
}

export function createTable(client: DynamoDBDocumentClient, config: { tableName: string; cursorSecret: CursorSecret }): Table {
  const db: Db = { client, TableName: config.tableName, cursors: createCursorCodec(config.cursorSecret) };
  return {
    name: db.TableName,
    cursors: db.cursors,
    getItem: (key, consistent) => getItem(db, key, consistent),
    batchGet: (itemKeys, consistent) => batchGet(db, itemKeys, consistent),
    queryPage: (listing, query, page) => queryPage(db, listing, query, page),
    transact: (entries) => transact(db, entries),
  };
}
