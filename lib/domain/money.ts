import * as z from 'zod';

/**
 * Money is integer cents everywhere inside the system, so that sums are exact:
 * 3 tickets at 0.10 is 30 cents, which `centsToAmount` renders as 0.3, never
 * 0.30000000000000004. Prices arrive as a JSON number or a decimal string.
 */
export const MAX_PRICE_CENTS = 100_000_000;

const DECIMAL = /^(0|[1-9]\d{0,6})(\.\d{1,2})?$/;

/** Parses a price; `undefined` when it is not a non-negative amount with at most two decimals. */
export function parsePriceToCents(input: number | string): number | undefined {
  // A number goes through its shortest round-trip string form: 0.1 is "0.1", and
  // 0.123 is "0.123", which the pattern refuses, so no float arithmetic decides.
  const text = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : input.trim();
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const whole = Number(match[1]);
  const fraction = (match[2] ?? '').slice(1).padEnd(2, '0');
  const cents = whole * 100 + Number(fraction || '0');
  return cents <= MAX_PRICE_CENTS ? cents : undefined;
}

export function centsToAmount(cents: number): number {
  // Integer division by 100 yields the double nearest the decimal, whose shortest
  // printed form is the decimal itself (1999 / 100 prints as 19.99).
  return cents / 100;
}

/** The decimal strings `parsePriceToCents` accepts, its upper bound included, as a JSON Schema pattern. */
export const PRICE_STRING_PATTERN = '^(?:(?:0|[1-9]\\d{0,5})(?:\\.\\d{1,2})?|1000000(?:\\.00?)?)$';

/** A price as a client sends it; parses to integer cents. */
export const PriceInput = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const cents = parsePriceToCents(value);
    if (cents === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a number from 0 to 1000000 with at most two decimal places',
      });
      return z.NEVER;
    }
    return cents;
  })
  .meta({
    description:
      'A price from 0 to 1000000 with at most two decimal places, as a number or a decimal string. ' +
      'Validators that divide in binary floating point (Ajv, hence Prism) refuse some valid numbers ' +
      'against multipleOf 0.01, such as 19.99: send a decimal string through them.',
    examples: [49.99, '49.99'],
    // The runtime check is parsePriceToCents; the document states the same bounds in
    // JSON Schema terms, so that generated clients and validating proxies refuse what
    // the server would refuse.
    override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
      delete jsonSchema.type;
      jsonSchema.anyOf = [
        { type: 'number', minimum: 0, maximum: MAX_PRICE_CENTS / 100, multipleOf: 0.01 },
        { type: 'string', pattern: PRICE_STRING_PATTERN },
      ];
    },
  });

/** A money amount in a response: a number with at most two decimals. */
export const Amount = z.number().meta({ description: 'An amount with at most two decimal places', examples: [49.99] });
