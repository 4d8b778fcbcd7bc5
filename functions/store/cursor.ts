import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { errors } from '../domain/errors.js';
import { TABLE_DEFINITION } from './keys.js';

/**
 * Opaque pagination cursors: the DynamoDB start key and the listing it belongs to, encrypted and
 * authenticated (AES-256-GCM). A cursor from another listing, another project or another filter,
 * or an edited one, is rejected with 400 instead of leaking or skipping data; and none can be read:
 * a start key may name an item the caller cannot see (a filtered listing stops on the last item it
 * read, hidden or not), and the table's key layout is nobody's business.
 */
export type StartKey = Record<string, string>;

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The cursor key, derived from the secret (so the secret could serve another purpose unharmed). */
export const cursorKeyOf = (secret: string) => Buffer.from(hkdfSync('sha256', secret, '', 'project-users pagination cursor', 32));

/** What a cursor carries: the listing it resumes and where. */
export interface CursorContent {
  l: string;
  k: StartKey;
}

export function sealCursor(key: Buffer, content: CursorContent): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(content), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The content of a cursor sealed with this key, or null for anything else (edited, foreign, garbled). */
export function openCursor(key: Buffer, cursor: string): unknown {
  const bytes = Buffer.from(cursor, 'base64url');
  // Base64url decoding is lenient (padding, the other alphabet, stray characters, unused low bits):
  // only the one text that sealCursor writes for these bytes is a cursor.
  if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== cursor) return null;
  try {
    const decipher = createDecipheriv(CIPHER, key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch {
    return null;
  }
}

/** The one answer to any cursor that cannot be used: garbled, forged, or not for this listing. */
export function invalidCursor(detail = 'The cursor is not valid for this listing.') {
  return errors.validation(detail, [{ path: 'query.cursor', message: 'invalid cursor' }]);
}

/**
 * The signing secret: known now (local), or read by a function (on Lambda, from Secrets Manager)
 * that `createCursorCodec` calls at once, so that the read overlaps the first request's own reads.
 */
export type CursorSecret = string | (() => Promise<string>);

const READY = Promise.resolve();

export function createCursorCodec(secret: CursorSecret) {
  let key = typeof secret === 'string' ? cursorKeyOf(secret) : undefined;
  let reading: Promise<void> | undefined;
  const read = (source: () => Promise<string>) =>
    (reading ??= source().then(
      (value) => {
        key = cursorKeyOf(value);
      },
      (error: unknown) => {
        // Read again by the next `ready()`, not remembered as failed for the life of the instance.
        reading = undefined;
        throw error;
      },
    ));
  if (typeof secret === 'function') read(secret).catch(() => undefined);
  const cursorKey = () => {
    if (key === undefined) throw new Error('The cursor secret is not read yet: await ready() before encode() or decode()');
    return key;
  };

  const ready = (): Promise<void> => (key !== undefined || typeof secret === 'string' ? READY : read(secret));

  return {
    /** Settles once the secret is known; rejects with the reason its read failed (and reads it again next time). */
    ready,
    /** Whether the secret is known now (nothing to wait for). */
    known: () => key !== undefined,
    /** `ready()` for code that seals or opens a cursor: a failed read is a 503 (http/middleware.ts logs why). */
    available: (): Promise<void> =>
      key !== undefined
        ? READY
        : ready().catch(() => {
            throw errors.unavailable();
          }),
    encode(listing: string, startKey: StartKey): string {
      return sealCursor(cursorKey(), { l: listing, k: startKey });
    },
    decode(listing: string, cursor: string): StartKey {
      const invalid = invalidCursor;
      const parsed = openCursor(cursorKey(), cursor);
      if (typeof parsed !== 'object' || parsed === null) throw invalid();
      const { l, k } = parsed as { l?: unknown; k?: unknown };
      if (l !== listing || typeof k !== 'object' || k === null || Array.isArray(k)) throw invalid();
      const entries = Object.entries(k);
      if (entries.length === 0 || entries.some(([, v]) => typeof v !== 'string')) throw invalid();
      return k as StartKey;
    },
  };
}
export type CursorCodec = ReturnType<typeof createCursorCodec>;

/** DynamoDB's size limits on key values (UTF-8 bytes); a longer start key is a ValidationException. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;
const PARTITION_KEYS = new Set<string>([TABLE_DEFINITION.partitionKey, ...TABLE_DEFINITION.globalSecondaryIndexes.map((g) => g.partitionKey)]);

/**
 * Whether a cursor's start key can resume this listing's Query (`<pk> = :pk AND <sk> BETWEEN :from AND
 * :to`): exactly the listing's key attributes, each a non-empty string within DynamoDB's key size
 * limits, in the queried partition and inside the sort-key range. DynamoDB answers any other
 * `ExclusiveStartKey` with a ValidationException, so the caller refuses it as an invalid cursor
 * first. Our own cursors always fit; one that does not was sealed for something else.
 */
export function startKeyFitsQuery(
  startKey: StartKey,
  query: { IndexName?: string; ExpressionAttributeValues?: Record<string, unknown> },
  keyAttributes: readonly string[],
): boolean {
  const names = Object.keys(startKey);
  if (names.length !== keyAttributes.length || !keyAttributes.every((name) => Object.hasOwn(startKey, name))) return false;
  for (const name of names) {
    const value = startKey[name];
    const limit = PARTITION_KEYS.has(name) ? MAX_PARTITION_KEY_BYTES : MAX_SORT_KEY_BYTES;
    if (typeof value !== 'string' || value === '' || Buffer.byteLength(value, 'utf8') > limit) return false;
  }
  const index = TABLE_DEFINITION.globalSecondaryIndexes.find((g) => g.indexName === query.IndexName);
  if (query.IndexName !== undefined && !index) return false;
  const { partitionKey, sortKey } = index ?? TABLE_DEFINITION;
  const values = query.ExpressionAttributeValues ?? {};
  if (startKey[partitionKey] !== values[':pk']) return false;
  const sort = startKey[sortKey];
  if (sort === undefined) return false;
  if (':from' in values && sort < String(values[':from'])) return false;
  if (':to' in values && sort > String(values[':to'])) return false;
  return true;
}
