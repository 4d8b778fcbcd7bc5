import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { errors } from '../domain/errors.js';
import { MAX_BODY_BYTES } from '../domain/limits.js';
import type { InvocationContext, Observability } from './observability.js';
import type { AppEnv, Services } from './router.js';

/** `application/json` or a `+json` subtype, whose name may hold any RFC 9110 token character. */
const JSON_MEDIA_TYPE = /^application\/([!#$%&'*+.^_`|~0-9a-z-]+\+)?json$/i;
const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;
/** `Content-Encoding: identity` (or empty) names no coding; any other value is one this API does not decode. */
const IDENTITY_ENCODING = /^[\t ]*(identity)?[\t ]*$/i;

/** The app's services, for every handler, as `c.var.services`. */
export const provide = (services: Services) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set('services', services);
    await next();
  });

/**
 * X-Request-Id on every response (the client's, if sane), and one log line + metrics per request.
 * On Lambda the lines also carry API Gateway's and Lambda's request IDs, which the client cannot
 * choose: they join them to the access log.
 */
export const trace = (observability: Observability) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    const lambda = c.env as { event?: { requestContext?: { requestId?: string } }; lambdaContext?: InvocationContext } | undefined;
    observability.invocation(lambda?.lambdaContext);
    const given = c.req.header('X-Request-Id');
    const apiRequestId = lambda?.event?.requestContext?.requestId;
    const requestId = given && CLIENT_REQUEST_ID.test(given) ? given : (apiRequestId ?? randomUUID());
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    observability.request({
      requestId,
      ...(apiRequestId ? { apiRequestId } : {}),
      method: c.req.method,
      route: routePath(c),
      path: c.req.path,
      status: c.res.status,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      keyId: c.get('principal')?.key.keyId ?? null,
    });
  });

/**
 * The caller's principal. A request may start on a principal its key item vouches for while the
 * org user's own item is read beside the route's reads (auth.ts); nothing is answered, and no
 * write is sent, until that item confirms it, and a failed confirmation replaces whatever the
 * route answered (401 first, as in the order of checks).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const principal = await c.var.services.auth.authenticateProvisionally(c.req.header('Authorization'));
  c.set('principal', principal);
  await next();
  const refused = await principal.confirmed;
  if (refused) throw refused;
});

/**
 * GET and HEAD: they carry no body (fetch refuses to build a Request with one) and change nothing.
 * `method` as fetch spells it (upper case).
 */
export const isReadMethod = (method: string) => method === 'GET' || method === 'HEAD';

const bodyWithinLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw errors.payloadTooLarge();
  },
});

/**
 * Bodies over MAX_BODY_BYTES are refused (413). GET and HEAD are passed without looking: a fetch
 * Request of either never has a body, and asking for one makes `@hono/node-server` build the whole
 * fetch Request it otherwise avoids (5 % of a read's CPU under load, in `npm run bench`'s profile).
 */
export const limitBody = createMiddleware<AppEnv>(async (c, next) => {
  if (isReadMethod(c.req.method)) return next();
  return bodyWithinLimit(c, next);
});

/**
 * A body is JSON (415 otherwise) in UTF-8 (RFC 8259 §8.1): bytes that are not UTF-8 are malformed
 * JSON (400), never decoded with U+FFFD in their place and stored. Hono keeps the bytes read here
 * for the route's validator.
 */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === 'POST' || c.req.method === 'PATCH' || c.req.method === 'PUT') {
    const header = c.req.header('Content-Type');
    const contentType = header?.split(';')[0]?.trim() ?? '';
    if (!JSON_MEDIA_TYPE.test(contentType)) throw errors.unsupportedMediaType();
    // No content coding is decoded here (RFC 9110 §8.4.1: 415): a gzip body must not be read as if it were plain.
    const encoding = c.req.header('Content-Encoding');
    if (encoding !== undefined && !IDENTITY_ENCODING.test(encoding)) {
      throw errors.unsupportedMediaType('Send the request body without a Content-Encoding (identity): no content coding is accepted.');
    }
    if (!isUtf8(await c.req.arrayBuffer())) throw errors.malformedJson();
    // The routes' validators (@hono/zod-openapi) match the whole header against a narrower pattern
    // than RFC 9110's: no space before `;`, no empty parameter, no digit or `_` in a `+json`
    // subtype. They see the media type this check accepted, as plain JSON (UTF-8, checked above).
    if (header !== 'application/json') c.req.raw.headers.set('Content-Type', 'application/json');
  }
  await next();
});

/** The answer to a query string that is not percent-encoded UTF-8 (here, and on Lambda before the app: functions/api.ts). */
export const malformedQuery = () =>
  errors.validation('The query string is not valid percent-encoded UTF-8.', [{ path: 'query', message: 'invalid percent-encoding' }]);

/**
 * A query whose percent-encoding does not decode to UTF-8 (`%FF`, a lone `%`) is a 400. Hono keeps
 * such a parameter as its literal text, so `?tag=%FF` would have meant the same as `?tag=%25FF`.
 */
export const requireWellFormedQuery = createMiddleware<AppEnv>(async (c, next) => {
  const url = c.req.url;
  const start = url.indexOf('?');
  if (start !== -1) {
    for (const part of url.slice(start + 1).split('&')) {
      try {
        decodeURIComponent(part);
      } catch {
        throw malformedQuery();
      }
      // Hono drops a parameter without a name (`?=x`): it would pass where any parameter is a 400.
      if (part.startsWith('=')) throw errors.validation('A query parameter has no name.', [{ path: 'query', message: 'parameter without a name' }]);
    }
  }
  await next();
});

/**
 * How long a request waits for the cursor secret, from its start: well inside the function's
 * timeout, so that a write never starts late enough to be cut off mid-way.
 */
export const CURSOR_SECRET_WAIT_MS = 3_000;

const NO_FAILURE = Promise.resolve(null);

/**
 * What `settling` ends with, settled at once (so a failure while the route runs is handled): null,
 * its failure, or a timeout after `ms`.
 */
function failureOf(settling: Promise<unknown>, ms: number): Promise<Error | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no cursor secret after ${ms} ms`)), ms);
  });
  const outcome = settling.then(
    () => null,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  return Promise.race([outcome, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The API answers no read and sends no write without its cursor secret (config.ts `loadConfig`):
 * on a cold Lambda the secret is still being read, beside the first request. A read goes on and
 * waits for it before answering; a write waits for it before it starts, so that a 503 never
 * follows a committed change. A failed read, or none within CURSOR_SECRET_WAIT_MS, is a 503
 * (`Retry-After`) logged with its reason, and the next request reads the secret again (or waits
 * on the same read).
 */
export const requireCursorSecret = (observability: Observability) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { cursors } = c.var.services.store;
    const secret = cursors.known() ? NO_FAILURE : failureOf(cursors.ready(), CURSOR_SECRET_WAIT_MS);
    const reads = isReadMethod(c.req.method);
    if (reads) await next();
    const failure = await secret;
    if (failure) {
      observability.error('Cursor secret unavailable', { requestId: c.get('requestId'), error: failure.message });
      throw errors.unavailable();
    }
    if (!reads) await next();
  });
