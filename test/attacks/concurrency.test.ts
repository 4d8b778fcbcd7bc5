import { afterAll, describe, expect, it } from 'vitest';
import { LOAD, rounds } from '../support/load.js';
import { expectWholeTableSound } from '../support/table.js';
import {
  concurrentTransfers,
  demotionGate,
  demotionRace,
  idempotencyKeyRace,
  ifMatchRace,
  revokedWhileInUse,
  sameUserAdd,
} from './lib/concurrency.js';

/** The concurrency attacks at the run's load (test/support/load.ts): `parallel` real concurrent requests, `rounds` times. */
const { rounds: n, parallel, demotionGateRounds, keyCacheSeconds } = LOAD.concurrency;
const load = { rounds: n, parallel };
const at = rounds(load);

describe(`concurrency attacks (${LOAD.name})`, () => {
  if (LOAD.wholeTableCheck) afterAll(() => expectWholeTableSound('concurrency'), LOAD.timeoutMs);

  it(`the same org user added by ${parallel} callers at once: one 201, the rest 409, one membership and one audit item (${at})`, async () => {
    const attack = await sameUserAdd(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it(`ownership transferred to ${parallel} different members at once: exactly one owner, project and memberships agree (${at})`, async () => {
    const attack = await concurrentTransfers(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it(`a manager demoted while adding users: no add authorized by the old role commits after the demotion (${at}; forced interleavings: ${demotionGateRounds})`, async () => {
    const race = await demotionRace(load);
    race.report();
    const gate = await demotionGate({ ...load, rounds: demotionGateRounds });
    gate.report();
    expect([...race.violations, ...gate.violations]).toEqual([]);
  }, LOAD.timeoutMs);

  it(`PATCH with the same If-Match from ${parallel} callers: one 200, the rest 412, no lost update (${at})`, async () => {
    const attack = await ifMatchRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  it(`a key revoked while ${parallel} callers use it: after the cache window every request with it is 401 (${at})`, async () => {
    const attack = await revokedWhileInUse({ ...load, keyCacheSeconds });
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);

  // Regression (bug 5, fixed): copies of one POST under one Idempotency-Key, sent at once, got one
  // 201 and 409 already_member for the rest instead of the first response replayed.
  it(`the same Idempotency-Key and body from ${parallel} callers at once: all get the first 201, one membership (${at})`, async () => {
    const attack = await idempotencyKeyRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  }, LOAD.timeoutMs);
});
