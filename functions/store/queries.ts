import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { GSI1, prefixRange, TABLE_DEFINITION } from './keys.js';

/** A listing's Query (without table, limit or start key) and the attributes its cursors carry. */
export interface RangeQuery {
  input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>;
  keyAttributes: readonly string[];
}

export interface Filter {
  attribute: string;
  match: 'contains' | 'equals';
  /** Undefined: the filter is left out. */
  value: string | undefined;
}

/** Items whose list attribute holds `value`; no filter when `value` is undefined. */
export const contains = (attribute: string, value: string | undefined): Filter => ({ attribute, match: 'contains', value });
/** Items whose attribute is `value`; no filter when `value` is undefined. */
export const equals = (attribute: string, value: string | undefined): Filter => ({ attribute, match: 'equals', value });

const TABLE_KEYS = [TABLE_DEFINITION.partitionKey, TABLE_DEFINITION.sortKey] as const;
const gsi1Index = TABLE_DEFINITION.globalSecondaryIndexes[0];

/**
 * Every listing is one partition's items under a sort-key prefix, on the table or on GSI1, as
 * `<pk> = :pk AND <sk> BETWEEN :from AND :to` (see `prefixRange`), with optional filters.
 * Filter attribute names always go through placeholders. A GSI1 cursor also carries the table key,
 * which DynamoDB needs to resume an index query.
 */
export function rangeQuery(on: {
  index?: typeof GSI1;
  pk: string;
  prefix: string;
  filters?: Filter[];
  newestFirst?: boolean;
}): RangeQuery {
  const [pkName, skName] = on.index ? [gsi1Index.partitionKey, gsi1Index.sortKey] : TABLE_KEYS;
  const range = prefixRange(on.prefix);
  const values: Record<string, unknown> = { ':pk': on.pk, ':from': range.from, ':to': range.to };
  const names: Record<string, string> = {};
  const conditions: string[] = [];
  (on.filters ?? []).forEach(({ attribute, match, value }, i) => {
    if (value === undefined) return;
    names[`#f${i}`] = attribute;
    values[`:f${i}`] = value;
    conditions.push(match === 'contains' ? `contains(#f${i}, :f${i})` : `#f${i} = :f${i}`);
  });
  return {
    input: {
      ...(on.index ? { IndexName: on.index } : {}),
      KeyConditionExpression: `${pkName} = :pk AND ${skName} BETWEEN :from AND :to`,
      ExpressionAttributeValues: values,
      ...(conditions.length ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
      ...(on.newestFirst ? { ScanIndexForward: false } : {}),
    },
    keyAttributes: on.index ? [...TABLE_KEYS, gsi1Index.partitionKey, gsi1Index.sortKey] : TABLE_KEYS,
  };
}
