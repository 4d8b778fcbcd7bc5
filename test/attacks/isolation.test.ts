import { afterAll, describe, expect, it } from 'vitest';
import { LOAD } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import { crossProjectProbes, foreignKeyListing, isolationMatrix, pinnedKeyReach } from './lib/isolation.js';

/** Isolation attacks (broken object-level authorization): no load to scale; the heavy run adds the whole-table check. */
describe(`isolation attacks (broken object-level authorization) (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('isolation'), LOAD.timeoutMs);

  it('every route × every caller kind: the exact status, no foreign data, one 404 body and one 401 body', async () => {
    const attack = await isolationMatrix({ skip: ['GET audit'] });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  // Regression (bug 6, fixed): GET /api/projects/:id/audit answered 403 to a read-write key of the
  // same org that is not a member, where every other project route answers 404 (the project is not
  // visible to it): the 403 told that the project exists.
  it('GET /api/projects/:id/audit × every caller kind, in the same matrix', async () => {
    const attack = await isolationMatrix({ only: ['GET audit'] });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it('a project admin probing another project of its org by real IDs gets 404 and changes nothing', async () => {
    const attack = await crossProjectProbes();
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  // Regression (bug 2, fixed): GET /api/keys?userId=<a user of another org>&limit=1 answered an
  // empty page *with a cursor* when that user had more keys than `limit` (and the cursor carried
  // the foreign key's ID), while an unknown user answers `nextCursor: null`.
  it('listing the keys of another organization’s user answers exactly like an unknown user', async () => {
    const attack = await foreignKeyListing();
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  // Regression (bug 3, fixed): a `global` key pinned to project P deleted an org user (DELETE
  // /api/users/:id), which removed that user's membership in project Q — a project the key cannot
  // see.
  it('a key pinned to one project cannot remove members of another project (DELETE /api/users)', async () => {
    const attack = await pinnedKeyReach();
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);
});
