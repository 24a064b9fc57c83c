/**
 * The table, read directly: a request that is refused must write nothing at all,
 * so tests compare a full snapshot of the table before and after it.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import type { IsolatedStack } from '../../localstack/isolated-stack';
import { brief } from './raw-http';

export type Snapshot = Map<string, string>;

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value instanceof Set) return [...value].map(stable).sort();
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function tableReader(stack: Pick<IsolatedStack, 'dynamoDbEndpoint' | 'tableName'>) {
  const client = DynamoDBDocumentClient.from(localClient(stack.dynamoDbEndpoint));
  return {
    /** Every item of the table (a full, strongly consistent Scan), keyed by `pk|sk`, as stable JSON. */
    async snapshot(): Promise<Snapshot> {
      const items = new Map<string, string>();
      let start: Record<string, unknown> | undefined;
      for (let page = 0; page < 10_000; page++) {
        const result = await client.send(new ScanCommand({ TableName: stack.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        for (const item of result.Items ?? []) items.set(`${String(item.pk)}|${String(item.sk)}`, JSON.stringify(stable(item)));
        start = result.LastEvaluatedKey;
        if (!start) return items;
      }
      throw new Error('The table scan did not end');
    },
    destroy: () => client.destroy(),
  };
}

/**
 * What changed between two snapshots, one line per item (empty when nothing did).
 * One kind of new item is expected even of a refused request: the record of an
 * Idempotency-Key, because API.md makes a retry with that key return the first
 * response, refusals included, so the refusal has to be remembered (in the
 * caller's own scope). Any other addition, and any change or removal, counts.
 */
export function snapshotDiff(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined && key.startsWith('IDEMPOTENCY#')) continue;
    if (old === undefined) lines.push(`added   ${key}: ${brief(value, 500)}`);
    else if (old !== value) lines.push(`changed ${key}: ${brief(old, 400)} -> ${brief(value, 400)}`);
  }
  for (const key of before.keys()) if (!after.has(key)) lines.push(`removed ${key}`);
  return lines;
}
