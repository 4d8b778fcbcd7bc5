/** Collect, check and count: the checker over a live table (by Scan, or by organization). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localEndpoint, regionOf } from '../../functions/aws.js';
import { findViolations } from './find-violations.js';
import { collectOrgs, orgOf, scanTable } from './read.js';
import { at, type Item, type TableReport, type Violation } from './types.js';

export interface CheckTableOptions {
  tableName: string;
  /** A client to use (not destroyed); otherwise one is made from endpoint/region. */
  client?: DynamoDBClient;
  endpoint?: string;
  region?: string;
  /** Only these organizations (collected by Query); default: the whole table (Scan). */
  orgIds?: string[];
}

function documentClient(options: CheckTableOptions): { doc: DynamoDBDocumentClient; close: () => void } {
  const own = options.client === undefined;
  const raw =
    options.client ??
    new DynamoDBClient({
      region: options.region ?? regionOf(),
      ...localEndpoint(options.endpoint),
    });
  return { doc: DynamoDBDocumentClient.from(raw), close: () => own && raw.destroy() };
}

/**
 * The violations of some organizations. Base items outside the GSI partitions queried cannot be
 * checked for index presence, and items of other organizations pulled in only as context are not
 * this check's subject unless they point back into the checked organizations.
 */
function orgViolations(collected: Awaited<ReturnType<typeof collectOrgs>>, orgIds: string[]): Violation[] {
  const inScope = new Set(collected.indexCovered.map(at));
  const byKey = new Map(collected.items.map((i) => [at(i), i]));
  return findViolations(collected.items, collected.indexEntries).filter((v) => {
    if (v.rule === 'dangling-gsi' && v.detail.startsWith('base item') && !inScope.has(v.item)) return false;
    const item = byKey.get(v.item);
    if (!item) return true;
    const orgId = orgOf(item);
    return orgId === undefined || orgIds.includes(orgId) || v.rule === 'cross-org';
  });
}

/** Collect, check and count. */
export async function inspectTable(options: CheckTableOptions): Promise<TableReport> {
  const { doc, close } = documentClient(options);
  try {
    let items: Item[];
    let indexEntries: Item[];
    let violations: Violation[];
    if (options.orgIds) {
      const collected = await collectOrgs(doc, options.tableName, options.orgIds);
      ({ items, indexEntries } = collected);
      violations = orgViolations(collected, options.orgIds);
    } else {
      ({ items, indexEntries } = await scanTable(doc, options.tableName));
      violations = findViolations(items, indexEntries);
    }
    const byEntity: Record<string, number> = {};
    for (const item of items) byEntity[String(item.entity)] = (byEntity[String(item.entity)] ?? 0) + 1;
    return { violations, items: items.length, indexEntries: indexEntries.length, byEntity };
  } finally {
    close();
  }
}

/** Every broken invariant (empty when the table is sound). */
export async function checkTable(options: CheckTableOptions): Promise<Violation[]> {
  return (await inspectTable(options)).violations;
}

/**
 * Violations that persist across two collections `delayMs` apart. A Scan is not a snapshot and
 * GSIs on AWS are eventually consistent, so a live table can show a write half-seen; a real
 * violation is still there on the second look.
 */
export async function checkTableSettled(options: CheckTableOptions, delayMs = 1_000): Promise<TableReport> {
  const first = await inspectTable(options);
  if (first.violations.length === 0) return first;
  await new Promise((r) => setTimeout(r, delayMs));
  const second = await inspectTable(options);
  const id = (v: Violation) => `${v.rule}\u0000${v.item}\u0000${v.detail}`;
  const seen = new Set(first.violations.map(id));
  return { ...second, violations: second.violations.filter((v) => seen.has(id(v))) };
}
