import { canonicalJson } from './canonical-json';
import { type Item, itemSize, writeUnits } from './item-size';
import type { TableKeys } from './table-keys';

/** The write units one item write costs, on its table partition and on each index partition it touches. */
export interface WriteCost {
  table: { partition: string; units: number };
  indexes: { index: string; partition: string; units: number }[];
}

/**
 * What writing an item from `before` to `after` (null: no item) costs, as DynamoDB
 * counts it: the table pays one unit per started KB of the larger image; an index
 * pays for the entries it writes: one for a new or changed entry, one for a removed
 * one, two (a delete and a put) when the entry's index key moves, possibly to another
 * partition, and nothing when the projected entry is unchanged. A transactional
 * write pays twice everywhere (prepare and commit), as DynamoDB Local counts it too.
 */
export function writeCost(keys: TableKeys, key: Item, before: Item | null, after: Item | null, transactional: boolean): WriteCost {
  const factor = transactional ? 2 : 1;
  const indexes: WriteCost['indexes'] = [];
  const beforeEntries = keys.entriesOf(before);
  const afterEntries = keys.entriesOf(after);
  for (const index of keys.indexNames) {
    const old = beforeEntries.get(index) ?? null;
    const next = afterEntries.get(index) ?? null;
    if (old && next && old.key === next.key) {
      if (canonicalJson(old.entry) !== canonicalJson(next.entry)) {
        indexes.push({ index, partition: old.partition, units: factor * writeUnits(Math.max(itemSize(old.entry), itemSize(next.entry))) });
      }
      continue;
    }
    if (old) indexes.push({ index, partition: old.partition, units: factor * writeUnits(itemSize(old.entry)) });
    if (next) indexes.push({ index, partition: next.partition, units: factor * writeUnits(itemSize(next.entry)) });
  }
  return {
    table: { partition: keys.partitionOf(key), units: factor * writeUnits(Math.max(itemSize(before), itemSize(after))) },
    indexes,
  };
}
