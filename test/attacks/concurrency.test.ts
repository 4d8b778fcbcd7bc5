import { describe, expect, it } from 'vitest';
import {
  concurrentTransfers,
  demotionGate,
  demotionRace,
  idempotencyKeyRace,
  ifMatchRace,
  revokedWhileInUse,
  sameUserAdd,
} from './lib/concurrency.js';

/**
 * The concurrency attacks at a light load: 50 parallel requests, one round each. `npm run
 * test:stress` runs them at 50 parallel × 20 rounds (test/stress/concurrency.stress.ts).
 */
const load = { rounds: 1, parallel: 50 };

describe('concurrency attacks', () => {
  it('the same org user added by 50 callers at once: one 201, the rest 409, one membership and one audit item', async () => {
    const attack = await sameUserAdd(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('ownership transferred to 50 different members at once: exactly one owner, project and memberships agree', async () => {
    const attack = await concurrentTransfers(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('a manager demoted while adding users: no add authorized by the old role commits after the demotion', async () => {
    const race = await demotionRace(load);
    race.report();
    const gate = await demotionGate(load);
    gate.report();
    expect([...race.violations, ...gate.violations]).toEqual([]);
  });

  it('PATCH with the same If-Match from 50 callers: one 200, the rest 412, no lost update', async () => {
    const attack = await ifMatchRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('a key revoked while 50 callers use it: after the cache window every request with it is 401', async () => {
    const attack = await revokedWhileInUse({ ...load, keyCacheSeconds: 1 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  // Regression (test/ATTACKS.md, bug 5, fixed): 50 copies of one POST under one Idempotency-Key, sent at once, get
  // one 201 and 409 already_member for the rest instead of the first response replayed.
  it('the same Idempotency-Key and body from 50 callers at once: all get the first 201, one membership', async () => {
    const attack = await idempotencyKeyRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
