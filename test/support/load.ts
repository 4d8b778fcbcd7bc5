/**
 * How hard the attack suite (test/attacks/*.test.ts) pushes, chosen by `ATTACK_LOAD`:
 *
 * - `light` (the default; `npm test`): every attack once or twice at 50 parallel requests, in
 *   about a minute of test time, alongside every other test file.
 * - `heavy` (`npm run test:stress`, whose config sets it): ≥ 50 parallel requests × ≥ 20 rounds,
 *   full fuzzing and timing samples, DynamoDB Local stopped and restarted mid-run; the files run
 *   one after another, and each ends with the invariant checker over the whole shared table.
 *
 * The attacks themselves (test/attacks/lib/) take their load as parameters; this module is the
 * only place that says how much.
 */

export type AttackLoadName = 'light' | 'heavy';

interface Rounds {
  rounds: number;
  parallel: number;
}

export interface AttackLoad {
  name: AttackLoadName;
  /** Per-test timeout of an attack (undefined: the config's `testTimeout`). */
  timeoutMs: number | undefined;
  /** End each attack file with the invariant checker over the whole table (files must run serially). */
  wholeTableCheck: boolean;
  binding: { revokedKeyWrites: Rounds; revocationRace: Rounds; leastPrivilege: Rounds };
  /** Assignments of a custom role racing its deletion. */
  roleDeletionRace: Rounds;
  concurrency: Rounds & { demotionGateRounds: number; keyCacheSeconds: number };
  faults: {
    timeoutMs: number;
    throttling: Rounds;
    transactionConflicts: { parallel: number };
    unresponsive: { parallel: number; deadlineMs: number };
    /** DynamoDB Local stopped and restarted under writers: heavy only (null: not run). */
    stopAndRestart: (Rounds & { outageMs: number; signal: NodeJS.Signals }) | null;
  };
  hostileInput: { fuzzRunsPerRoute: number; timingSamples: number; timingTolerance: number };
}

const LOADS: Record<AttackLoadName, AttackLoad> = {
  light: {
    name: 'light',
    // Light attacks take 5–20 s alone; beside every other test file on 2 shared cores, up to 4× that.
    timeoutMs: 120_000,
    wholeTableCheck: false,
    binding: {
      revokedKeyWrites: { rounds: 2, parallel: 50 },
      revocationRace: { rounds: 1, parallel: 50 },
      leastPrivilege: { rounds: 1, parallel: 1 },
    },
    roleDeletionRace: { rounds: 2, parallel: 50 },
    concurrency: { rounds: 1, parallel: 50, demotionGateRounds: 1, keyCacheSeconds: 1 },
    faults: {
      timeoutMs: 60_000,
      throttling: { rounds: 1, parallel: 5 },
      transactionConflicts: { parallel: 10 },
      unresponsive: { parallel: 10, deadlineMs: 6_000 },
      stopAndRestart: null,
    },
    hostileInput: { fuzzRunsPerRoute: 25, timingSamples: 100, timingTolerance: 1.5 },
  },
  heavy: {
    name: 'heavy',
    timeoutMs: 240_000,
    wholeTableCheck: true,
    binding: {
      revokedKeyWrites: { rounds: 20, parallel: 50 },
      revocationRace: { rounds: 20, parallel: 50 },
      leastPrivilege: { rounds: 20, parallel: 1 },
    },
    roleDeletionRace: { rounds: 20, parallel: 50 },
    concurrency: { rounds: 20, parallel: 50, demotionGateRounds: 10, keyCacheSeconds: 1 },
    faults: {
      timeoutMs: 240_000,
      throttling: { rounds: 2, parallel: 50 },
      transactionConflicts: { parallel: 50 },
      unresponsive: { parallel: 50, deadlineMs: 8_000 },
      // Stopped (SIGTERM), not crashed: see test/attacks/faults.test.ts.
      stopAndRestart: { rounds: 2, parallel: 20, outageMs: 1_500, signal: 'SIGTERM' },
    },
    hostileInput: { fuzzRunsPerRoute: 150, timingSamples: 500, timingTolerance: 1.5 },
  },
};

function loadName(raw: string | undefined): AttackLoadName {
  const name = (raw ?? '').trim() || 'light';
  if (name === 'light' || name === 'heavy') return name;
  throw new Error(`ATTACK_LOAD must be "light" or "heavy" (it is "${raw}").`);
}

/** The load of this run. */
export const LOAD: AttackLoad = LOADS[loadName(process.env.ATTACK_LOAD)];

/** "50 parallel × 20 rounds", for test names. */
export const rounds = ({ rounds, parallel }: Rounds) => `${parallel} parallel × ${rounds} round${rounds === 1 ? '' : 's'}`;
