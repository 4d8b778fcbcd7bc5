import { afterAll, describe, expect, it } from 'vitest';
import { LOAD, rounds } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import { roleDeletionRace } from './lib/roles.js';

/** Roles as data under concurrency, at the run's load (test/support/load.ts). */
describe(`role attacks (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('roles'), LOAD.timeoutMs);

  it(`assignments of a custom role racing its deletion: no membership ever holds a deleted role (${rounds(LOAD.roleDeletionRace)})`, async () => {
    const attack = await roleDeletionRace(LOAD.roleDeletionRace);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);
});
