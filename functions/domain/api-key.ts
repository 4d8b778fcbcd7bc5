import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ID_BODY, ID_PREFIX } from './ids.js';

/**
 * The API key format, defined here once: `puk_<keyId>_<secret>`, e.g.
 * `puk_key_01m8h4tvp9rvqpyansf2kmenz7_BNutL6CqyAvXef6JOjnNAvxCkV1yKKY72SkqOJtjrX52gwoKc`
 * (`puk` _ key ID _ 43 random base62 chars + 6 checksum chars).
 *
 * - The separator `_` never occurs after the key ID's own `key_` prefix: the key ID body is
 *   Crockford base32 (ids.ts) and the secret is base62 (`0-9A-Za-z`), so the key splits
 *   unambiguously (about half of the old base64url secrets contained `_`; 1 in 64 began with it).
 * - The secret is {@link SECRET_BODY_LENGTH} uniformly random base62 chars (43 × log2 62 ≈ 256.03
 *   bits), then {@link CHECKSUM_LENGTH} base62 chars of CRC32 over `puk_<keyId>_<body>` (as
 *   GitHub's tokens do): a mistyped or truncated key, or a secret pasted onto another key ID, is
 *   refused by {@link parseApiKey} without any database read, and a secret scanner can tell a real
 *   key from a look-alike offline. The checksum is not a secret and adds no entropy.
 * - Only SHA-256 of the whole secret (body and checksum) is stored.
 */
export const API_KEY_PREFIX = 'puk';
export const API_KEY_SEPARATOR = '_';
export const SECRET_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SECRET_BODY_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
export const SECRET_LENGTH = SECRET_BODY_LENGTH + CHECKSUM_LENGTH;
/** Bits of randomness in a secret: ⌊43 × log2 62⌋ = 256. */
export const SECRET_ENTROPY_BITS = Math.floor(SECRET_BODY_LENGTH * Math.log2(SECRET_ALPHABET.length));

const CHAR = '[0-9A-Za-z]';
const KEY_ID = `${ID_PREFIX.key}_${ID_BODY}`;
/** A whole key: group 1 the key ID, group 2 the secret's random body, group 3 its checksum. */
export const API_KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}${API_KEY_SEPARATOR}(${KEY_ID})${API_KEY_SEPARATOR}(${CHAR}{${SECRET_BODY_LENGTH}})(${CHAR}{${CHECKSUM_LENGTH}})$`,
);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib and GitHub tokens) of an ASCII string. */
function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The checksum of a key ID and secret body: CRC32 of `puk_<keyId>_<body>`, 6 base62 chars, zero-padded. */
export function checksumOf(keyId: string, body: string): string {
  let rest = crc32(`${API_KEY_PREFIX}${API_KEY_SEPARATOR}${keyId}${API_KEY_SEPARATOR}${body}`);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = SECRET_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** A secret for a key ID from a given body: the body and its checksum (tests build keys with it). */
export function secretWithChecksum(keyId: string, body: string): string {
  return body + checksumOf(keyId, body);
}

/** `length` uniformly random base62 chars (rejection sampling: no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < 248 && out.length < length) out += SECRET_ALPHABET[byte % 62];
    }
  }
  return out;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const NO_HASH = Buffer.alloc(32);

/**
 * Whether `secret` is the secret whose hash is `storedHash` (a key item's `secretHash`; undefined
 * when there is no such key). Constant time, and the same hash-and-compare when there is no key, so
 * timing does not tell an unknown key ID from a wrong secret.
 */
export function secretMatches(storedHash: string | undefined, secret: string | undefined): boolean {
  const presented = createHash('sha256').update(secret ?? '').digest();
  const stored = storedHash ? Buffer.from(storedHash, 'hex') : NO_HASH;
  return stored.length === presented.length && timingSafeEqual(stored, presented) && storedHash !== undefined && secret !== undefined;
}

/** A key may act: not revoked, not expired at `now` (ms). Stored keys leave out null fields. */
export function isKeyLive(key: { revokedAt?: string | null; expiresAt?: string | null }, now = Date.now()): boolean {
  return !key.revokedAt && !(key.expiresAt && Date.parse(key.expiresAt) <= now);
}

/** A new secret for a key ID and the hash that is all the table ever stores. */
export function mintSecret(keyId: string): { secret: string; secretHash: string } {
  const secret = secretWithChecksum(keyId, randomBase62(SECRET_BODY_LENGTH));
  return { secret, secretHash: hashSecret(secret) };
}

export function formatApiKey(keyId: string, secret: string): string {
  return `${API_KEY_PREFIX}${API_KEY_SEPARATOR}${keyId}${API_KEY_SEPARATOR}${secret}`;
}

/** The key ID and secret of a well-formed key with a valid checksum; anything else is null. No I/O. */
export function parseApiKey(key: string): { keyId: string; secret: string } | null {
  const match = API_KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, keyId, body, checksum] = match as unknown as [string, string, string, string];
  return checksumOf(keyId, body) === checksum ? { keyId, secret: body + checksum } : null;
}
