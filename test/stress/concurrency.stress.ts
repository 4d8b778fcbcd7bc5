import { afterAll, describe, expect, it } from 'vitest';
import {
  concurrentTransfers,
  demotionGate,
  demotionRace,
  idempotencyKeyRace,
  ifMatchRace,
  revokedWhileInUse,
  sameUserAdd,
} from '../attacks/lib/concurrency.js';
import { expectWholeTableSound } from './whole-table.js';

/** Every concurrency attack at 50 parallel requests × 20 rounds. */
const load = { rounds: 20, parallel: 50 };

describe('concurrency attacks (stress)', () => {
  afterAll(() => expectWholeTableSound('concurrency'));

  it('the same org user added by 50 callers at once, 20 rounds', async () => {
    const attack = await sameUserAdd(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('ownership transferred to 50 different members at once, 20 rounds', async () => {
    const attack = await concurrentTransfers(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('a manager demoted while 50 adds run, 20 random interleavings and 10 forced ones', async () => {
    const race = await demotionRace(load);
    race.report();
    const gate = await demotionGate({ ...load, rounds: 10 });
    gate.report();
    expect([...race.violations, ...gate.violations]).toEqual([]);
  });

  it('PATCH with the same If-Match from 50 callers, 20 rounds (and 50 without If-Match, 10 rounds)', async () => {
    const attack = await ifMatchRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('a key revoked while 50 callers use it, 20 rounds', async () => {
    const attack = await revokedWhileInUse({ ...load, keyCacheSeconds: 1 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  // Regression for bug 5 (test/ATTACKS.md, fixed): see test/attacks/concurrency.test.ts.
  it('the same Idempotency-Key from 50 callers at once, 20 rounds', async () => {
    const attack = await idempotencyKeyRace(load);
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
