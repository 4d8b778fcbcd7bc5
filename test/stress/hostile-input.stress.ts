import { afterAll, describe, expect, it } from 'vitest';
import { fuzzRoutes } from '../attacks/lib/fuzz.js';
import { authTiming, headerAbuse } from '../attacks/lib/headers.js';
import { expectWholeTableSound } from './whole-table.js';

describe('hostile input (stress)', () => {
  afterAll(() => expectWholeTableSound('hostile input'));

  it('fuzzing: 150 requests per route, every route', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)`);
    const attack = await fuzzRoutes({ runsPerRoute: 150, seed });
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('Authorization abuse', async () => {
    const attack = await headerAbuse();
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  // Regression for bug 1 (test/ATTACKS.md, fixed): see test/attacks/hostile-input.test.ts.
  it('timing of a wrong secret, real key ID vs unknown key ID, 500 samples each', async () => {
    const attack = await authTiming({ samples: 500, tolerance: 1.5 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
