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

/**
 * DynamoDB stores a number as base-100 digits aligned on the decimal point, with one
 * byte of exponent and, for a negative number, one more: "about one byte per two
 * significant digits" in AWS's words, exact here (it matches DynamoDB Local's
 * consumed capacity).
 */
function numberSize(text: string): number {
  const [mantissa = '', exponent = '0'] = text.trim().toLowerCase().split('e');
  const negative = mantissa.startsWith('-');
  const [whole = '', fraction = ''] = mantissa.replace(/^[-+]/, '').split('.');
  let digits = whole + fraction;
  let point = whole.length + Number(exponent); // where the decimal point falls in `digits`
  const leadingZeros = /^0*/.exec(digits)![0].length;
  digits = digits.slice(leadingZeros).replace(/0+$/, '');
  point -= leadingZeros;
  if (digits === '') return 1; // zero
  if (Math.abs(point) % 2 === 1) digits = `0${digits}`;
  return Math.ceil(digits.length / 2) + 1 + (negative ? 1 : 0);
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
