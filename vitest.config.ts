import { defineConfig } from 'vitest/config';

/**
 * `npm test`: every test file, in parallel, on one DynamoDB Local; the attack suite
 * (test/attacks/) at the light load unless ATTACK_LOAD says otherwise (test/support/load.ts).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-dynamodb.ts'],
    setupFiles: ['test/support/env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
