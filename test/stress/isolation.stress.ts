import { afterAll, describe, expect, it } from 'vitest';
import { crossProjectProbes, isolationMatrix } from '../attacks/lib/isolation.js';
import { expectWholeTableSound } from './whole-table.js';

describe('isolation attacks (stress)', () => {
  afterAll(() => expectWholeTableSound('isolation'));

  it('every route × every caller kind (the audit route: bug 6, in test/attacks/isolation.test.ts)', async () => {
    const attack = await isolationMatrix({ skip: ['GET audit'] });
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('cross-project probes', async () => {
    const attack = await crossProjectProbes();
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
