import * as z from 'zod';

/**
 * Text a person wrote: a string that is well-formed Unicode. A lone surrogate
 * (`\ud800`) is valid in a JSON string but is no character, cannot be encoded as
 * UTF-8, and is refused (422) rather than stored.
 */
export const Text = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((text) => text.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');
