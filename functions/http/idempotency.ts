import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import { DomainError, errors } from '../domain/errors.js';
import type { Principal } from '../domain/model.js';
import { IdempotencyRaceError, type IdempotencyWrite, type StoredResponse } from '../store/store.js';
import { withFreshReads } from './fresh-reads.js';
import type { AppEnv } from './router.js';

/** A POST's answer as it is sent, and as its Idempotency-Key record stores it for replays. */
export interface JsonReply<B extends object, S extends ContentfulStatusCode> extends StoredResponse {
  status: S;
  body: B;
  headers: Record<string, string>;
}

/** The response `c.json` gives for a reply: typed, so the route checks it against its schema. */
export type JsonResponse<B extends object, S extends ContentfulStatusCode> = Response & TypedResponse<JSONParsed<B>, S, 'json'>;

export function jsonReply<B extends object, S extends ContentfulStatusCode>(
  status: S,
  body: B,
  headers: Record<string, string>,
): JsonReply<B, S> {
  return { status, body, headers };
}

export interface IdempotencyScope {
  /** What the write's transaction must store, or undefined when the request has no key. */
  write<T>(response: (result: T) => StoredResponse): IdempotencyWrite<T> | undefined;
}

/** An Idempotency-Key: 1 to this many printable ASCII characters (`!` to `~`: no space, no control). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** What the server accepts as an Idempotency-Key; the OpenAPI document declares the same pattern (http/openapi.ts). */
export const IDEMPOTENCY_KEY = new RegExp(`^[\\x21-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);
/** The answer to an Idempotency-Key that is not {@link IDEMPOTENCY_KEY}. */
export const invalidIdempotencyKey = () =>
  errors.validation(`Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.`, [
    { path: 'header.idempotency-key', message: 'invalid' },
  ]);
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The body as a replay compares it: its JSON in canonical form (RFC 8785: keys sorted, no
 * insignificant whitespace, numbers as JSON.stringify writes them), so a client that retries with
 * the same JSON written another way (another serializer, key order, spacing) gets the replay, not
 * a 422. The route has parsed and validated the body before this runs.
 */
function canonicalBody(text: string): string {
  try {
    return canonicalize(JSON.parse(text)) ?? text;
  } catch {
    return text;
  }
}

function send<B extends object, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  reply: JsonReply<B, S>,
  replayed = false,
): JsonResponse<B, S> {
  return c.json(reply.body, reply.status, replayed ? { ...reply.headers, 'Idempotent-Replayed': 'true' } : reply.headers);
}

/**
 * A POST under `Idempotency-Key`: the first response is stored by the write's own transaction
 * (so concurrent duplicates commit once), and for 24 h the same key with the same method, path
 * and JSON body (compared in canonical form) replays it; with anything else it is a 422. Keys are scoped to the API key.
 */
export async function respondIdempotently<B extends object, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  handle: (idempotency: IdempotencyScope) => Promise<JsonReply<B, S>>,
): Promise<JsonResponse<B, S>> {
  const header = c.req.header('Idempotency-Key');
  if (header === undefined) return send(c, await handle({ write: () => undefined }));
  if (!IDEMPOTENCY_KEY.test(header)) throw invalidIdempotencyKey();
  const apiKeyId = c.get('principal').key.keyId;
  const keyHash = sha256(header);
  const requestHash = sha256(`${c.req.method} ${c.req.path}\n${canonicalBody(await c.req.text())}`);
  const replay = async () => {
    const stored = await c.var.services.store.getIdempotencyRecord(apiKeyId, keyHash);
    if (!stored) return null;
    if (stored.requestHash !== requestHash) throw errors.idempotencyKeyReused();
    // The same method, path and body reached the same route, whose own presenter made this record.
    return send(c, { status: stored.status as S, body: stored.body as B, headers: stored.headers }, true);
  };
  // The lookup runs beside the handler's read; the handler's transaction waits for it.
  const earlier = replay();
  const noEarlierResponse = earlier.then((found) => {
    if (found) throw new IdempotencyRaceError();
  });
  earlier.catch(() => {});
  noEarlierResponse.catch(() => {});
  let response: JsonReply<B, S>;
  try {
    response = await handle({ write: (respond) => ({ apiKeyId, keyHash, requestHash, response: respond, noEarlierResponse }) });
  } catch (error) {
    // An earlier response under this key is the answer, whatever this copy ran into (the
    // transaction held back for it, the conflict the earlier write caused, a concurrent copy
    // that committed first).
    const found = await earlier;
    if (found) return found;
    if (error instanceof IdempotencyRaceError || (error instanceof DomainError && error.status < 500)) {
      const winner = await replay();
      if (winner) return winner;
    }
    throw error;
  }
  return (await earlier) ?? send(c, response);
}

/**
 * A POST that writes: `write` decides and writes on fresh reads (`withFreshReads`), under the
 * request's Idempotency-Key (`respondIdempotently`), and `present` answers with what it wrote.
 */
export function idempotentWrite<T, B extends object, S extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  write: (principal: Principal, idempotency: IdempotencyScope) => Promise<T>,
  present: (result: T) => JsonReply<B, S>,
): Promise<JsonResponse<B, S>> {
  return respondIdempotently(c, async (idempotency) => present(await withFreshReads(c, (principal) => write(principal, idempotency))));
}
