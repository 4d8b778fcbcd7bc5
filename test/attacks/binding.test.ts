import { describe, expect, it } from 'vitest';
import { leastPrivilege, revocationRace, revokedKeyWrites } from './lib/binding.js';

/**
 * Decisions that bind at once, at a light load (50 parallel requests, one or two rounds);
 * `npm run test:stress` runs the same attacks at 50 parallel × 20 rounds.
 */
const load = { rounds: 2, parallel: 50 };

describe('binding attacks', () => {
  it('a key revoked on another instance or by the admin CLI never writes again, even from a warm cache', async () => {
    const attack = await revokedKeyWrites(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('writes racing a revocation: none commits after it, every write sent after its 204 is a 401', async () => {
    const attack = await revocationRace({ rounds: 1, parallel: 50 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('least privilege: key expiry, the owner record, at least one role, pinned keys, no existence oracle, scope first', async () => {
    const attack = await leastPrivilege({ rounds: 1, parallel: 1 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
