import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, MIN_CURSOR_SECRET_LENGTH, readConfig, type Config } from '../../functions/config.js';
import { PROJECT_ROOT } from '../../infra/bundling.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';

/**
 * The cursor signing secret: read once, from Secrets Manager on Lambda (through the real
 * SDK client, pointed at the local stand-in), given or random per process locally, never derived
 * from a name, and a loud failure when Lambda has none.
 */

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:CursorSecret-AbCdEf';
const SECRET = 'Z'.repeat(20) + 'managed0cursor0secret0value0from0secrets0manager';
let fake: FakeAws;

beforeAll(async () => {
  fake = await startFakeAws();
  fake.secrets[ARN] = SECRET;
});
afterAll(() => fake.close());

/** Only what each case sets: nothing inherited from the test environment. */
const env = (vars: Record<string, string>) => ({ TABLE_NAME: 'project-users-config-test', AWS_REGION: 'us-east-1', ...vars });
const onLambda = { AWS_LAMBDA_FUNCTION_NAME: 'ProjectUsers-dev-ApiFunction' };

/** The function that reads a secret from Secrets Manager, as loadConfig hands it over on Lambda. */
function reader(secret: Config['cursorSecret']): () => Promise<string> {
  if (typeof secret !== 'function') throw new Error(`expected a function that reads the secret, got ${typeof secret}`);
  return secret;
}

describe('cursor secret', () => {
  it('on Lambda, CURSOR_SECRET_ARN is read from Secrets Manager by the function loadConfig hands over: one GetSecretValue call', async () => {
    const before = fake.secretReads.length;
    const config = await loadConfig(env({ ...onLambda, CURSOR_SECRET_ARN: ARN, SECRETS_MANAGER_ENDPOINT: fake.endpoint }));
    // Loading waits for nothing: the store starts the read, beside the first request.
    expect(fake.secretReads.slice(before)).toEqual([]);
    await expect(reader(config.cursorSecret)()).resolves.toBe(SECRET);
    expect(fake.secretReads.slice(before)).toEqual([ARN]);
  });

  it('on Lambda without a secret the cold start fails; a secret that cannot be read or is short fails its read, with the reason', async () => {
    expect(() => readConfig(env(onLambda))).toThrow(/Missing CURSOR_SECRET_ARN/);
    await expect(loadConfig(env(onLambda))).rejects.toThrow(/Missing CURSOR_SECRET_ARN/);
    // A secret that cannot be read, or is short, fails its read with the reason (app.ts answers 503).
    const missing = `${ARN}-gone`;
    const gone = await loadConfig(env({ ...onLambda, CURSOR_SECRET_ARN: missing, SECRETS_MANAGER_ENDPOINT: fake.endpoint }));
    await expect(reader(gone.cursorSecret)()).rejects.toThrow(
      `Cannot read the cursor secret ${missing} from Secrets Manager: Secrets Manager can't find the specified secret.`,
    );
    fake.secrets[`${ARN}-short`] = 'x'.repeat(MIN_CURSOR_SECRET_LENGTH - 1);
    const short = await loadConfig(env({ ...onLambda, CURSOR_SECRET_ARN: `${ARN}-short`, SECRETS_MANAGER_ENDPOINT: fake.endpoint }));
    await expect(reader(short.cursorSecret)()).rejects.toThrow(`The secret at CURSOR_SECRET_ARN must be at least ${MIN_CURSOR_SECRET_LENGTH} characters`);
    // An ARN is never silently skipped: readConfig cannot read it, and CURSOR_SECRET cannot shadow it.
    expect(() => readConfig(env({ CURSOR_SECRET_ARN: ARN }))).toThrow(/loadConfig/);
    await expect(loadConfig(env({ CURSOR_SECRET_ARN: ARN, CURSOR_SECRET: SECRET }))).rejects.toThrow(/not both/);
    expect(() => readConfig(env({ CURSOR_SECRET: 'short' }))).toThrow(/CURSOR_SECRET must be at least/);
  });

  it('locally: CURSOR_SECRET as given, else one random secret per process, never derived from the table name', async () => {
    expect(readConfig(env({ CURSOR_SECRET: SECRET })).cursorSecret).toBe(SECRET);
    expect((await loadConfig(env({ CURSOR_SECRET: SECRET }))).cursorSecret).toBe(SECRET);
    const a = readConfig(env({ TABLE_NAME: 'table-a' })).cursorSecret;
    const b = (await loadConfig(env({ TABLE_NAME: 'table-b' }))).cursorSecret;
    expect(a).toBe(b); // every app of the process accepts the others' cursors
    expect(a.length).toBeGreaterThanOrEqual(MIN_CURSOR_SECRET_LENGTH);
    expect(a).not.toContain('table-a');
    expect(a).not.toBe('project-users-cursor:table-a'); // the old derivation
    // Another process draws another secret.
    const drawn = [1, 2].map(() => {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', "const { readConfig } = await import('./functions/config.ts'); console.log(readConfig({ TABLE_NAME: 'table-a' }).cursorSecret);"],
        { cwd: PROJECT_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
      );
      expect(run.status, run.stderr).toBe(0);
      return run.stdout.trim();
    });
    expect(drawn[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([a, ...drawn]).size).toBe(3);
  });
});
