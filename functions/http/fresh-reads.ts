import type { Context } from 'hono';
import { DomainError, errors } from '../domain/errors.js';
import type { Principal } from '../domain/model.js';
import { StaleReadError, WriteContentionError } from '../store/store.js';
import type { AppEnv } from './router.js';

const MAX_STALE_RETRIES = 3;

/** The answer when what a write read kept changing under it: every write route can give it. */
export const contended = () => errors.conflict('The resource is being changed concurrently; retry the request.');

/**
 * Read → decide → transact, again from a fresh read (and a fresh principal) whenever something
 * read changed before the transaction committed. The decision is always made on current facts.
 */
export async function withFreshReads<T>(
  c: Context<AppEnv>,
  attempt: (principal: Principal, consistent: boolean) => Promise<T>,
): Promise<T> {
  const { auth } = c.var.services;
  let principal = c.get('principal');
  for (let i = 0; ; i++) {
    try {
      return await attempt(principal, i > 0);
    } catch (error) {
      // The write's transaction found the calling key revoked or expired: reads here stop trusting it too.
      if (error instanceof DomainError && error.status === 401) auth.forget(principal.key.keyId);
      // Contention can hide the reason a write could not commit; a dead key is a 401, not a retryable 503.
      if (error instanceof WriteContentionError) {
        await auth.authenticate(c.req.header('Authorization')).catch((refused: unknown) => {
          if (refused instanceof DomainError && refused.status === 401) throw refused;
        });
      }
      if (!(error instanceof StaleReadError)) throw error;
      if (i >= MAX_STALE_RETRIES) throw contended();
      principal = await auth.authenticate(c.req.header('Authorization'));
      c.set('principal', principal);
    }
  }
}
