import { createHash, timingSafeEqual } from 'node:crypto';
import { parseApiKey } from '../domain/api-key.js';
import { errors } from '../domain/errors.js';
import type { ApiKey, OrgUser, Principal } from '../domain/model.js';
import type { Store } from '../store/store.js';

/**
 * API keys: `puk_<keyId>_<secret>`, the format of domain/api-key.ts. A malformed key or one whose
 * checksum does not match is refused before any read. Only SHA-256(secret) is stored; the
 * comparison is constant time and an unknown key ID costs the same hash-and-compare as a known
 * one, so timing does not tell them apart. Every failure is the same 401.
 */
const BEARER = /^Bearer ([\x21-\x7e]+)$/i;
const DUMMY_HASH = Buffer.alloc(32);
/** Read for unknown key IDs, so they cost the same two reads as real ones. */
const ABSENT_USER = { orgId: 'org_00000000000000000000000000', userId: 'usr_00000000000000000000000000' };

/** The key ID and secret of an `Authorization: Bearer <key>` header, or null (malformed, bad checksum). */
export function parseAuthorization(header: string | undefined): { keyId: string; secret: string } | null {
  const bearer = header ? BEARER.exec(header.trim()) : null;
  return bearer ? parseApiKey(bearer[1]!) : null;
}

interface CacheEntry {
  key: ApiKey;
  user: OrgUser;
  cachedUntil: number;
}

const MAX_CACHE_ENTRIES = 10_000;

export function createAuthenticator(store: Store, options: { cacheSeconds: number }) {
  /** keyId → resolved key and user, trusted for reads for at most `cacheSeconds` (≤ KEY_CACHE_MAX_SECONDS). */
  const cache = new Map<string, CacheEntry>();

  async function load(keyId: string): Promise<CacheEntry | null> {
    const key = await store.getApiKey(keyId);
    // The second read happens for unknown keys too: timing must not tell a real key ID apart.
    const owner = key ?? ABSENT_USER;
    const user = await store.getOrgUser(owner.orgId, owner.userId, true);
    if (!key || !user) return null;
    const entry = { key: normalizeKey(key), user, cachedUntil: Date.now() + options.cacheSeconds * 1000 };
    if (options.cacheSeconds > 0) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(keyId, entry);
    }
    return entry;
  }

  return {
    /** The principal for an Authorization header, or a 401. `fresh` bypasses the cache. */
    async authenticate(header: string | undefined, fresh = false): Promise<Principal> {
      const parsed = parseAuthorization(header);
      const presented = createHash('sha256').update(parsed?.secret ?? '').digest();
      if (!parsed) throw errors.unauthenticated();
      const matches = (candidate: CacheEntry | undefined): candidate is CacheEntry => {
        const stored = candidate ? Buffer.from(candidate.key.secretHash, 'hex') : DUMMY_HASH;
        return stored.length === presented.length && timingSafeEqual(stored, presented) && candidate !== undefined;
      };
      let entry = fresh ? undefined : cache.get(parsed.keyId);
      // A wrong secret for a cached key is not answered from memory: it costs the same reads as
      // an unknown key, so response time does not reveal which key IDs exist.
      if (!entry || entry.cachedUntil <= Date.now() || !matches(entry)) {
        entry = (await load(parsed.keyId)) ?? undefined;
        if (!matches(entry)) throw errors.unauthenticated();
      }
      const { key, user } = entry;
      if (key.revokedAt || (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) || user.deletingAt) {
        throw errors.unauthenticated();
      }
      return { key, user };
    },
    /** A key revoked through this process stops working here at once, not after the cache window. */
    forget(keyId: string) {
      cache.delete(keyId);
    },
    /** Same for every key of a user being deleted. */
    forgetUser(userId: string) {
      for (const [keyId, entry] of cache) if (entry.user.userId === userId) cache.delete(keyId);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

function normalizeKey(key: ApiKey): ApiKey {
  return { ...key, projectId: key.projectId ?? null, name: key.name ?? null, expiresAt: key.expiresAt ?? null, revokedAt: key.revokedAt ?? null };
}
