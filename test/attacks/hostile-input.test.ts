import { afterAll, describe, expect, it } from 'vitest';
import { LOAD } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import { fuzzRoutes } from './lib/fuzz.js';
import { authTiming, headerAbuse } from './lib/headers.js';

/** Hostile input at the run's load (test/support/load.ts): fuzz runs per route, timing samples. */
const load = LOAD.hostileInput;

describe(`hostile input (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('hostile input'), LOAD.timeoutMs);

  it(`fuzzed path params, queries, bodies and headers on every route: no 500, no stack trace, problem+json, rejected writes write nothing (${load.fuzzRunsPerRoute} requests per route)`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)`);
    const attack = await fuzzRoutes({ runsPerRoute: load.fuzzRunsPerRoute, seed });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it('Authorization abuse: missing, duplicated, malformed, wrong length, non-ASCII — one 401, the server stays up', async () => {
    const attack = await headerAbuse();
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  // Regression (bug 1, fixed): a wrong secret for a real key ID was answered from the key cache
  // (≈0.2 ms) or after two reads (≈9 ms), an unknown key ID after one read (≈5 ms): timing told a
  // real key ID from an unknown one.
  it(`a wrong secret for a real key ID costs the same as for an unknown key ID (${load.timingSamples} samples each)`, async () => {
    const attack = await authTiming({ samples: load.timingSamples, tolerance: load.timingTolerance });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);
});
