/**
 * The prices the cost part uses, in one place. Update them here (and the date)
 * when AWS changes them.
 */
export const PRICES = {
  source: 'AWS public pricing, us-east-1, as of 2026',
  dynamodb: {
    mode: 'on-demand',
    /** USD per million write request units (1 WRU: a standard write of up to 1 KB; a transactional one takes 2). */
    perMillionWriteUnits: 0.625,
    /** USD per million read request units (1 RRU: a strongly consistent read of up to 4 KB; eventually consistent: 0.5). */
    perMillionReadUnits: 0.125,
  },
  lambda: {
    architecture: 'arm64',
    memoryMb: 512,
    perMillionRequests: 0.2,
    perGbSecond: 0.0000133334,
  },
  httpApi: {
    /** USD per million requests (first 300 million a month). */
    perMillionRequests: 1.0,
  },
  stepFunctions: {
    type: 'Standard',
    perThousandTransitions: 0.025,
  },
} as const;
