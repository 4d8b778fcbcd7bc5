import { afterAll, describe, expect, it } from 'vitest';
import { LOAD, rounds } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import { leastPrivilege, revocationRace, revokedKeyWrites } from './lib/binding.js';

/** Decisions that bind at once, at the run's load (test/support/load.ts). */
const load = LOAD.binding;

describe(`binding attacks (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('binding'), LOAD.timeoutMs);

  it(`a key revoked on another instance or by the admin CLI never writes again, even from a warm cache (${rounds(load.revokedKeyWrites)})`, async () => {
    const attack = await revokedKeyWrites(load.revokedKeyWrites);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it(`writes racing a revocation: none commits after it, every write sent after its 204 is a 401 (${rounds(load.revocationRace)})`, async () => {
    const attack = await revocationRace(load.revocationRace);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it(`least privilege: key expiry, the owner record, at least one role, pinned keys, no existence oracle, scope first (${rounds(load.leastPrivilege)})`, async () => {
    const attack = await leastPrivilege(load.leastPrivilege);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);
});
