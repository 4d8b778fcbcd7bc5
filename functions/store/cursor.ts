import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from '../domain/errors.js';
import { TABLE_DEFINITION } from './keys.js';

/**
 * Opaque pagination cursors: the DynamoDB start key plus the listing it belongs to, signed with
 * HMAC-SHA256. A cursor from another listing, another project or another filter, or an edited
 * one, is rejected with 400 instead of leaking or skipping data.
 */
export type StartKey = Record<string, string>;

const MAC_BYTES = 16;

/** The one answer to any cursor that cannot be used: garbled, forged, or not for this listing. */
export function invalidCursor() {
  return errors.validation('The cursor is not valid for this listing.', [{ path: 'cursor', message: 'invalid cursor' }]);
}

/**
 * The signing secret: known now (local), or read by a function (on Lambda, from Secrets Manager)
 * that `createCursorCodec` calls at once, so that the read overlaps the first request's own reads.
 */
export type CursorSecret = string | (() => Promise<string>);

const READY = Promise.resolve();

export function createCursorCodec(secret: CursorSecret) {
  let key = typeof secret === 'string' ? secret : undefined;
  let reading: Promise<void> | undefined;
  const read = (source: () => Promise<string>) =>
    (reading ??= source().then(
      (value) => {
        key = value;
      },
      (error: unknown) => {
        // Read again by the next `ready()`, not remembered as failed for the life of the instance.
        reading = undefined;
        throw error;
      },
    ));
  if (typeof secret === 'function') read(secret).catch(() => undefined);
  const mac = (payload: string) => {
    if (key === undefined) throw new Error('The cursor secret is not read yet: await ready() before encode() or decode()');
    return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
  };

  const ready = (): Promise<void> => (key !== undefined || typeof secret === 'string' ? READY : read(secret));

  return {
    /** Settles once the secret is known; rejects with the reason its read failed (and reads it again next time). */
    ready,
    /** Whether the secret is known now (nothing to wait for). */
    known: () => key !== undefined,
    /** `ready()` for code that signs or checks a cursor: a failed read is a 503 (http/middleware.ts logs why). */
    available: (): Promise<void> =>
      key !== undefined
        ? READY
        : ready().catch(() => {
            throw errors.unavailable();
          }),
    encode(listing: string, startKey: StartKey): string {
      const payload = Buffer.from(JSON.stringify({ l: listing, k: startKey })).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(listing: string, cursor: string): StartKey {
      const invalid = invalidCursor;
      const [payload, signature, extra] = cursor.split('.');
      if (!payload || !signature || extra !== undefined) throw invalid();
      // The signature's text is compared, not its decoded bytes: base64url decoding is lenient
      // (padding, the other alphabet, stray characters, unused low bits), so an edited cursor
      // would still decode to the right MAC.
      const given = Buffer.from(signature);
      const expected = Buffer.from(mac(payload).toString('base64url'));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      if (typeof parsed !== 'object' || parsed === null) throw invalid();
      const { l, k } = parsed as { l?: unknown; k?: unknown };
      if (l !== listing || typeof k !== 'object' || k === null) throw invalid();
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
 * Whether a signed start key can resume this listing's Query (`<pk> = :pk AND <sk> BETWEEN :from AND
 * :to`): exactly the listing's key attributes, each a non-empty string within DynamoDB's key size
 * limits, in the queried partition and inside the sort-key range. DynamoDB answers any other
 * `ExclusiveStartKey` with a ValidationException, so the caller refuses it as an invalid cursor
 * first. Our own cursors always fit; one that does not was signed for something else.
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
