import * as z from 'zod';

export const IdParams = z.object({
  id: z.string().min(1).max(128).meta({ description: 'The id returned when the resource was created' }),
});

/** Page sizes a client may ask for; pages never hold more. */
export const MAX_PAGE_ITEMS = 100;

const LIMIT_MESSAGE = `must be a whole number from 1 to ${MAX_PAGE_ITEMS}`;
const LIMIT_DESCRIPTION = `Items per page (1..${MAX_PAGE_ITEMS})`;

/** `?limit=` (1..100, default 20) and `?cursor=` from the previous page. */
export const PageQuery = z.object({
  // Decimal digits only: `1e2`, `0x10` or `+5` are not a page size.
  limit: z
    .string()
    .regex(/^\d{1,3}$/, LIMIT_MESSAGE)
    .transform(Number)
    .pipe(z.number().int().min(1, LIMIT_MESSAGE).max(MAX_PAGE_ITEMS, LIMIT_MESSAGE))
    .default(20)
    .meta({
      description: LIMIT_DESCRIPTION,
      // The wire value is a string only because query strings are; clients see the
      // integer it stands for, and its default, rather than the parsing pattern.
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, {
          description: LIMIT_DESCRIPTION,
          type: 'integer',
          minimum: 1,
          maximum: MAX_PAGE_ITEMS,
          default: 20,
        });
      },
    }),
  cursor: z.string().min(1).max(2048).optional().meta({ description: 'next_cursor of the previous page' }),
});

export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item).max(MAX_PAGE_ITEMS),
      next_cursor: z.string().nullable().meta({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    })
    .meta({ id });
