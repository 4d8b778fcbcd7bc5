import { describe, expect, it } from 'vitest';
import { leastPrivilege, revocationRace, revokedKeyWrites } from '../attacks/lib/binding.js';

/** The binding attacks at the stress load: 50 parallel requests × 20 rounds. */
const load = { rounds: 20, parallel: 50 };

describe('binding attacks (stress)', () => {
  it('revoked keys never write again: 20 rounds × 50 writes on a warm instance', async () => {
    const attack = await revokedKeyWrites(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('writes racing a revocation: 20 rounds × 50 writers', async () => {
    const attack = await revocationRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('least privilege, 20 rounds', async () => {
    const attack = await leastPrivilege({ rounds: 20, parallel: 1 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
