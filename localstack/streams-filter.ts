/**
 * The filter patterns of a Lambda event source mapping (`filterPatterns` in
 * serverless.yml, FilterCriteria on AWS), matched as Lambda matches them against
 * a stream record: the EventBridge content-filter syntax. A pattern's object
 * fields must all match (AND); an array of values at a leaf matches when any does
 * (OR); a mapping with several patterns lets a record through when any matches.
 * The comparison operators are those Lambda documents for event filtering:
 * prefix, suffix, anything-but, numeric, exists, equals-ignore-case, and $or.
 * Anything else is refused when the pattern is read, so a pattern this cannot
 * judge stops the stack instead of letting records through that AWS would drop.
 */

export type FilterPattern = Record<string, unknown>;

const OPERATORS = new Set(['prefix', 'suffix', 'anything-but', 'numeric', 'exists', 'equals-ignore-case']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isLiteral = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** Checks that a pattern uses only what `matches` understands; throws naming the first thing it does not. */
export function assertFilterPattern(pattern: unknown, path = ''): asserts pattern is FilterPattern {
  if (!isObject(pattern)) throw new Error(`Filter pattern${path ? ` at ${path}` : ''} must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new Error(`Filter pattern at ${at}: $or takes a list of at least two patterns`);
      value.forEach((alternative, i) => assertFilterPattern(alternative, `${at}[${i}]`));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new Error(`Filter pattern at ${at}: an empty list matches nothing`);
      for (const condition of value) {
        if (isLiteral(condition)) continue;
        if (!isObject(condition) || Object.keys(condition).length !== 1 || !OPERATORS.has(Object.keys(condition)[0]!)) {
          throw new Error(`Filter pattern at ${at}: unsupported condition ${JSON.stringify(condition)}`);
        }
      }
    } else if (isObject(value)) {
      assertFilterPattern(value, at);
    } else {
      throw new Error(`Filter pattern at ${at}: a leaf must be a list of values or conditions, not ${JSON.stringify(value)}`);
    }
  }
}

/** Whether a record passes a mapping's patterns: any of them, or all records when there are none. */
export function passesFilters(patterns: readonly FilterPattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matches(pattern, record));
}

/** Whether `value` (a record, or a part of it) matches one pattern. */
export function matches(pattern: FilterPattern, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as FilterPattern[]).some((alternative) => matches(alternative, value));
    const present = isObject(value) && key in value;
    const actual = present ? value[key] : undefined;
    if (Array.isArray(expected)) return expected.some((condition) => leafMatches(condition, present, actual));
    return present && matches(expected as FilterPattern, actual);
  });
}

/** One condition of a leaf list against the record's value there (any element, when it is a list). */
function leafMatches(condition: unknown, present: boolean, actual: unknown): boolean {
  if (isObject(condition) && 'exists' in condition) return condition.exists === present;
  if (!present) return false;
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((one) => valueMatches(condition, one));
}

function valueMatches(condition: unknown, actual: unknown): boolean {
  if (!isObject(condition)) return condition === actual;
  const [operator, operand] = Object.entries(condition)[0]!;
  switch (operator) {
    case 'prefix':
      return typeof actual === 'string' && typeof operand === 'string' && actual.startsWith(operand);
    case 'suffix':
      return typeof actual === 'string' && typeof operand === 'string' && actual.endsWith(operand);
    case 'equals-ignore-case':
      return typeof actual === 'string' && typeof operand === 'string' && actual.toLowerCase() === operand.toLowerCase();
    case 'anything-but':
      if (isObject(operand)) return !valueMatches(operand, actual);
      return !(Array.isArray(operand) ? operand : [operand]).some((excluded) => excluded === actual);
    case 'numeric':
      return typeof actual === 'number' && numericMatches(operand as unknown[], actual);
    default:
      return false;
  }
}

/** `numeric: [">", 0, "<=", 5]`: every comparison of the list holds. */
function numericMatches(comparisons: readonly unknown[], actual: number): boolean {
  for (let i = 0; i < comparisons.length; i += 2) {
    const bound = comparisons[i + 1] as number;
    const holds = { '=': actual === bound, '<': actual < bound, '<=': actual <= bound, '>': actual > bound, '>=': actual >= bound }[String(comparisons[i])];
    if (!holds) return false;
  }
  return true;
}
