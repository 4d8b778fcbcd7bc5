import { afterAll, describe, expect, it } from 'vitest';
import { LOAD } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import { checkAgreement, formatAgreementMatrix } from './lib/check-agreement.js';

/** The check and the routes decide alike (SPEC §7, issue 13): no load to scale; the heavy run adds the whole-table check. */
describe(`check agreement attacks (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('check agreement'), LOAD.timeoutMs);

  it('every project route × every caller kind: the check of the permission the route needs agrees with the route; a custom permission is decided by its role', async () => {
    const attack = await checkAgreement();
    attack.report();
    if (attack.violations.length > 0) console.log(formatAgreementMatrix(attack.matrix));
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);
});
