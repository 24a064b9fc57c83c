import type { Item } from './item-size';
import type { TableKeys } from './table-keys';

/** One item a call writes (or, for a ConditionCheck, only reads in its transaction). */
export interface ItemWrite {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  key: Item;
  /** The item's identity in the table: what conflicts compare. */
  id: string;
  /** What a Put writes. */
  item?: Item;
}

type Body = Record<string, unknown>;

function itemWrite(keys: TableKeys, kind: ItemWrite['kind'], action: Body | undefined): ItemWrite | null {
  if (!action || action.TableName !== keys.name) return null;
  const item = kind === 'Put' ? (action.Item as Item | undefined) : undefined;
  const key = keys.keyOf(kind === 'Put' ? item : (action.Key as Item | undefined));
  return key ? { kind, key, id: keys.itemId(key), ...(item ? { item } : {}) } : null;
}

/**
 * The items a write call touches, in order: one for PutItem, UpdateItem and
 * DeleteItem, one per action of a TransactWriteItems. An item of another table, or
 * one DynamoDB Local will refuse as malformed, is null: the model leaves it alone.
 */
export function itemWrites(keys: TableKeys, operation: string, body: Body): (ItemWrite | null)[] {
  switch (operation) {
    case 'PutItem':
      return [itemWrite(keys, 'Put', body)];
    case 'UpdateItem':
      return [itemWrite(keys, 'Update', body)];
    case 'DeleteItem':
      return [itemWrite(keys, 'Delete', body)];
    case 'TransactWriteItems': {
      const actions = Array.isArray(body.TransactItems) ? (body.TransactItems as Record<string, Body | undefined>[]) : [];
      return actions.map((action) => {
        const kind = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).find((k) => action?.[k]);
        return kind ? itemWrite(keys, kind, action[kind]) : null;
      });
    }
    default:
      return [];
  }
}

/** The identities of the items a TransactGetItems reads (null: not of the table). */
export function transactGets(keys: TableKeys, body: Body): (string | null)[] {
  const gets = Array.isArray(body.TransactItems) ? (body.TransactItems as { Get?: Body }[]) : [];
  return gets.map((get) => {
    if (get?.Get?.TableName !== keys.name) return null;
    const key = keys.keyOf(get.Get.Key as Item | undefined);
    return key ? keys.itemId(key) : null;
  });
}
