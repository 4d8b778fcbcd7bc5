import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from '../domain/errors.js';

/**
 * Opaque pagination cursors: the DynamoDB start key plus the listing it belongs to, signed with
 * HMAC-SHA256. A cursor from another listing, another project or another filter, or an edited
 * one, is rejected with 400 instead of leaking or skipping data.
 */
export type StartKey = Record<string, string>;

const MAC_BYTES = 16;

export function createCursorCodec(secret: string) {
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest().subarray(0, MAC_BYTES);

  return {
    encode(listing: string, startKey: StartKey): string {
      const payload = Buffer.from(JSON.stringify({ l: listing, k: startKey })).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(listing: string, cursor: string): StartKey {
      const invalid = () =>
        errors.validation('The cursor is not valid for this listing.', [{ path: 'cursor', message: 'invalid cursor' }]);
      const [payload, signature, extra] = cursor.split('.');
      if (!payload || !signature || extra !== undefined) throw invalid();
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload);
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
