import type { Item } from './item-size';

/**
 * What the model needs of a table: its name, key schema and global secondary
 * indexes. CloudFormation's table properties (`tableOf(await readService())`) and
 * DescribeTable's TableDescription both have this shape.
 */
export interface TableShape {
  TableName?: string | undefined;
  KeySchema?: KeyElement[] | undefined;
  GlobalSecondaryIndexes?:
    | { IndexName?: string | undefined; KeySchema?: KeyElement[] | undefined; Projection?: { ProjectionType?: string | undefined; NonKeyAttributes?: string[] | undefined } | undefined }[]
    | undefined;
}
interface KeyElement {
  AttributeName?: string | undefined;
  KeyType?: string | undefined;
}

export interface IndexEntry {
  /** The index partition key value, as text. */
  partition: string;
  /** Index key (partition and sort), as text: an entry that moves changes it. */
  key: string;
  /** The projected attributes: what the index stores for the item. */
  entry: Item;
}

interface Index {
  name: string;
  hash: string;
  range: string | undefined;
  /** Attributes the entry holds besides the keys; undefined: all of them. */
  include: string[] | undefined;
}

/** An attribute value of a key (S, N or B) as text. */
function keyText(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { S?: unknown; N?: unknown; B?: unknown };
  const text = v.S ?? v.N ?? v.B;
  return typeof text === 'string' ? text : undefined;
}

function schemaOf(schema: KeyElement[] | undefined, what: string): { hash: string; range: string | undefined } {
  const hash = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (!hash) throw new Error(`${what} has no HASH key`);
  return { hash, range: schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName };
}

/** The key schema of one table and of its global secondary indexes. */
export class TableKeys {
  readonly name: string;
  private readonly hash: string;
  private readonly range: string | undefined;
  private readonly indexes: Index[];

  constructor(table: TableShape) {
    if (!table.TableName) throw new Error('The table has no TableName');
    this.name = table.TableName;
    ({ hash: this.hash, range: this.range } = schemaOf(table.KeySchema, `Table ${this.name}`));
    this.indexes = (table.GlobalSecondaryIndexes ?? []).map((index) => {
      const name = index.IndexName ?? '?';
      const projection = index.Projection?.ProjectionType ?? 'ALL';
      return {
        name,
        ...schemaOf(index.KeySchema, `Index ${name}`),
        include: projection === 'ALL' ? undefined : projection === 'INCLUDE' ? (index.Projection?.NonKeyAttributes ?? []) : [],
      };
    });
  }

  get indexNames(): string[] {
    return this.indexes.map((index) => index.name);
  }

  /** The primary key of an item (or of a Key), or undefined when an attribute is missing. */
  keyOf(item: Item | undefined): Item | undefined {
    if (!item) return undefined;
    const hash = item[this.hash];
    const range = this.range === undefined ? undefined : item[this.range];
    if (keyText(hash) === undefined || (this.range !== undefined && keyText(range) === undefined)) return undefined;
    return { [this.hash]: hash!, ...(this.range !== undefined ? { [this.range]: range! } : {}) };
  }

  /** One text per item of the table. */
  itemId(key: Item): string {
    return `${keyText(key[this.hash])}\u0000${this.range === undefined ? '' : keyText(key[this.range])}`;
  }

  /** The partition key value of an item, as text. */
  partitionOf(key: Item): string {
    return keyText(key[this.hash]) ?? '';
  }

  /**
   * The entries an item image has in each index: none where the image lacks an index
   * key attribute (a sparse index holds only the items that have its keys).
   */
  entriesOf(image: Item | null): Map<string, IndexEntry | null> {
    const entries = new Map<string, IndexEntry | null>();
    for (const index of this.indexes) entries.set(index.name, image ? this.entry(index, image) : null);
    return entries;
  }

  private entry(index: Index, image: Item): IndexEntry | null {
    const partition = keyText(image[index.hash]);
    const sort = index.range === undefined ? '' : keyText(image[index.range]);
    if (partition === undefined || sort === undefined) return null;
    let entry: Item = image;
    if (index.include) {
      const names = new Set([this.hash, this.range, index.hash, index.range, ...index.include]);
      entry = Object.fromEntries(Object.entries(image).filter(([name]) => names.has(name)));
    }
    return { partition, key: `${partition}\u0000${sort}`, entry };
  }
}
