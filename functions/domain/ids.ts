import { randomBytes } from 'node:crypto';

/**
 * Every ID is `<prefix>_<26 chars>`: 10 chars of millisecond time and 16 random chars (80 bits),
 * both in lowercase Crockford base32 — ULID layout. URL-safe, never contains `_`, `#` or `/`
 * after the prefix (so `puk_<keyId>_<secret>` splits unambiguously and an ID can never inject a
 * key delimiter), and sorts by creation time, which gives lists and the audit log a natural order.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** What follows `<prefix>_` in every ID, as a regular expression source (no anchors). */
export const ID_BODY = '[0-9a-hjkmnp-tv-z]{26}';

export const ID_PREFIX = {
  org: 'org',
  user: 'usr',
  project: 'prj',
  projectUser: 'pu',
  key: 'key',
  role: 'rol',
  audit: 'evt',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export const ID_PATTERN: Record<IdKind, RegExp> = Object.fromEntries(
  Object.entries(ID_PREFIX).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}_${ID_BODY}$`)]),
) as Record<IdKind, RegExp>;

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte & 31];
  return out;
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIX[kind]}_${encodeTime(now)}${encodeRandom(16)}`;
}

export function isId(kind: IdKind, value: string): boolean {
  return ID_PATTERN[kind].test(value);
}
