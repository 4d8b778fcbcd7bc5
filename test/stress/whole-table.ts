import { expect } from 'vitest';
import { inspectTable } from '../../scripts/table-invariants.js';
import { tableClient, tableTarget } from '../attacks/lib/harness.js';

/**
 * The invariant checker over the whole shared table (a Scan of it and of GSI1). In the stress run
 * files run one at a time, so nothing is half-written while it looks.
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
