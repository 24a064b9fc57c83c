/**
 * Three layers, one runner. Every layer starts what it needs itself, on free ports:
 *   unit         pure rules, no I/O
 *   integration  the stores against a real DynamoDB Local (started per run, in memory)
 *   e2e          HTTP against the whole stack, started as `npm start` starts it
 *   deploy       the CloudFormation templates `serverless package` makes per stage
 *   chaos        hostile input, authorization, faults and limits; each file starts
 *                its own stack (no globalSetup), so `npm run test:chaos` runs alone
 * TypeScript is transpiled by ts-jest without type-checking (tsconfig sets
 * isolatedModules; `npm run typecheck` checks types); middy is ESM-only, so its
 * JavaScript is transpiled to CommonJS too.
 */
const transform = {
  '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
};
const common = {
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  testEnvironment: 'node',
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/dynamodb-setup.ts',
      globalTeardown: '<rootDir>/tests/support/dynamodb-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/stack-setup.ts',
      globalTeardown: '<rootDir>/tests/support/stack-teardown.ts',
    },
    {
      ...common,
      displayName: 'deploy',
      testMatch: ['<rootDir>/tests/deploy/**/*.test.ts'],
      globalSetup: '<rootDir>/tests/support/package-setup.ts',
    },
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/tests/chaos/**/*.test.ts'] },
  ],
  testTimeout: 30_000,
};
