import { describe, expect, it } from 'vitest';
import { throttling, transactionConflicts, unresponsive } from './lib/faults.js';

/** Light fault attacks; DynamoDB Local killed and restarted mid-run is in test/stress/faults.stress.ts. */
describe('fault attacks', () => {
  it('throttling: a burst is absorbed by the SDK retries, sustained throttling is 503 (never 500), never a double write', async () => {
    const attack = await throttling({ rounds: 1, parallel: 5 });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, 60_000);

  it('TransactionConflict is retried at most 3 times, then 503, and nothing is half-written', async () => {
    const attack = await transactionConflicts({ parallel: 10 });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, 60_000);

  // Regression (test/ATTACKS.md, bug 4, fixed): with the table not answering (connection open, no reply) no request
  // gets its 503 — the SDK's requestTimeout only logs a warning unless throwOnRequestTimeout is set —
  // so the Lambda would time out instead.
  it('DynamoDB not answering: 503 + Retry-After well within the Lambda timeout, then service again', async () => {
    const attack = await unresponsive({ parallel: 10, deadlineMs: 6_000 });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, 60_000);
});
