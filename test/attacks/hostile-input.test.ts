import { describe, expect, it } from 'vitest';
import { fuzzRoutes } from './lib/fuzz.js';
import { authTiming, headerAbuse } from './lib/headers.js';

describe('hostile input', () => {
  it('fuzzed path params, queries, bodies and headers on every route: no 500, no stack trace, problem+json, rejected writes write nothing', async () => {
    const attack = await fuzzRoutes({ runsPerRoute: 25 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  it('Authorization abuse: missing, duplicated, malformed, wrong length, non-ASCII — one 401, the server stays up', async () => {
    const attack = await headerAbuse();
    attack.report();
    expect(attack.violations).toEqual([]);
  });

  // Regression (test/ATTACKS.md, bug 1, fixed): a wrong secret for a real key ID is answered from the key cache
  // (≈0.2 ms) or after two reads (≈9 ms), an unknown key ID after one read (≈5 ms): timing tells a
  // real key ID from an unknown one.
  it('a wrong secret for a real key ID costs the same as for an unknown key ID', async () => {
    const attack = await authTiming({ samples: 100, tolerance: 1.5 });
    attack.report();
    expect(attack.violations).toEqual([]);
  });
});
