import * as z from 'zod';

/** An RFC 3339 timestamp with any offset, normalised to UTC (`...Z`) on the way in. */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value).toISOString())
  // An offset can push a valid year 9999 (or 0000) out of the four-digit range in UTC.
  .refine((utc) => /^\d{4}-/.test(utc), 'must fall between the years 0000 and 9999 in UTC')
  .meta({ description: 'RFC 3339 date-time; any offset accepted, UTC returned', examples: ['2027-05-01T19:30:00.000Z'] });

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
