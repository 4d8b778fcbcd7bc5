/** What the invariant rules read and report: plain items, no AWS types. */

/** One table item as DynamoDB returns it (a GSI1 index entry has the same shape). */
export type Item = Record<string, any>;

/** The name of each rule a violation can break (see index.ts for what each means). */
export type RuleName =
  | 'entity'
  | 'membership-without-guard'
  | 'guard-without-membership'
  | 'twin-mismatch'
  | 'duplicate-membership'
  | 'owner-count'
  | 'owner-pointer'
  | 'owner-not-member'
  | 'orphan'
  | 'cross-org'
  | 'member-user-missing'
  | 'dangling-gsi'
  | 'key-without-user'
  | 'key-holder'
  | 'email-guard'
  | 'bad-value'
  | 'audit-creation'
  | 'audit-version'
  | 'audit-removal'
  | 'revoked-writer'
  | 'key-outlives-creator'
  | 'unknown-role'
  | 'role-grant'
  | 'role-meta';

export interface Violation {
  rule: RuleName;
  /** `PK | SK` of the item the violation is about. */
  item: string;
  detail: string;
}

export interface TableReport {
  violations: Violation[];
  items: number;
  indexEntries: number;
  byEntity: Record<string, number>;
}

/** `PK | SK`: how a violation names its item, and how items are matched up. */
export const at = (item: Item) => `${item.PK} | ${item.SK}`;

export const isString = (v: unknown): v is string => typeof v === 'string';
