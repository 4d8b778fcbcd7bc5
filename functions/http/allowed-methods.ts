import type { Context, Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { TrieRouter } from 'hono/router/trie-router';
import { errors } from '../domain/errors.js';

/** The order methods are listed in an `Allow` header. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
// Methods are ASCII tokens: code-unit order, not localeCompare (whose first call builds an ICU
// collator, about 23 ms on the bench machine).
const byMethodOrder = (a: string, b: string) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * Which methods a path supports, from the routes the app registered (`app.routes`, after
 * mounting), matched by Hono's own router so `:params` mean what they mean for dispatch. Hono
 * answers HEAD wherever GET is routed (it dispatches GET and drops the body), so HEAD is listed
 * with GET. Middleware (`app.use`, method `ALL`) is no route.
 */
export function methodsOf(app: Hono<any>): (path: string) => string[] {
  const router = new TrieRouter<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    router.add('ALL', route.path, route.method);
    if (route.method === 'GET') router.add('ALL', route.path, 'HEAD');
  }
  return (path) => {
    const [matches] = router.match('GET', path);
    return [...new Set(matches.map(([method]) => method))].sort(byMethodOrder);
  };
}

/**
 * A known path asked with a method it does not support is a 405 problem with `Allow`, before
 * authentication: the answer depends only on the path's shape (every `:param` matches any value),
 * never on whether a resource exists. Unknown paths go on (authentication, then 404).
 */
export const rejectUnsupportedMethods = (app: Hono<any>) => {
  let allowedAt: ((path: string) => string[]) | undefined;
  return createMiddleware(async (c, next) => {
    // Hono has already matched this request: when a route of its method is among the matches (the
    // common case) nothing needs looking up.
    if (routeMatched(c)) return next();
    // Built on the first request, when every router is mounted and the docs routes are added.
    allowedAt ??= methodsOf(app);
    const allowed = allowedAt(c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) throw errors.methodNotAllowed(c.req.method, allowed);
    await next();
  });
};

/** Whether a route of this request's method (HEAD: GET's) matched: Hono has already matched it. */
function routeMatched(c: Context): boolean {
  const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
  return matchedRoutes(c).some((route) => route.method === method);
}

/**
 * A path no route has is a 404 as soon as the caller is authenticated, before any check of the
 * body (it was a 415 for a POST without JSON, a 413 for a large one): nothing is there to take it.
 */
export const unknownPathIsNotFound = createMiddleware(async (c, next) => {
  if (!routeMatched(c)) throw errors.notFound();
  await next();
});
