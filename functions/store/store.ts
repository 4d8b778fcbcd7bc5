import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.js';
import { DomainError, errors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type {
  Actor,
  ApiKey,
  AuditAction,
  AuditEntry,
  Membership,
  Org,
  OrgUser,
  Project,
  ProjectUser,
} from '../domain/model.js';
import { normalizeRoles, type KeyScope, type OrgRole, type Role } from '../domain/permissions.js';
import { createDocumentClient } from './client.js';
import { createCursorCodec, invalidCursor, startKeyFitsQuery, type StartKey } from './cursor.js';
import { ENTITY, GSI1, gsi1, keys, partitions, prefixRange, prefixes, type EntityType, type ItemKey } from './keys.js';

/**
 * All DynamoDB access. Reads are single GetItem/BatchGetItem/Query calls; every write is one
 * TransactWriteItems that carries the change, the invariants as conditions, the assertion that
 * the caller's authority is unchanged, and an audit item.
 */

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

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

/** A response as stored for idempotent replay. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface IdempotencyRecord extends StoredResponse {
  requestHash: string;
  createdAt: string;
}

/** Asks a POST's transaction to also store its response under the caller's Idempotency-Key. */
export interface IdempotencyWrite<T> {
  apiKeyId: string;
  keyHash: string;
  requestHash: string;
  response: (result: T) => StoredResponse;
  /**
   * Settles when the lookup of an earlier response under this key has found none (it rejects
   * when there is one): the lookup runs beside the request's own read, and the transaction waits
   * for it, so a replay never costs a failed transaction.
   */
  noEarlierResponse?: Promise<void>;
}

export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

const STALE = 'stale' as const;
interface TxEntry {
  item: TxItem;
  /** What a failed condition on this item means to the caller. */
  onConditionFailed: Error | typeof STALE;
  /** Must settle before the transaction is sent; its rejection is the write's error. */
  precondition?: Promise<unknown>;
}

/** The calling API key and its org user: every write re-asserts both are still live. */
export interface CallerKey {
  keyId: string;
  orgId: string;
  userId: string;
}

/**
 * What a write's authorization rested on, re-asserted inside its transaction. Every kind but
 * `operator` carries the calling key: its item must still exist, unrevoked and unexpired, and its
 * org user must not be deleted, so a key revoked on any instance never writes again.
 */
export type Authority =
  | { kind: 'membership'; caller: CallerKey; projectId: string; userId: string; version: number }
  | { kind: 'globalKey'; caller: CallerKey }
  | { kind: 'orgUser'; caller: CallerKey; orgId: string; userId: string; version: number }
  /** A read-write key adding its own user: the key, its user and the target checks suffice. */
  | { kind: 'selfJoin'; caller: CallerKey }
  /** The admin CLI, with direct table access and no API key. */
  | { kind: 'operator' };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function withoutNulls(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null));
}

const STRIP = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity', 'ttl']);
function toRecord<T>(item: Record<string, unknown> | undefined): T | null {
  if (!item) return null;
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!STRIP.has(name)) record[name] = value;
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

type Operation = {
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
};

function operationOf(item: TxItem): Operation {
  return (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck) as Operation;
}

function itemIdOf(item: TxItem, tableName: string): string | null {
  const op = operationOf(item);
  const key = (op.Key ?? op.Item) as { PK?: unknown; SK?: unknown } | undefined;
  return key ? `${tableName}\u0000${String(key.PK)}\u0000${String(key.SK)}` : null;
}

const MAX_TRANSACTION_CONFLICT_RETRIES = 3;
const MAX_FILTERED_QUERY_ROUNDS = 5;

export function createStore(config: Config, client: DynamoDBDocumentClient = createDocumentClient(config)) {
  const TableName = config.tableName;
  const cursors = createCursorCodec(config.cursorSecret);

  async function send<T>(command: { input: unknown }): Promise<T> {
    try {
      return (await client.send(command as never)) as T;
    } catch (error) {
      if (isUnavailable(error)) throw errors.unavailable();
      throw error;
    }
  }

  async function getItem<T>(key: ItemKey, consistent = false): Promise<T | null> {
    const out = await send<{ Item?: Record<string, unknown> }>(
      new GetCommand({ TableName, Key: key, ConsistentRead: consistent }),
    );
    return toRecord<T>(out.Item);
  }

  /**
   * One BatchGetItem (re-sent only for keys DynamoDB left unprocessed); results in key order. A
   * single key is a GetItem: the same read, with less to (de)serialize than a batch.
   */
  async function batchGet(itemKeys: ItemKey[], consistent: boolean): Promise<(Record<string, unknown> | null)[]> {
    if (itemKeys.length === 0) return [];
    if (itemKeys.length === 1) {
      const out = await send<{ Item?: Record<string, unknown> }>(new GetCommand({ TableName, Key: itemKeys[0], ConsistentRead: consistent }));
      return [out.Item ?? null];
    }
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
      }>(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: consistent } } }));
      for (const item of out.Responses?.[TableName] ?? []) found.set(id(item), item);
      pending = (out.UnprocessedKeys?.[TableName]?.Keys ?? []) as unknown as ItemKey[];
    }
    return itemKeys.map((key) => found.get(id(key)) ?? null);
  }

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
    // Only a key inside the range narrows it (our own signed cursors always are).
    if (typeof sortKey !== 'string' || sortKey < String(values[':from']) || sortKey > String(values[':to'])) return {};
    const bound = input.ScanIndexForward === false ? ':to' : ':from';
    return { ExpressionAttributeValues: { ...values, [bound]: sortKey } };
  }

  /**
   * One page of a Query. The cursor points just after the last item returned, so a page cut short
   * by DynamoDB's 1 MB limit or by a filter neither skips nor repeats an item.
   */
  async function queryPage<T>(
    listing: string,
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    limit: number,
    cursor: string | undefined,
    keyAttributes: readonly string[],
  ): Promise<Page<T>> {
    let startKey: StartKey | undefined = cursor ? cursors.decode(listing, cursor) : undefined;
    // Signed is not enough: a start key outside this Query is DynamoDB's ValidationException (a 500).
    if (startKey && !startKeyFitsQuery(startKey, input, keyAttributes)) throw invalidCursor();
    const filtered = input.FilterExpression !== undefined;
    const items: Record<string, unknown>[] = [];
    let rounds = 0;
    do {
      const wanted = limit + 1 - items.length;
      const out = await send<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: StartKey }>(
        new QueryCommand({
          ...input,
          ...resumeRange(input, startKey),
          TableName,
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
      nextCursor: next ? cursors.encode(listing, next) : null,
    };
  }

  async function transact(all: TxEntry[]): Promise<void> {
    const entries = mergeSameItem(all, TableName);
    await Promise.all(entries.map((entry) => entry.precondition));
    for (let attempt = 0; ; attempt++) {
      try {
        await client.send(new TransactWriteCommand({ TransactItems: entries.map((e) => e.item) }));
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

  function put(entity: EntityType, item: Record<string, unknown>, onConditionFailed: TxEntry['onConditionFailed'] = STALE): TxEntry {
    return {
      item: { Put: { TableName, Item: { ...item, entity }, ConditionExpression: 'attribute_not_exists(PK)' } },
      onConditionFailed,
    };
  }

  function auditEntry(input: Omit<AuditEntry, 'eventId' | 'at'>, at: string): TxEntry {
    const eventId = newId('audit', Date.parse(at));
    const key = input.projectId ? keys.projectAudit(input.projectId, eventId) : keys.orgAudit(input.orgId, eventId);
    const entry: AuditEntry = { ...input, eventId, at };
    return { item: { Put: { TableName, Item: { ...key, ...entry, entity: ENTITY.audit } } }, onConditionFailed: STALE };
  }

  /** The calling key still exists, is not revoked and has not expired. */
  function liveKeyCheck(keyId: string, now: string): TxEntry {
    return {
      item: {
        ConditionCheck: {
          TableName,
          Key: keys.apiKey(keyId),
          ConditionExpression:
            'attribute_exists(PK) AND attribute_not_exists(revokedAt) AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
          ExpressionAttributeValues: { ':now': now },
        },
      },
      onConditionFailed: errors.unauthenticated(),
    };
  }

  /**
   * The facts the caller's authorization rested on. Checks that land on an item the write also
   * touches are folded into that item's operation by `mergeSameItem` (one item, one operation).
   */
  function authorityCheck(authority: Authority, now: string): TxEntry[] {
    if (authority.kind === 'operator') return [];
    const { caller } = authority;
    const checks: TxEntry[] = [liveKeyCheck(caller.keyId, now)];
    if (authority.kind === 'orgUser' && authority.userId === caller.userId) {
      checks.push({
        item: {
          ConditionCheck: {
            TableName,
            Key: keys.orgUser(authority.orgId, authority.userId),
            ConditionExpression: 'version = :v AND attribute_not_exists(deletingAt)',
            ExpressionAttributeValues: { ':v': authority.version },
          },
        },
        onConditionFailed: STALE,
      });
    } else {
      checks.push(activeOrgUserCheck(caller.orgId, caller.userId, errors.unauthenticated()));
    }
    if (authority.kind === 'membership') {
      checks.push({
        item: {
          ConditionCheck: {
            TableName,
            Key: keys.membership(authority.projectId, authority.userId),
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': authority.version },
          },
        },
        onConditionFailed: STALE,
      });
    }
    return checks;
  }

  /** The org user exists and is not being deleted: the target of a join, a key or a membership. */
  function activeOrgUserCheck(orgId: string, userId: string, onFail: TxEntry['onConditionFailed']): TxEntry {
    return {
      item: {
        ConditionCheck: {
          TableName,
          Key: keys.orgUser(orgId, userId),
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(deletingAt)',
        },
      },
      onConditionFailed: onFail,
    };
  }

  function idempotencyEntry<T>(idempotency: IdempotencyWrite<T> | undefined, result: T, now: string): TxEntry | null {
    if (!idempotency) return null;
    const response = idempotency.response(result);
    const nowMs = Date.parse(now);
    return {
      item: {
        Put: {
          TableName,
          Item: {
            ...keys.idempotency(idempotency.apiKeyId, idempotency.keyHash),
            entity: ENTITY.idempotencyRecord,
            requestHash: idempotency.requestHash,
            status: response.status,
            body: JSON.stringify(response.body),
            headers: response.headers,
            createdAt: now,
            ttl: Math.floor(nowMs / 1000) + IDEMPOTENCY_WINDOW_SECONDS,
          },
          // An expired record (TTL deletion can lag by hours) is overwritten, a live one wins.
          ConditionExpression: 'attribute_not_exists(PK) OR createdAt < :cutoff',
          ExpressionAttributeValues: { ':cutoff': new Date(nowMs - IDEMPOTENCY_WINDOW_SECONDS * 1000).toISOString() },
        },
      },
      onConditionFailed: new IdempotencyRaceError(),
      precondition: idempotency.noEarlierResponse,
    };
  }

  /**
   * A Query of one partition's items under an SK prefix, with optional filters (those whose value
   * is undefined are left out). Attribute names always go through placeholders.
   */
  function partitionQuery(
    pk: string,
    skPrefix: string,
    filters: { attribute: string; match: 'contains' | 'equals'; value: string | undefined }[],
  ) {
    const values: Record<string, unknown> = { ':pk': pk, ...rangeValues(skPrefix) };
    const names: Record<string, string> = {};
    const conditions: string[] = [];
    filters.forEach(({ attribute, match, value }, i) => {
      if (value === undefined) return;
      names[`#f${i}`] = attribute;
      values[`:f${i}`] = value;
      conditions.push(match === 'contains' ? `contains(#f${i}, :f${i})` : `#f${i} = :f${i}`);
    });
    return {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: values,
      ...(conditions.length ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
    };
  }

  function rangeValues(prefix: string) {
    const range = prefixRange(prefix);
    return { ':from': range.from, ':to': range.to };
  }

  function combine(...entries: (TxEntry | null)[]): TxEntry[] {
    return entries.filter((e): e is TxEntry => e !== null);
  }

  /** DynamoDB TTL (epoch seconds) removes an expired membership; NULL means never. */
  function ttlOf(expiresAt: string | null | undefined): number | null {
    return expiresAt ? Math.ceil(Date.parse(expiresAt) / 1000) : null;
  }

  function projectUserItems(pu: ProjectUser): { projectUser: Record<string, unknown>; membership: Record<string, unknown> } {
    const ttl = ttlOf(pu.expiresAt);
    return {
      projectUser: {
        ...keys.projectUser(pu.projectId, pu.projectUserId),
        ...gsi1.membershipOfUser(pu.userId, pu.projectId),
        ...pu,
        ttl,
      },
      membership: { ...keys.membership(pu.projectId, pu.userId), ...pu, ttl },
    };
  }

  function pairFields(pu: ProjectUser) {
    return {
      roles: pu.roles,
      tags: pu.tags,
      isOwner: pu.isOwner,
      expiresAt: pu.expiresAt ?? null,
      ttl: ttlOf(pu.expiresAt),
      updatedAt: pu.updatedAt,
      version: pu.version,
    };
  }

  /** Update a project user and its membership twin together, conditioned on the version read. */
  function updateMemberPair(before: ProjectUser, after: ProjectUser, onStale: TxEntry['onConditionFailed']): TxEntry[] {
    const set = (extra: Record<string, unknown>) => {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':expected': before.version };
      const parts: string[] = [];
      for (const [name, value] of Object.entries(extra)) {
        names[`#${name}`] = name;
        values[`:${name}`] = value;
        parts.push(`#${name} = :${name}`);
      }
      return { UpdateExpression: `SET ${parts.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
    };
    return [
      {
        item: {
          Update: {
            TableName,
            Key: keys.projectUser(after.projectId, after.projectUserId),
            ConditionExpression: 'version = :expected',
            ...set(pairFields(after)),
          },
        },
        onConditionFailed: onStale,
      },
      {
        item: {
          Update: {
            TableName,
            Key: keys.membership(after.projectId, after.userId),
            ConditionExpression: 'version = :expected',
            ...set(pairFields(after)),
          },
        },
        onConditionFailed: onStale,
      },
    ];
  }

  function memberSnapshot(pu: ProjectUser) {
    return { roles: pu.roles, tags: pu.tags, isOwner: pu.isOwner, expiresAt: pu.expiresAt ?? null };
  }

  return {
    cursors,

    /** The live (under 24 h old) stored response for an Idempotency-Key, if any. */
    async getIdempotencyRecord(apiKeyId: string, keyHash: string): Promise<IdempotencyRecord | null> {
      const item = await getItem<IdempotencyRecord & { body: string }>(keys.idempotency(apiKeyId, keyHash), true);
      if (!item) return null;
      if (Date.parse(item.createdAt) < Date.now() - IDEMPOTENCY_WINDOW_SECONDS * 1000) return null;
      return { ...item, body: JSON.parse(item.body) };
    },

    // ---- authentication -------------------------------------------------------------------
    getApiKey: (keyId: string) => getItem<ApiKey>(keys.apiKey(keyId), true),
    getOrgUser: (orgId: string, userId: string, consistent = false) =>
      getItem<OrgUser>(keys.orgUser(orgId, userId), consistent),
    getOrg: (orgId: string) => getItem<Org>(keys.org(orgId)),

    // ---- project reads ----------------------------------------------------------------------
    /**
     * What a request about one project needs, in one BatchGetItem: the project, the caller's
     * membership and optionally one project user, the membership of one org user and one org user.
     * A read leaves out what cannot change its answer (`skipProject`, `skipCaller`: see
     * `readContext` in functions/http/context.ts); a skipped item comes back as null.
     */
    async projectContext(
      projectId: string,
      callerUserId: string,
      extra: {
        projectUserId?: string;
        memberUserId?: string;
        orgUser?: { orgId: string; userId: string };
        skipProject?: boolean;
        skipCaller?: boolean;
      } = {},
      consistent = false,
    ) {
      const wanted: ItemKey[] = [];
      const slot = (key: ItemKey | undefined) => (key ? wanted.push(key) - 1 : -1);
      const at = {
        project: slot(extra.skipProject ? undefined : keys.project(projectId)),
        caller: slot(extra.skipCaller ? undefined : keys.membership(projectId, callerUserId)),
        projectUser: slot(extra.projectUserId ? keys.projectUser(projectId, extra.projectUserId) : undefined),
        member: slot(extra.memberUserId ? keys.membership(projectId, extra.memberUserId) : undefined),
        orgUser: slot(extra.orgUser ? keys.orgUser(extra.orgUser.orgId, extra.orgUser.userId) : undefined),
      };
      const items = await batchGet(wanted, consistent);
      const pick = <T>(index: number) => (index < 0 ? null : toRecord<T>(items[index] ?? undefined));
      return {
        project: pick<Project>(at.project),
        callerMembership: pick<Membership>(at.caller),
        projectUser: pick<ProjectUser>(at.projectUser),
        memberMembership: pick<Membership>(at.member),
        orgUser: pick<OrgUser>(at.orgUser),
      };
    },

    listProjectUsers(projectId: string, query: { limit: number; cursor?: string; role?: Role; tag?: string }) {
      return queryPage<ProjectUser>(
        `project-users:${projectId}:${query.role ?? ''}:${query.tag ?? ''}`,
        partitionQuery(partitions.project(projectId), prefixes.projectUser, [
          { attribute: 'roles', match: 'contains', value: query.role },
          { attribute: 'tags', match: 'contains', value: query.tag },
        ]),
        query.limit,
        query.cursor,
        ['PK', 'SK'],
      );
    },

    /** A project's audit log, newest first; one Query per page (filters read ahead, like lists). */
    listAudit(projectId: string, query: { limit: number; cursor?: string; projectUserId?: string; action?: string }) {
      return queryPage<AuditEntry>(
        `project-audit:${projectId}:${query.projectUserId ?? ''}:${query.action ?? ''}`,
        {
          ...partitionQuery(partitions.project(projectId), prefixes.audit, [
            { attribute: 'projectUserId', match: 'equals', value: query.projectUserId },
            { attribute: 'action', match: 'equals', value: query.action },
          ]),
          ScanIndexForward: false,
        },
        query.limit,
        query.cursor,
        ['PK', 'SK'],
      );
    },

    getProject: (projectId: string) => getItem<Project>(keys.project(projectId)),

    async getProjects(projectIds: string[]): Promise<Project[]> {
      const items = await batchGet(projectIds.map((id) => keys.project(id)), false);
      return items.map((item) => toRecord<Project>(item ?? undefined)).filter((p): p is Project => p !== null);
    },

    /** Projects of an org (for global keys), by GSI1. */
    listOrgProjects(orgId: string, page: { limit: number; cursor?: string }) {
      return queryPage<Project>(
        `org-projects:${orgId}`,
        {
          IndexName: GSI1,
          KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': partitions.org(orgId), ...rangeValues(prefixes.project) },
        },
        page.limit,
        page.cursor,
        ['PK', 'SK', 'GSI1PK', 'GSI1SK'],
      );
    },

    /** Memberships of an org user across projects, by GSI1. */
    listMembershipsOfUser(userId: string, page: { limit: number; cursor?: string }) {
      return queryPage<ProjectUser>(
        `user-memberships:${userId}`,
        {
          IndexName: GSI1,
          KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': partitions.user(userId), ...rangeValues(prefixes.project) },
        },
        page.limit,
        page.cursor,
        ['PK', 'SK', 'GSI1PK', 'GSI1SK'],
      );
    },

    listOrgUsers(orgId: string, page: { limit: number; cursor?: string }) {
      return queryPage<OrgUser>(
        `org-users:${orgId}`,
        partitionQuery(partitions.org(orgId), prefixes.user, []),
        page.limit,
        page.cursor,
        ['PK', 'SK'],
      );
    },

    /** `pinnedTo`: only keys pinned to that project (what a pinned caller may see). */
    listKeysOfUser(userId: string, page: { limit: number; cursor?: string; pinnedTo?: string | null }) {
      const pin = page.pinnedTo ?? null;
      return queryPage<ApiKey>(
        `user-keys:${userId}:${pin ?? ''}`,
        {
          IndexName: GSI1,
          KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': partitions.user(userId),
            ...rangeValues(prefixes.key),
            ...(pin ? { ':pin': pin } : {}),
          },
          ...(pin ? { FilterExpression: 'projectId = :pin' } : {}),
        },
        page.limit,
        page.cursor,
        ['PK', 'SK', 'GSI1PK', 'GSI1SK'],
      );
    },

    // ---- project-user writes ----------------------------------------------------------------
    async addProjectUser(input: {
      project: Project;
      userId: string;
      roles: Role[];
      tags: string[];
      expiresAt?: string | null;
      authority: Authority;
      actor: Actor;
      idempotency?: IdempotencyWrite<ProjectUser>;
    }): Promise<ProjectUser> {
      const now = new Date().toISOString();
      const pu: ProjectUser = {
        projectUserId: newId('projectUser'),
        projectId: input.project.projectId,
        orgId: input.project.orgId,
        userId: input.userId,
        roles: input.roles,
        tags: input.tags,
        isOwner: false,
        expiresAt: input.expiresAt ?? null,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      const items = projectUserItems(pu);
      await transact(
        combine(
          put(ENTITY.membership, items.membership, errors.alreadyMember()),
          put(ENTITY.projectUser, items.projectUser),
          activeOrgUserCheck(pu.orgId, pu.userId, errors.notFound()),
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: pu.orgId,
              projectId: pu.projectId,
              action: 'ProjectUserAdded',
              actor: input.actor,
              projectUserId: pu.projectUserId,
              userId: pu.userId,
              before: null,
              after: memberSnapshot(pu),
            },
            now,
          ),
          idempotencyEntry(input.idempotency, pu, now),
        ),
      );
      return pu;
    },

    async updateProjectUser(input: {
      project: Project;
      before: ProjectUser;
      change: { roles?: Role[]; tags?: string[]; expiresAt?: string | null };
      /** Set when the client sent If-Match: a version mismatch is then theirs to see (412). */
      ifMatch: boolean;
      authority: Authority;
      actor: Actor;
    }): Promise<ProjectUser> {
      const now = new Date().toISOString();
      const { before } = input;
      const after: ProjectUser = {
        ...before,
        roles: input.change.roles ?? before.roles,
        tags: input.change.tags ?? before.tags,
        expiresAt: input.change.expiresAt === undefined ? (before.expiresAt ?? null) : input.change.expiresAt,
        updatedAt: now,
        version: before.version + 1,
      };
      const onStale = input.ifMatch ? errors.preconditionFailed() : STALE;
      const accessChanged = input.change.roles !== undefined || input.change.expiresAt !== undefined;
      await transact(
        combine(
          ...updateMemberPair(before, after, onStale),
          // A role or expiry change must not land on a member who became owner in the meantime.
          accessChanged
            ? {
                item: {
                  ConditionCheck: {
                    TableName,
                    Key: keys.project(before.projectId),
                    ConditionExpression: 'ownerProjectUserId <> :target',
                    ExpressionAttributeValues: { ':target': before.projectUserId },
                  },
                },
                onConditionFailed: STALE,
              }
            : null,
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: before.orgId,
              projectId: before.projectId,
              action: 'ProjectUserUpdated',
              actor: input.actor,
              projectUserId: before.projectUserId,
              userId: before.userId,
              before: memberSnapshot(before),
              after: memberSnapshot(after),
            },
            now,
          ),
        ),
      );
      return after;
    },

    async removeProjectUser(input: { target: ProjectUser; ifMatch: boolean; authority: Authority; actor: Actor }): Promise<void> {
      const now = new Date().toISOString();
      const { target } = input;
      const onStale = input.ifMatch ? errors.preconditionFailed() : STALE;
      const deleteOf = (key: ItemKey): TxEntry => ({
        item: {
          Delete: {
            TableName,
            Key: key,
            ConditionExpression: 'version = :expected AND isOwner = :false',
            ExpressionAttributeValues: { ':expected': target.version, ':false': false },
          },
        },
        onConditionFailed: onStale,
      });
      await transact(
        combine(
          deleteOf(keys.projectUser(target.projectId, target.projectUserId)),
          deleteOf(keys.membership(target.projectId, target.userId)),
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: target.orgId,
              projectId: target.projectId,
              action: 'ProjectUserRemoved',
              actor: input.actor,
              projectUserId: target.projectUserId,
              userId: target.userId,
              before: memberSnapshot(target),
              after: null,
            },
            now,
          ),
        ),
      );
    },

    /**
     * Moves the project's single owner pointer and both members' `isOwner` in one transaction;
     * the old owner keeps its roles plus `admin`. The old owner is not read: its roles are on the
     * project (`ownerRoles`, for projects written before that, the caller passes the member it
     * read), its items are updated in place on condition that they still say `isOwner`, and the
     * project's version and owner pointer guard against any concurrent transfer.
     */
    async transferOwnership(input: {
      project: Project;
      /** Needed only when the project predates `ownerRoles`. */
      oldOwner?: ProjectUser;
      newOwner: ProjectUser;
      authority: Authority;
      actor: Actor;
      idempotency?: IdempotencyWrite<{ project: Project }>;
    }): Promise<{ project: Project; newOwner: ProjectUser }> {
      const now = new Date().toISOString();
      const { project, newOwner } = input;
      const oldOwnerRoles = project.ownerRoles ?? input.oldOwner?.roles;
      if (!oldOwnerRoles) throw new Error('transferOwnership needs the old owner for a project without ownerRoles');
      const demotedRoles = normalizeRoles([...oldOwnerRoles, 'admin']);
      const project2: Project = {
        ...project,
        ownerProjectUserId: newOwner.projectUserId,
        ownerUserId: newOwner.userId,
        ownerRoles: newOwner.roles,
        updatedAt: now,
        version: project.version + 1,
      };
      // The owner never expires.
      const newOwner2: ProjectUser = { ...newOwner, isOwner: true, expiresAt: null, updatedAt: now, version: newOwner.version + 1 };
      const demote = (key: ItemKey): TxEntry => ({
        item: {
          Update: {
            TableName,
            Key: key,
            ConditionExpression: 'isOwner = :true',
            UpdateExpression: 'SET isOwner = :false, #roles = :roles, updatedAt = :now, version = version + :one',
            ExpressionAttributeNames: { '#roles': 'roles' },
            ExpressionAttributeValues: { ':true': true, ':false': false, ':roles': demotedRoles, ':now': now, ':one': 1 },
          },
        },
        onConditionFailed: STALE,
      });
      await transact(
        combine(
          {
            item: {
              Update: {
                TableName,
                Key: keys.project(project.projectId),
                ConditionExpression: 'version = :v AND ownerProjectUserId = :old',
                UpdateExpression:
                  'SET ownerProjectUserId = :new, ownerUserId = :newUser, ownerRoles = :newRoles, updatedAt = :now, version = :v2',
                ExpressionAttributeValues: {
                  ':v': project.version,
                  ':old': project.ownerProjectUserId,
                  ':new': newOwner.projectUserId,
                  ':newUser': newOwner.userId,
                  ':newRoles': newOwner.roles,
                  ':now': now,
                  ':v2': project2.version,
                },
              },
            },
            onConditionFailed: STALE,
          },
          demote(keys.projectUser(project.projectId, project.ownerProjectUserId)),
          demote(keys.membership(project.projectId, project.ownerUserId)),
          ...updateMemberPair(newOwner, newOwner2, STALE),
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: project.orgId,
              projectId: project.projectId,
              action: 'ProjectOwnershipTransferred',
              actor: input.actor,
              projectUserId: newOwner.projectUserId,
              userId: newOwner.userId,
              before: { ownerProjectUserId: project.ownerProjectUserId, ownerUserId: project.ownerUserId, oldOwnerRoles: oldOwnerRoles },
              after: { ownerProjectUserId: newOwner.projectUserId, ownerUserId: newOwner.userId, oldOwnerRoles: demotedRoles },
            },
            now,
          ),
          idempotencyEntry(input.idempotency, { project: project2 }, now),
        ),
      );
      return { project: project2, newOwner: newOwner2 };
    },

    // ---- org-level writes ---------------------------------------------------------------------
    async createProject(input: {
      orgId: string;
      name: string;
      ownerUserId: string;
      authority: Authority;
      actor: Actor;
      idempotency?: IdempotencyWrite<{ project: Project; owner: ProjectUser }>;
    }) {
      const now = new Date().toISOString();
      const projectId = newId('project');
      const owner: ProjectUser = {
        projectUserId: newId('projectUser'),
        projectId,
        orgId: input.orgId,
        userId: input.ownerUserId,
        roles: ['admin'],
        tags: [],
        isOwner: true,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      const project: Project = {
        projectId,
        orgId: input.orgId,
        name: input.name,
        ownerProjectUserId: owner.projectUserId,
        ownerUserId: owner.userId,
        ownerRoles: owner.roles,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      const items = projectUserItems(owner);
      // The owner becomes a member: the same check as any join.
      const ownerCheck = activeOrgUserCheck(input.orgId, owner.userId, errors.unauthenticated());
      await transact(
        combine(
          put(ENTITY.project, { ...keys.project(projectId), ...gsi1.projectOfOrg(input.orgId, projectId), ...project }),
          put(ENTITY.projectUser, items.projectUser),
          put(ENTITY.membership, items.membership),
          ownerCheck,
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: input.orgId,
              projectId,
              action: 'ProjectCreated',
              actor: input.actor,
              projectUserId: owner.projectUserId,
              userId: owner.userId,
              before: null,
              after: { name: project.name, ...memberSnapshot(owner) },
            },
            now,
          ),
          idempotencyEntry(input.idempotency, { project, owner }, now),
        ),
      );
      return { project, owner };
    },

    async createOrgUser(input: {
      orgId: string;
      name: string;
      email: string | null;
      kind: OrgUser['kind'];
      orgRole: OrgRole;
      authority: Authority;
      actor: Actor;
      idempotency?: IdempotencyWrite<OrgUser>;
    }): Promise<OrgUser> {
      const now = new Date().toISOString();
      const user: OrgUser = {
        userId: newId('user'),
        orgId: input.orgId,
        name: input.name,
        email: input.email,
        kind: input.kind,
        orgRole: input.orgRole,
        createdAt: now,
        version: 1,
      };
      await transact(
        combine(
          put(ENTITY.orgUser, { ...keys.orgUser(input.orgId, user.userId), ...user }),
          user.email
            ? put(
                ENTITY.emailGuard,
                { ...keys.emailGuard(input.orgId, user.email), userId: user.userId },
                errors.conflict('An organization user with this e-mail already exists.'),
              )
            : null,
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: input.orgId,
              projectId: null,
              action: 'OrgUserCreated',
              actor: input.actor,
              projectUserId: null,
              userId: user.userId,
              before: null,
              after: { name: user.name, email: user.email, kind: user.kind, orgRole: user.orgRole },
            },
            now,
          ),
          idempotencyEntry(input.idempotency, user, now),
        ),
      );
      return user;
    },

    /** First step of deleting an org user: from now on it can join nothing and get no key. */
    async markOrgUserDeleting(input: { user: OrgUser; authority: Authority; actor: Actor }): Promise<void> {
      const now = new Date().toISOString();
      if (input.user.deletingAt) return;
      await transact(
        combine(
          {
            item: {
              Update: {
                TableName,
                Key: keys.orgUser(input.user.orgId, input.user.userId),
                ConditionExpression: 'attribute_exists(PK) AND orgRole <> :owner',
                UpdateExpression: 'SET deletingAt = :now',
                ExpressionAttributeValues: { ':now': now, ':owner': 'owner' },
              },
            },
            onConditionFailed: STALE,
          },
          ...authorityCheck(input.authority, now),
        ),
      );
    },

    /** Last step: the user item, its e-mail guard and its keys go; the audit records it. */
    async finishOrgUserDeletion(input: { user: OrgUser; keyIds: string[]; actor: Actor }): Promise<void> {
      const now = new Date().toISOString();
      const { user } = input;
      const revokeKeys: TxEntry[] = input.keyIds.map((keyId) => ({
        item: {
          Update: {
            TableName,
            Key: keys.apiKey(keyId),
            ConditionExpression: 'attribute_exists(PK)',
            UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :now)',
            ExpressionAttributeValues: { ':now': now },
          },
        },
        onConditionFailed: STALE,
      }));
      // TransactWriteItems takes 100 items; revoke keys in chunks first, then delete the user.
      const chunkSize = 90;
      for (let i = 0; i < revokeKeys.length; i += chunkSize) await transact(revokeKeys.slice(i, i + chunkSize));
      await transact(
        combine(
          {
            item: {
              Delete: {
                TableName,
                Key: keys.orgUser(user.orgId, user.userId),
                ConditionExpression: 'attribute_exists(deletingAt)',
              },
            },
            onConditionFailed: STALE,
          },
          user.email
            ? { item: { Delete: { TableName, Key: keys.emailGuard(user.orgId, user.email) } }, onConditionFailed: STALE }
            : null,
          auditEntry(
            {
              orgId: user.orgId,
              projectId: null,
              action: 'OrgUserDeleted',
              actor: input.actor,
              projectUserId: null,
              userId: user.userId,
              before: { name: user.name, email: user.email, kind: user.kind, orgRole: user.orgRole },
              after: null,
            },
            now,
          ),
        ),
      );
    },

    /** Removal of a deleted user's membership: authorized by the deletion, not by a project role. */
    async removeMembershipOfDeletedUser(input: { target: ProjectUser; actor: Actor }): Promise<'removed' | 'owner'> {
      try {
        await this.removeProjectUser({ target: input.target, ifMatch: false, authority: { kind: 'operator' }, actor: input.actor });
        return 'removed';
      } catch (error) {
        if (error instanceof StaleReadError) {
          const current = await getItem<ProjectUser>(keys.projectUser(input.target.projectId, input.target.projectUserId), true);
          if (!current) return 'removed';
          if (current.isOwner) return 'owner';
          return this.removeMembershipOfDeletedUser({ target: current, actor: input.actor });
        }
        throw error;
      }
    },

    async createApiKey(input: {
      /** Chosen by the caller: the secret's checksum (domain/api-key.ts) covers the key ID. */
      keyId: string;
      orgId: string;
      userId: string;
      scope: KeyScope;
      projectId: string | null;
      name: string | null;
      expiresAt: string | null;
      secretHash: string;
      authority: Authority;
      actor: Actor;
      idempotency?: IdempotencyWrite<ApiKey>;
      /** For global keys: the target user must still be an org owner/admin at commit time. */
      targetOrgRoleVersion: number;
    }): Promise<ApiKey> {
      const now = new Date().toISOString();
      const key: ApiKey = {
        keyId: input.keyId,
        orgId: input.orgId,
        userId: input.userId,
        scope: input.scope,
        projectId: input.projectId,
        name: input.name,
        secretHash: input.secretHash,
        createdAt: now,
        expiresAt: input.expiresAt,
        revokedAt: null,
      };
      await transact(
        combine(
          // Absent, not null: conditions test `attribute_not_exists(revokedAt|expiresAt)`.
          put(ENTITY.apiKey, { ...keys.apiKey(key.keyId), ...gsi1.keyOfUser(key.userId, key.keyId), ...withoutNulls(key) }),
          {
            item: {
              ConditionCheck: {
                TableName,
                Key: keys.orgUser(input.orgId, input.userId),
                ConditionExpression: 'version = :v AND attribute_not_exists(deletingAt)',
                ExpressionAttributeValues: { ':v': input.targetOrgRoleVersion },
              },
            },
            onConditionFailed: STALE,
          },
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: input.orgId,
              projectId: null,
              action: 'ApiKeyCreated',
              actor: input.actor,
              projectUserId: null,
              userId: key.userId,
              before: null,
              after: { keyId: key.keyId, scope: key.scope, projectId: key.projectId, expiresAt: key.expiresAt },
            },
            now,
          ),
          idempotencyEntry(input.idempotency, key, now),
        ),
      );
      return key;
    },

    async revokeApiKey(input: { key: ApiKey; authority: Authority; actor: Actor }): Promise<ApiKey> {
      const now = new Date().toISOString();
      const { key } = input;
      if (key.revokedAt) return key;
      await transact(
        combine(
          {
            item: {
              Update: {
                TableName,
                Key: keys.apiKey(key.keyId),
                ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(revokedAt)',
                UpdateExpression: 'SET revokedAt = :now',
                ExpressionAttributeValues: { ':now': now },
              },
            },
            onConditionFailed: STALE,
          },
          ...authorityCheck(input.authority, now),
          auditEntry(
            {
              orgId: key.orgId,
              projectId: null,
              action: 'ApiKeyRevoked',
              actor: input.actor,
              projectUserId: null,
              userId: key.userId,
              before: { keyId: key.keyId, revokedAt: null },
              after: { keyId: key.keyId, revokedAt: now },
            },
            now,
          ),
        ),
      );
      return { ...key, revokedAt: now };
    },

    /** Admin CLI: a new organization with its owner (no caller to authorize). */
    async bootstrapOrg(input: { orgName: string; ownerName: string; ownerEmail: string | null }) {
      const now = new Date().toISOString();
      const org: Org = { orgId: newId('org'), name: input.orgName, createdAt: now };
      const owner: OrgUser = {
        userId: newId('user'),
        orgId: org.orgId,
        name: input.ownerName,
        email: input.ownerEmail,
        kind: 'human',
        orgRole: 'owner',
        createdAt: now,
        version: 1,
      };
      const actor: Actor = { keyId: null, userId: owner.userId };
      await transact(
        combine(
          put(ENTITY.org, { ...keys.org(org.orgId), ...org }),
          put(ENTITY.orgUser, { ...keys.orgUser(org.orgId, owner.userId), ...owner }),
          owner.email ? put(ENTITY.emailGuard, { ...keys.emailGuard(org.orgId, owner.email), userId: owner.userId }) : null,
          auditEntry(
            {
              orgId: org.orgId,
              projectId: null,
              action: 'OrgUserCreated',
              actor,
              projectUserId: null,
              userId: owner.userId,
              before: null,
              after: { name: owner.name, email: owner.email, kind: owner.kind, orgRole: owner.orgRole },
            },
            now,
          ),
        ),
      );
      return { org, owner };
    },

    /** Whether `npm start` has bootstrapped this table already (so it prints no second key). */
    async isBootstrapped(): Promise<boolean> {
      const marker = await getItem<{ orgId: string }>(keys.bootstrapMarker(), true);
      return marker !== null;
    },

    async markBootstrapped(orgId: string): Promise<void> {
      await transact([put(ENTITY.bootstrapMarker, { ...keys.bootstrapMarker(), orgId })]);
    },
  };
}

export type Store = ReturnType<typeof createStore>;
