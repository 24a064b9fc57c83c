import * as z from 'zod';

export const IdParams = z.object({
  id: z.string().min(1).max(128).meta({ description: 'The id returned when the resource was created' }),
});

/** `?limit=` (1..100, default 20) and `?cursor=` from the previous page. */
export const PageQuery = z.object({
  // Decimal digits only: `1e2`, `0x10` or `+5` are not a page size.
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a whole number from 1 to 100').max(100, 'must be a whole number from 1 to 100'))
    .default(20)
    .meta({ description: 'Items per page (1..100)', type: 'integer', minimum: 1, maximum: 100, default: 20 }),
  cursor: z.string().min(1).max(2048).optional().meta({ description: 'next_cursor of the previous page' }),
});

export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().meta({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
    })
    .meta({ id });
