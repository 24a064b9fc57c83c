/** An attribute value in DynamoDB's JSON form, as it travels on the wire (binary as base64). */
export interface WireValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  L?: WireValue[];
  M?: Record<string, WireValue>;
}
export type Item = Record<string, WireValue>;

/**
 * An item's size as DynamoDB computes it for write units (AWS docs, "DynamoDB item
 * sizes and formats"): every attribute name's UTF-8 bytes plus its value's size.
 * The 100 bytes of indexing overhead AWS adds are for storage, not for write units.
 */
export function itemSize(item: Item | null | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

/** Write units of a write whose larger image has `bytes`: one per started KB, at least one. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

function numberSize(text: string): number {
  // Leading and trailing zeroes do not count, nor do the sign, the point or an exponent.
  const [mantissa = ''] = text.toLowerCase().split('e');
  const digits = mantissa.replace(/[-+.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

function binarySize(base64: unknown): number {
  return typeof base64 === 'string' ? Buffer.from(base64, 'base64').length : 0;
}

function valueSize(v: WireValue): number {
  if (typeof v.S === 'string') return Buffer.byteLength(v.S);
  if (typeof v.N === 'string') return numberSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (Array.isArray(v.SS)) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (Array.isArray(v.NS)) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (Array.isArray(v.BS)) return v.BS.reduce((n, b) => n + binarySize(b), 0);
  if (Array.isArray(v.L)) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (v.M && typeof v.M === 'object') return 3 + itemSize(v.M) + Object.keys(v.M).length;
  return 0;
}
