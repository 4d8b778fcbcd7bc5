import { isKeyLive, parseApiKey, secretMatches } from '../domain/api-key.js';
import { errors } from '../domain/errors.js';
import type { ApiKey, OrgUser, Principal } from '../domain/model.js';
import type { Store } from '../store/store.js';

/**
 * API keys: `puk_<keyId>_<secret>`, the format of domain/api-key.ts. A malformed key or one whose
 * checksum does not match is refused before any read. Only SHA-256(secret) is stored; the
 * comparison is constant time and an unknown key ID costs the same read and hash-and-compare as a
 * wrong secret, so timing does not tell them apart. Every failure is the same 401.
 *
 * A key not in this instance's cache (every first request of a cold instance): the key item carries
 * its holder's identity (`holder`, copied when the key was minted), so a request starts from the
 * key alone and reads the org user's own item in parallel with its own reads. Nothing waits for that
 * item but the answer and the write: a read's answer, and a write's transaction, wait for it, and
 * it turns them into a 401 when the user is gone or being deleted. One sequential round trip before
 * the route's reads instead of two (a write's transaction checks the user again, as always).
 */
// RFC 6750 §2.1: `"Bearer" 1*SP b64token`.
const BEARER = /^Bearer +([\x21-\x7e]+)$/i;

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
  /** Bumped by every `forget`: a read that started before one may not fill the cache. */
  let forgets = 0;

  /** When a resolution's reads started, for {@link remember}. */
  const started = () => ({ at: Date.now(), forgets });

  /**
   * Caches what reads that began at `since` found: trusted until `cacheSeconds` after they began
   * (what they saw may have changed from then on), and not at all if a key was forgotten since
   * (a revocation on this instance while they were in flight would otherwise be undone).
   */
  function remember(key: ApiKey, user: OrgUser, since: { at: number; forgets: number }): CacheEntry {
    const entry = { key, user, cachedUntil: since.at + options.cacheSeconds * 1000 };
    if (options.cacheSeconds > 0 && since.forgets === forgets) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(key.keyId, entry);
    }
    return entry;
  }

  /** The presented key's item, when the secret is right and the key may act; else a 401. One read. */
  async function liveKey(parsed: { keyId: string; secret: string }): Promise<ApiKey> {
    const found = await store.getApiKey(parsed.keyId);
    if (!secretMatches(found?.secretHash, parsed.secret) || !found || !isKeyLive(found)) throw errors.unauthenticated();
    return normalizeKey(found);
  }

  /** The key's org user, as its own item says: a 401 when it is gone or being deleted. */
  async function liveUser(key: ApiKey): Promise<OrgUser> {
    const user = await store.getOrgUser(key.orgId, key.userId, true);
    if (!user || user.deletingAt) throw errors.unauthenticated();
    return user;
  }

  /** A cached entry for this exact secret, still within its window and still live. */
  function cached(parsed: { keyId: string; secret: string }): CacheEntry | undefined {
    const entry = cache.get(parsed.keyId);
    // A wrong secret for a cached key is not answered from memory: it costs the same read as an
    // unknown key, so response time does not reveal which key IDs exist.
    if (!entry || entry.cachedUntil <= Date.now() || !secretMatches(entry.key.secretHash, parsed.secret)) return undefined;
    if (!isKeyLive(entry.key) || entry.user.deletingAt) throw errors.unauthenticated();
    return entry;
  }

  function parse(header: string | undefined) {
    const parsed = parseAuthorization(header);
    if (!parsed) throw errors.unauthenticated();
    return parsed;
  }

  return {
    /**
     * The principal for an Authorization header as the table says now (the key item, then its org
     * user), never from the cache, which it refreshes; or a 401. For a write that must decide again.
     */
    async authenticate(header: string | undefined): Promise<Principal> {
      const since = started();
      const key = await liveKey(parse(header));
      const { user } = remember(key, await liveUser(key), since);
      return { key, user };
    },

    /**
     * The principal from the cache or, as soon as the key item is read, from the holder it carries,
     * with `confirmed`: the org user's item, read meanwhile, confirming it (a write's transaction
     * waits for it). The caller must not answer before `confirmed` settles. Keys without a holder
     * (minted before it was kept) read the user first.
     */
    async authenticateProvisionally(header: string | undefined): Promise<Principal> {
      const parsed = parse(header);
      const hit = cached(parsed);
      if (hit) return { key: hit.key, user: hit.user };
      const since = started();
      const key = await liveKey(parsed);
      if (!key.holder) return { key, user: remember(key, await liveUser(key), since).user };
      const provisional: OrgUser = { ...key.holder, orgId: key.orgId, userId: key.userId };
      const confirmed = liveUser(key).then(
        (user) => {
          remember(key, user, since);
          // The holder copy is immutable; an org user changed since (a later version) must not be
          // judged on it. The retry is answered from the item just cached.
          return user.version === provisional.version ? null : errors.unavailable();
        },
        (error: Error) => error,
      );
      return { key, user: provisional, confirmed };
    },

    /** A key revoked through this process stops working here at once, not after the cache window. */
    forget(keyId: string) {
      forgets++;
      cache.delete(keyId);
    },
    /** Same for every key of a user being deleted. */
    forgetUser(userId: string) {
      forgets++;
      for (const [keyId, entry] of cache) if (entry.user.userId === userId) cache.delete(keyId);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/** The key with its absent fields as null, as the API shows them. */
function normalizeKey(found: ApiKey): ApiKey {
  return { ...found, projectId: found.projectId ?? null, name: found.name ?? null, expiresAt: found.expiresAt ?? null, revokedAt: found.revokedAt ?? null };
}
