import { GSI1 } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { at, isString, type Item } from '../types.js';

/**
 * `dangling-gsi`: every GSI1 entry (as read from the index) is its base item's, with the same
 * index keys, and every base item with index keys is in the index.
 */
export function checkIndexEntries({ items, byKey }: Inventory, indexEntries: Item[], { report }: Collector) {
  const indexed = new Set<string>();
  for (const entry of indexEntries) {
    indexed.add(at(entry));
    const base = byKey.get(at(entry));
    if (!base) report('dangling-gsi', entry, `index entry ${entry.GSI1PK} / ${entry.GSI1SK} has no base item`);
    else if (base.GSI1PK !== entry.GSI1PK || base.GSI1SK !== entry.GSI1SK) {
      report('dangling-gsi', entry, `index entry ${entry.GSI1PK} / ${entry.GSI1SK}, base item has ${base.GSI1PK} / ${base.GSI1SK}`);
    }
  }
  for (const item of items) {
    if (isString(item.GSI1PK) && isString(item.GSI1SK) && !indexed.has(at(item))) {
      report('dangling-gsi', item, `base item with ${item.GSI1PK} / ${item.GSI1SK} is missing from ${GSI1}`);
    }
  }
}
