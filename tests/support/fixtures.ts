/** Values tests send: unique emails (the tables are shared between tests), dates, an id that names nothing. */

/** An id of the form the API issues (a UUID) that names nothing. */
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

let counter = 0;
/** A unique email per call, so tests never collide. */
export const uniqueEmail = (label = 'user'): string => `${label}.${Date.now()}.${process.pid}.${counter++}@example.org`;

/** A valid, unique email address of exactly `length` characters (domain labels of at most 63). */
export function emailOfLength(length: number): string {
  const local = uniqueEmail('long').split('@')[0]!;
  let filler = length - local.length - 1 - 'example.org'.length;
  const labels: string[] = [];
  while (filler > 0) {
    // Each label costs its length plus a dot; never leave a remainder of 1 (a label needs a character).
    const cost = filler <= 64 ? filler : filler - 64 === 1 ? 62 : 64;
    labels.push('d'.repeat(cost - 1));
    filler -= cost;
  }
  const email = `${local}@${[...labels, 'example', 'org'].join('.')}`;
  if (email.length !== length) throw new Error(`emailOfLength: built ${email.length} characters, wanted ${length}`);
  return email;
}

/** The instant `days` days from now (before now when negative), as an ISO timestamp. */
export const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();
