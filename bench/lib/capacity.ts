import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Consumed capacity of every DynamoDB call a store makes: an SDK middleware on the store's own
 * client asks for `ReturnConsumedCapacity: TOTAL` and records what DynamoDB Local reports, plus
 * what DynamoDB's pricing model charges for the same call, computed from the items' sizes
 * (DynamoDB Local bills a transaction 2 units per KB of all its items together, where DynamoDB
 * bills 2 WCU per started KB of *each* item).
 */
export interface CapacityCall {
  op: string;
  /** As DynamoDB Local reports it. */
  reported: number;
  /** DynamoDB's pricing model for this call: read units, write units. */
  rcu: number;
  wcu: number;
  /** RCU had every read been eventually consistent. */
  rcuEventual: number;
  consistent: boolean;
  /** Items read by key (GetItem, BatchGetItem): their key and read units, to spot an item read twice. */
  keyReads: { key: string; rcu: number; rcuEventual: number }[];
  /** Items read or written, by entity, e.g. `Project, Membership, ProjectUser` or `Put Membership`. */
  items: string[];
  /** Largest item read or written, bytes. */
  maxItemBytes: number;
}

/** Items as the Document client sees them (native values: the SDK marshals after this middleware). */
type Item = Record<string, any>;

/** DynamoDB's size of one attribute value, from its native form. */
function valueSize(v: unknown): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint') {
    const digits = String(v).replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '');
    return Math.ceil(digits.length / 2) + 1;
  }
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Set) return [...v].reduce((n: number, e) => n + valueSize(e), 0);
  if (Array.isArray(v)) return 3 + v.reduce((n: number, e) => n + 1 + valueSize(e), 0);
  if (typeof v === 'object') return 3 + Object.entries(v).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSize(e), 0);
  return 0;
}

/** DynamoDB's item size: attribute names plus values. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

const entityOf = (item: Item | undefined, key?: Item) =>
  (item?.entity as string | undefined) ??
  (key ? `${(String(key.SK ?? '').includes('#') ? String(key.SK) : String(key.PK ?? '?')).split('#')[0]} (absent)` : '?');
const keyId = (key: Item) => `${key.PK}\u0000${key.SK}`;
const readUnits = (bytes: number, consistent: boolean) => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
const writeUnits = (bytes: number) => 2 * Math.max(1, Math.ceil(bytes / 1024));

export function instrumentCapacity(client: DynamoDBDocumentClient, raw: DynamoDBClient, tableName: string) {
  const calls: CapacityCall[] = [];
  const side = DynamoDBDocumentClient.from(raw);

  /** Current items (for the size an Update, Delete or ConditionCheck is charged for), outside the app's client. */
  async function currentItems(keys: Item[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += 100) {
      const out = await side.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys.slice(i, i + 100), ConsistentRead: true } } }),
      );
      for (const item of (out.Responses?.[tableName] ?? []) as Item[]) found.set(keyId(item), item);
    }
    return found;
  }

  client.middlewareStack.add(
    (next, context) => async (args: any) => {
      const input = args.input as Record<string, any>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      let before = new Map<string, Item>();
      if (op === 'TransactWriteItems') {
        const keys = (input.TransactItems as any[]).map((t) => {
          const action = t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck;
          return t.Put ? { PK: action.Item.PK, SK: action.Item.SK } : action.Key;
        });
        before = await currentItems(keys);
      }
      const result: any = await next(args);
      const out = result.output as Record<string, any>;
      const reported = ([] as any[])
        .concat(out.ConsumedCapacity ?? [])
        .reduce((n: number, c: any) => n + (c.CapacityUnits ?? 0), 0);
      const call: CapacityCall = { op, reported, rcu: 0, wcu: 0, rcuEventual: 0, consistent: false, keyReads: [], items: [], maxItemBytes: 0 };
      const read = (item: Item | undefined, consistent: boolean, key?: Item) => {
        const size = itemSize(item);
        call.rcu += readUnits(size, consistent);
        call.rcuEventual += readUnits(size, false);
        if (key) call.keyReads.push({ key: keyId(key), rcu: readUnits(size, consistent), rcuEventual: readUnits(size, false) });
        call.consistent ||= consistent;
        call.items.push(entityOf(item, key));
        call.maxItemBytes = Math.max(call.maxItemBytes, size);
      };
      if (op === 'GetItem') read(out.Item, Boolean(input.ConsistentRead), input.Key);
      else if (op === 'BatchGetItem') {
        const request = input.RequestItems[tableName];
        const got = new Map<string, Item>((out.Responses?.[tableName] ?? []).map((i: Item) => [keyId(i), i]));
        for (const key of request.Keys as Item[]) read(got.get(keyId(key)), Boolean(request.ConsistentRead), key);
      } else if (op === 'Query') {
        const items = (out.Items ?? []) as Item[];
        const bytes = items.reduce((n, i) => n + itemSize(i), 0);
        call.rcu = readUnits(bytes, Boolean(input.ConsistentRead));
        call.rcuEventual = readUnits(bytes, false);
        call.consistent = Boolean(input.ConsistentRead);
        call.items.push(`${items.length} items${input.IndexName ? ` (${input.IndexName})` : ''}`);
        call.maxItemBytes = Math.max(0, ...items.map(itemSize));
      } else if (op === 'TransactWriteItems') {
        for (const t of input.TransactItems as any[]) {
          const [verb, action] = Object.entries(t)[0] as [string, any];
          const key: Item = verb === 'Put' ? { PK: action.Item.PK, SK: action.Item.SK } : action.Key;
          const existing = before.get(keyId(key));
          const written = verb === 'Put' ? itemSize(action.Item) : verb === 'Update' ? itemSize(afterUpdate(existing, action)) : 0;
          const size = Math.max(itemSize(existing), written);
          call.wcu += writeUnits(size);
          call.items.push(`${verb === 'ConditionCheck' ? 'Check' : verb} ${entityOf(verb === 'Put' ? action.Item : existing, key)}`);
          call.maxItemBytes = Math.max(call.maxItemBytes, size);
        }
      } else {
        call.items.push('(unmodelled)');
      }
      calls.push(call);
      return result;
    },
    { step: 'serialize', name: 'benchConsumedCapacity', priority: 'high' },
  );

  return {
    calls,
    reset() {
      calls.length = 0;
    },
  };
}

/** The item after an Update's plain `SET a = :v, #b = :w` assignments (what the stores writes). */
function afterUpdate(
  existing: Item | undefined,
  action: { UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item },
): Item {
  const item: Item = { ...(existing ?? {}) };
  const set = /^\s*SET\s+(.*)$/i.exec(action.UpdateExpression ?? '')?.[1] ?? '';
  for (const assignment of set.split(',')) {
    const match = /^\s*(#?\w+)\s*=\s*(:\w+)\s*$/.exec(assignment);
    if (!match) continue;
    const name = match[1]!.startsWith('#') ? action.ExpressionAttributeNames?.[match[1]!] : match[1]!;
    const value = action.ExpressionAttributeValues?.[match[2]!];
    if (name && value) item[name] = value;
  }
  return item;
}
