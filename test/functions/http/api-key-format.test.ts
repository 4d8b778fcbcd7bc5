import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  API_KEY_PREFIX,
  API_KEY_SEPARATOR,
  CHECKSUM_LENGTH,
  SECRET_ALPHABET,
  SECRET_BODY_LENGTH,
  SECRET_ENTROPY_BITS,
  SECRET_LENGTH,
  formatApiKey,
  hashSecret,
  mintSecret,
  parseApiKey,
  secretWithChecksum,
} from '../../../functions/domain/api-key.js';
import { newId } from '../../../functions/domain/ids.js';
import { call, newOrg, testApp, type TestApp } from '../../support/app.js';

/** `text` with the character at `index` replaced by another one of the secret alphabet. */
function flip(text: string, index: number): string {
  const current = text[index]!;
  const others = SECRET_ALPHABET.replace(current, '');
  return text.slice(0, index) + others[Math.floor(Math.random() * others.length)] + text.slice(index + 1);
}

/** The key ID and secret of a key, by the format's own separator and nothing else. */
function splitKey(key: string) {
  const [prefix, idPrefix, idBody, secret, ...rest] = key.split(API_KEY_SEPARATOR);
  return { prefix, keyId: `${idPrefix}${API_KEY_SEPARATOR}${idBody}`, secret, rest };
}

/** Counts reads of API keys and org users on the app's real store (which still answers them). */
function countStoreReads(t: TestApp) {
  const counts = { getApiKey: 0, getOrgUser: 0 };
  const store = t.store as { getApiKey: (...args: any[]) => unknown; getOrgUser: (...args: any[]) => unknown };
  for (const name of ['getApiKey', 'getOrgUser'] as const) {
    const real = store[name];
    store[name] = (...args: unknown[]) => {
      counts[name]++;
      return real(...args);
    };
  }
  return counts;
}

describe('API key format', () => {
  it('2,000 minted keys parse back to their key ID and secret, split on exactly the two format separators, and any single-character change fails the checksum', () => {
    expect(SECRET_ENTROPY_BITS).toBeGreaterThanOrEqual(256);
    expect(SECRET_ALPHABET).not.toContain(API_KEY_SEPARATOR);
    const N = 2000;
    const counts = new Map<string, number>();
    let parseFailures = 0;
    let flips = 0;
    let flipsAccepted = 0;
    for (let i = 0; i < N; i++) {
      const keyId = newId('key');
      const { secret, secretHash } = mintSecret(keyId);
      const key = formatApiKey(keyId, secret);
      expect(secret).toMatch(new RegExp(`^[${SECRET_ALPHABET}]{${SECRET_LENGTH}}$`));
      expect(secretHash).toBe(hashSecret(secret));
      expect(key).toMatch(API_KEY_PATTERN);
      // `puk` _ `key_<id>` _ `<secret>`: the only other `_` is the key ID's own `key_` prefix.
      expect(key.startsWith(`${API_KEY_PREFIX}${API_KEY_SEPARATOR}${keyId}${API_KEY_SEPARATOR}`)).toBe(true);
      expect(key.slice(API_KEY_PREFIX.length + 1 + keyId.length + 1)).toBe(secret);
      expect(secret).not.toContain(API_KEY_SEPARATOR);
      expect(splitKey(key)).toEqual({ prefix: API_KEY_PREFIX, keyId, secret, rest: [] });
      const parsed = parseApiKey(key);
      if (!parsed || parsed.keyId !== keyId || parsed.secret !== secret) parseFailures++;
      for (const char of secret.slice(0, SECRET_BODY_LENGTH)) counts.set(char, (counts.get(char) ?? 0) + 1);
      // A sample: every position of the secret (body and checksum) and of the key ID's body.
      if (i % 10 === 0) {
        const secretStart = key.length - SECRET_LENGTH;
        const idStart = API_KEY_PREFIX.length + 1 + 'key_'.length;
        for (const index of [...Array(SECRET_LENGTH).keys()].map((j) => secretStart + j)) {
          flips++;
          if (parseApiKey(flip(key, index)) !== null) flipsAccepted++;
        }
        for (let index = idStart; index < idStart + 26; index++) {
          const changed = key.slice(0, index) + (key[index] === '0' ? '1' : '0') + key.slice(index + 1);
          flips++;
          if (parseApiKey(changed) !== null) flipsAccepted++;
        }
        // Two adjacent characters swapped (the commonest typo) and a dropped checksum character.
        const at = secretStart + Math.floor(Math.random() * (SECRET_LENGTH - 1));
        if (key[at] !== key[at + 1]) {
          flips++;
          if (parseApiKey(key.slice(0, at) + key[at + 1] + key[at] + key.slice(at + 2)) !== null) flipsAccepted++;
        }
        expect(parseApiKey(key.slice(0, -1))).toBeNull();
      }
    }
    expect(parseFailures).toBe(0);
    expect(flips).toBeGreaterThan(15_000);
    expect(flipsAccepted).toBe(0);
    // Uniform base62 (no modulo bias): chi-square over 62 symbols, 61 degrees of freedom;
    // 120 is beyond the 99.999th percentile, a `byte % 62` bias gives ≈ 570.
    const expected = (N * SECRET_BODY_LENGTH) / SECRET_ALPHABET.length;
    const chiSquare = [...SECRET_ALPHABET].reduce((sum, char) => sum + ((counts.get(char) ?? 0) - expected) ** 2 / expected, 0);
    expect(counts.size).toBe(SECRET_ALPHABET.length);
    expect(chiSquare).toBeLessThan(120);
  });

  it('parses nothing but the exact shape: old base64url secrets, wrong lengths and a secret moved to another key ID are null', () => {
    const keyId = newId('key');
    const { secret } = mintSecret(keyId);
    const body = secret.slice(0, SECRET_BODY_LENGTH);
    expect(parseApiKey(formatApiKey(keyId, secret))).toEqual({ keyId, secret });
    expect(CHECKSUM_LENGTH).toBe(6);
    for (const bad of [
      formatApiKey(keyId, 'A'.repeat(43)), // the old shape: 43 base64url chars, no checksum
      formatApiKey(keyId, `${'A'.repeat(20)}_${'B'.repeat(22)}`),
      formatApiKey(keyId, body), // no checksum
      formatApiKey(keyId, `${secret}A`),
      formatApiKey(keyId, secret.slice(1)),
      formatApiKey(newId('key'), secret), // the checksum covers the key ID
      formatApiKey(keyId, `${body.slice(0, -1)}-${secret.slice(SECRET_BODY_LENGTH)}`),
      `pk_${keyId}_${secret}`,
      ` ${formatApiKey(keyId, secret)}`,
      formatApiKey(keyId.toUpperCase(), secretWithChecksum(keyId.toUpperCase(), body)),
      '',
    ]) {
      expect(parseApiKey(bad), bad).toBeNull();
    }
    // Any body gets a valid key with its checksum: that is how tests build well-formed wrong keys.
    expect(parseApiKey(formatApiKey(keyId, secretWithChecksum(keyId, 'B'.repeat(SECRET_BODY_LENGTH))))).not.toBeNull();
  });

  it('keys minted through the API and the admin CLI parse back to their key ID, and only SHA-256 of the secret is stored', async () => {
    const t = testApp();
    const org = await newOrg(t, 'Key format');
    const minted = [org.adminKey];
    const userId = await org.user();
    for (let i = 0; i < 5; i++) {
      const res = await call(t, 'POST', '/api/keys', { key: org.adminKey, body: { userId, scope: i % 2 ? 'read' : 'read-write' } });
      expect(res.status).toBe(201);
      const parsed = parseApiKey(res.body.secret);
      expect(parsed?.keyId).toBe(res.body.key._id);
      minted.push(res.body.secret);
    }
    minted.push((await t.ops.createKey({ orgId: org.orgId, userId, scope: 'read' })).secret);
    for (const key of minted) {
      const parsed = parseApiKey(key);
      expect(parsed, key).not.toBeNull();
      const { keyId, secret, rest } = splitKey(key);
      expect(rest).toEqual([]);
      expect(parsed).toEqual({ keyId, secret });
      const stored = await t.store.getApiKey(keyId);
      expect(stored?.secretHash).toBe(hashSecret(secret!));
      expect(JSON.stringify(stored)).not.toContain(secret);
      expect((await call(t, 'GET', '/api/projects', { key })).status).toBe(200);
    }
  });

  it('a key with a wrong checksum is a 401 before any store read, byte for byte the same 401 as a wrong secret', async () => {
    const setup = testApp();
    const org = await newOrg(setup, 'Checksum');
    const key = await org.key(await org.user(), 'read-write');
    const { keyId, secret } = splitKey(key);
    const t = testApp({ keyCacheSeconds: 0 }); // every authentication reads the table
    const reads = countStoreReads(t);

    // The real key: the counter sees the reads it makes.
    expect((await call(t, 'GET', '/api/projects', { key })).status).toBe(200);
    expect(reads.getApiKey).toBeGreaterThan(0);

    const answers: { label: string; status: number; text: string; headers: string; reads: number }[] = [];
    const probe = async (label: string, presented: string) => {
      const before = reads.getApiKey + reads.getOrgUser;
      const res = await call(t, 'GET', '/api/projects', { key: presented });
      answers.push({
        label,
        status: res.status,
        text: res.text,
        headers: JSON.stringify([res.headers.get('Content-Type'), res.headers.get('WWW-Authenticate'), res.headers.get('Cache-Control')]),
        reads: reads.getApiKey + reads.getOrgUser - before,
      });
    };
    for (const index of [0, 10, SECRET_BODY_LENGTH - 1, SECRET_BODY_LENGTH, SECRET_LENGTH - 1]) {
      await probe(`secret char ${index} changed`, formatApiKey(keyId, flip(secret!, index)));
    }
    await probe('secret of another key ID', formatApiKey(newId('key'), secret!));
    // Well-formed (valid checksum) but wrong: these do read the table, and answer the same 401.
    await probe('wrong secret, valid checksum', formatApiKey(keyId, secretWithChecksum(keyId, 'B'.repeat(SECRET_BODY_LENGTH))));
    const unknownId = newId('key');
    await probe('unknown key ID, valid checksum', formatApiKey(unknownId, mintSecret(unknownId).secret));

    const bad = answers.filter((a) => !a.label.includes('valid checksum'));
    for (const a of bad) expect(a, a.label).toMatchObject({ status: 401, reads: 0 });
    const wellFormed = answers.filter((a) => a.label === 'wrong secret, valid checksum');
    expect(wellFormed[0]).toMatchObject({ status: 401 });
    expect(wellFormed[0]!.reads).toBeGreaterThan(0);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([401]));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(new Set(answers.map((a) => a.headers)).size).toBe(1);
  });
});
