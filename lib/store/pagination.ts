import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import type { Table } from './client';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/**
 * Cursors are opaque to clients: base64url JSON holding only the sort-key position
 * of the last item. The store rebuilds the full ExclusiveStartKey itself, so a
 * forged cursor can move a client within its own list but never into another
 * partition, and a malformed one is a 422, not a DynamoDB error.
 */
export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.infer<S> {
  try {
    const json: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the validation error below
  }
  throw ValidationError.field('cursor', 'is not a cursor returned by this list');
}

export interface PagedQuery<C extends z.ZodType, T> {
  table: Table;
  query: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>;
  page: PageRequest;
  cursorSchema: C;
  /** The full ExclusiveStartKey (table and index keys) for a decoded cursor. */
  startKey: (position: z.infer<C>) => Record<string, unknown>;
  /** The cursor position of an item. */
  positionOf: (item: Record<string, unknown>) => z.infer<C>;
  toRecord: (item: Record<string, unknown>) => T;
}

/** One page of a Query; `next_cursor` is null once the last item has been returned. */
export async function queryPage<C extends z.ZodType, T>(q: PagedQuery<C, T>): Promise<Page<T>> {
  const startKey = q.page.cursor === undefined ? undefined : q.startKey(decodeCursor(q.page.cursor, q.cursorSchema));
  // Ask for one item more than the page holds: its presence says whether a next
  // page exists, so the last page never ends with a cursor that leads nowhere.
  const result = await q.table.client.send(
    new QueryCommand({ ...q.query, TableName: q.table.name, Limit: q.page.limit + 1, ExclusiveStartKey: startKey }),
  );
  const rows = result.Items ?? [];
  const items = rows.slice(0, q.page.limit);
  const hasMore = rows.length > q.page.limit;
  const last = items.at(-1);
  return {
    items: items.map(q.toRecord),
    next_cursor: hasMore && last ? encodeCursor(q.positionOf(last) as Record<string, string>) : null,
  };
}

/** One index partition a list reads: the index, its key attribute names, the partition key value. */
export interface IndexPartition {
  index: string;
  pk: string;
  sk: string;
  value: string;
}

/** A cursor of a merged list: the sort key (`<created_at>#<id>`) of the last item returned. */
const SortKeyCursor = z.strictObject({ s: z.string().max(200).regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#.{1,128}$/) });

/**
 * One page, newest first, of the items of several index partitions (the
 * buckets a hot list is spread over), merged by sort key, still without a Scan.
 * Every partition resumes below the cursor's sort key. `filter` applies within
 * each partition; as it may discard items after they are read, each partition
 * is read until it has a page's worth or runs out.
 */
export async function newestFirst(
  table: Table,
  partitions: readonly IndexPartition[],
  page: PageRequest,
  filter?: { expression: string; names?: Record<string, string>; values: Record<string, unknown> },
): Promise<Page<Record<string, unknown>>> {
  const position = page.cursor === undefined ? undefined : decodeCursor(page.cursor, SortKeyCursor).s;
  const want = page.limit + 1;
  const rows = (
    await Promise.all(
      partitions.map(async (p) => {
        const found: Record<string, unknown>[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const result = await table.client.send(
            new QueryCommand({
              TableName: table.name,
              IndexName: p.index,
              KeyConditionExpression: position === undefined ? `${p.pk} = :pk` : `${p.pk} = :pk AND ${p.sk} < :position`,
              FilterExpression: filter?.expression,
              ExpressionAttributeNames: filter?.names && Object.keys(filter.names).length > 0 ? filter.names : undefined,
              ExpressionAttributeValues: { ...filter?.values, ':pk': p.value, ...(position === undefined ? {} : { ':position': position }) },
              ScanIndexForward: false,
              Limit: want,
              ExclusiveStartKey: startKey,
            }),
          );
          found.push(...(result.Items ?? []));
          startKey = result.LastEvaluatedKey;
        } while (startKey && found.length < want);
        return found.slice(0, want).map((item) => ({ item, sort: String(item[p.sk]) }));
      }),
    )
  )
    .flat()
    .sort((a, b) => (a.sort < b.sort ? 1 : a.sort > b.sort ? -1 : 0));
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items: items.map((row) => row.item), next_cursor: rows.length > page.limit && last ? encodeCursor({ s: last.sort }) : null };
}
