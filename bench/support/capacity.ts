import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * Consumed capacity, measured: a middleware on a dedicated client adds
 * `ReturnConsumedCapacity: 'TOTAL'` to every command it sends (the document
 * client's too: it sends through this client's stack) and sums the
 * ConsumedCapacity of every response, as read or write units by operation.
 */
const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);

export interface Consumption {
  read: number;
  write: number;
  /** `GetItem: 1 + TransactWriteItems: 14` */
  calls: string[];
}

export function meterCapacity(client: DynamoDBClient) {
  let current: Consumption = { read: 0, write: 0, calls: [] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      const command = String(context.commandName ?? 'unknown');
      if (READS.has(command)) current.read += units;
      else current.write += units;
      current.calls.push(`${command.replace(/Command$/, '')} ${units}`);
      return result;
    },
    { step: 'initialize', name: 'benchConsumedCapacity', override: true },
  );
  return {
    /** Runs `work` and returns what it consumed (with its result). */
    async measure<T>(work: () => Promise<T>): Promise<{ result: T; used: Consumption }> {
      current = { read: 0, write: 0, calls: [] };
      const result = await work();
      const used = current;
      current = { read: 0, write: 0, calls: [] };
      return { result, used };
    },
  };
}

/**
 * An item's size as DynamoDB bills it: every attribute name's UTF-8 length plus its
 * value's size (strings: UTF-8 bytes; numbers: about one byte per two significant
 * digits, plus one; booleans and null: one byte; maps and lists: three bytes plus
 * their elements, with one byte per element).
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) {
    const digits = value.N.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '') || '0';
    return Math.ceil(digits.length / 2) + 1;
  }
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v) + 1, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + valueSize(v) + 1, 0);
  if (value.B !== undefined) return value.B.length;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + Math.ceil(s.length / 2) + 1, 0);
  return 0;
}
