import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:stress`: the attack suite (test/attacks/*.test.ts) at the heavy load (≥ 50 parallel
 * requests × ≥ 20 rounds, full fuzzing, faults; test/support/load.ts), on the same DynamoDB Local
 * setup as `npm test`. Files run one after another so each can end with an invariant check over
 * the whole table while nothing else writes to it.
 */
export default defineConfig({
  test: {
    include: ['test/attacks/*.test.ts'],
    globalSetup: base.test!.globalSetup,
    setupFiles: base.test!.setupFiles,
    env: { ATTACK_LOAD: 'heavy' },
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
