import { afterAll, describe, expect, it } from 'vitest';
import { LOAD, rounds } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import { stopAndRestart, throttling, transactionConflicts, unresponsive } from './lib/faults.js';

/** Fault attacks at the run's load (test/support/load.ts); the stop-and-restart one runs at the heavy load only. */
const load = LOAD.faults;

describe(`fault attacks (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('faults'), LOAD.timeoutMs);

  it(`throttling: a burst is absorbed by the SDK retries, sustained throttling is 503 (never 500), never a double write (${rounds(load.throttling)})`, async () => {
    const attack = await throttling(load.throttling);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, load.timeoutMs);

  it(`TransactionConflict is retried at most 3 times, then 503, and nothing is half-written (${load.transactionConflicts.parallel} parallel)`, async () => {
    const attack = await transactionConflicts(load.transactionConflicts);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, load.timeoutMs);

  // Stopped (SIGTERM), not crashed: DynamoDB Local itself loses acknowledged TransactWriteItems
  // when SIGKILLed (measured: 2 of 634, each lost whole), so a crash cannot test our durability;
  // a stop loses none (0 of 647; and with the SDK alone, 20 writers of two-item transactions,
  // 0 of 6,731 over 25 stops, with and without the SDK's retries), and every assertion below then
  // holds the app to it. Yet about one CI run in five has missed one acknowledged add after a stop
  // (the engine was not SIGKILLed: stops took 347-433 ms); not reproduced in 6 local runs. So the
  // attack records which transactions DynamoDB itself acknowledged: a 201 without one is a
  // violation (the app answered for a write the engine never confirmed); an add the engine
  // acknowledged and then lost is reported (lostByEngineAfterAcknowledging, with its timing against
  // each SIGTERM), not blamed on the app, which cannot know more than the engine told it.
  const restart = load.stopAndRestart;
  if (restart) {
    it(`DynamoDB Local stopped and restarted on its data ${restart.rounds} times under ${restart.parallel} parallel writers`, async () => {
      const attack = await stopAndRestart(restart);
      attack.report();
      expect(attack.violations).toEqual([]);
    }, load.timeoutMs);
  }

  // Regression (bug 4, fixed): with the table not answering (connection open, no reply) no request
  // got its 503 — the SDK's requestTimeout only logs a warning unless throwOnRequestTimeout is set —
  // so the Lambda would time out instead.
  it(`DynamoDB not answering: 503 + Retry-After well within the Lambda timeout, then service again (${load.unresponsive.parallel} parallel, within ${load.unresponsive.deadlineMs / 1000} s)`, async () => {
    const attack = await unresponsive(load.unresponsive);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, load.timeoutMs);
});
