import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { DomainError, errors, type ProblemStatus } from '../domain/errors.js';
import { contended } from './fresh-reads.js';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_MAX_LENGTH, invalidIdempotencyKey } from './idempotency.js';
import { describeProblem, headerRefs, invalid, named, problems, REFUSALS, throttled, type ProblemResponseConfig } from './openapi-responses.js';
import { EXAMPLES } from './examples.js';
import { listOf, NoQuery, onePageOf } from './schemas.js';

/**
 * How the routes describe themselves in the OpenAPI document (`GET /openapi.json`). A route
 * declares what is its own (operationId, summary, description, its success responses with
 * examples, and the refusals only it can give); `routeFor` adds what every route of its kind
 * answers: the 400 of its own schemas, 401, 413/415 for a body, 403 for a `read` key on a write,
 * 422 for an Idempotency-Key, 429
 * from API Gateway, 503, and the headers of every response.
 */

/** The tags of the document, in the order readers meet them. */
export const TAGS = [
  {
    name: 'Project users',
    description:
      "A project's members (project users: `pu_…`, one per project and org user) with their roles, tags and expiry; the caller itself (`me`); ownership transfer; the membership audit log.",
  },
  {
    name: 'Check',
    description: 'May this principal do this here? The decision the routes themselves enforce, for other services to ask before they act.',
  },
  { name: 'Projects', description: 'The projects of the organization, isolated from each other; each has exactly one owner.' },
  { name: 'Organization users', description: "The organization's users (`usr_…`, people and automations): the directory of org owners and admins." },
  {
    name: 'API keys',
    description:
      'The keys callers authenticate with: `read`, `read-write` or `global`, optionally pinned to one project and expiring. The secret is shown once, at creation.',
  },
  {
    name: 'Roles and permissions',
    description: "The organization's permission catalog (system and custom `resource:action` permissions) and its roles (built-in and custom `rol_…`).",
  },
  { name: 'Operations', description: 'Running the service: liveness.' },
] as const;

export type Tag = (typeof TAGS)[number]['name'];

// ---- operations --------------------------------------------------------------------------------

export const security = [{ apiKey: [] }];

/**
 * Every POST that writes honours Idempotency-Key. Declared as an OpenAPI parameter rather than a
 * validated header, so the typed client does not demand a `header` argument on every call; the
 * server checks it against the same pattern (idempotency.ts).
 */
export const idempotencyParameter = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  schema: { type: 'string' as const, minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: IDEMPOTENCY_KEY.source },
  description:
    `Makes a retry safe: 1–${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (\`!\` to \`~\`, no spaces; 400 otherwise), scoped to the API key. ` +
    'For 24 h the same key with the same method, path and body replays the first response (`Idempotent-Replayed: true`); with another body it is a 422.',
  // What most clients send: a fresh UUID per logical operation, reused only by its retries.
  example: '5b0f3c1e-7d2a-4e8b-9a61-0c3f2d7e4b19',
};

/** The problem a route's own schemas give a malformed request: body first, then path, then query. */
function invalidRequest(request: RouteConfig['request']): DomainError | undefined {
  const body = request?.body?.content['application/json'];
  if (body && 'schema' in body && body.schema instanceof z.ZodType) return invalid(body.schema, { unexpected: true }, 'body');
  const params = request?.params;
  if (params instanceof z.ZodObject) {
    return invalid(params, Object.fromEntries(Object.keys(params.shape).map((name) => [name, 'x'])), 'param');
  }
  if (request?.query instanceof z.ZodObject) return invalid(request.query, { limit: '0' }, 'query');
  return undefined;
}

type ResponseConfig = RouteConfig['responses'][string];
type ProblemContent = ProblemResponseConfig['content']['application/problem+json'];

/** One response for a status a route and `routeFor` both document: the route's examples, then the common ones. */
function merged(status: ProblemStatus, own: ResponseConfig | undefined, common: ProblemResponseConfig): ResponseConfig {
  const ownContent = own && 'content' in own ? (own.content?.['application/problem+json'] as ProblemContent | undefined) : undefined;
  if (!ownContent) return own ?? common;
  const examples = named([...Object.values(ownContent.examples), ...Object.values(common.content['application/problem+json'].examples)]);
  return { ...common, ...own, description: describeProblem(status, examples), content: { 'application/problem+json': { ...ownContent, examples } } };
}

/**
 * A route as the document shows it: the problems every route of its kind can answer (its own
 * schemas' 400, 401 with a key, 413/415/malformed JSON with a body, 403 for a write through a
 * `read` key and 409 for one that kept meeting concurrent changes, 422 with an Idempotency-Key, 429, 503 with DynamoDB) added to
 * its own, and the headers of every response (X-Request-Id; Idempotent-Replayed on the success
 * of a POST under Idempotency-Key). `usesStore: false` for a route that never reads DynamoDB (no 503).
 */
export function documented<R extends RouteConfig>(route: R, { usesStore = true } = {}): R {
  // Only GET /openapi.json reads them: serving a request never does, so a cold start skips them.
  return { ...route, responses: computedOnFirstUse(() => documentedResponses(route, usesStore)) };
}

function documentedResponses<R extends RouteConfig>(route: R, usesStore: boolean): R['responses'] {
  const body = route.request?.body;
  const idempotent = route.parameters?.includes(idempotencyParameter) ?? false;
  // Every write decides on fresh reads (fresh-reads.ts): a POST under Idempotency-Key, a PATCH, a DELETE.
  const writes = idempotent || route.method === 'patch' || route.method === 'delete';
  const secured = (route.security ?? []).length > 0;
  const validation = invalidRequest(route.request);
  const common = problems(
    ...(validation ? [validation] : []),
    ...(idempotent ? [invalidIdempotencyKey()] : []),
    ...(body ? [errors.malformedJson(), 413, 415] as const : []),
    ...(secured ? [401] as const : []),
    // A `read` key never writes, whatever the target's state (the order of checks: scope first).
    ...(writes ? [REFUSALS.readOnlyKey, contended()] : []),
    ...(idempotent ? [422] as const : []),
    ...(usesStore ? [503] as const : []),
  );
  const responses: Record<string, ResponseConfig> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const success = Number(status) < 400 && !('$ref' in response);
    responses[status] = success
      ? {
          ...response,
          headers: {
            ...headerRefs('X-Request-Id'),
            ...(response.headers as Record<string, { $ref: string }> | undefined),
            ...(idempotent ? headerRefs('Idempotent-Replayed') : {}),
          },
        }
      : response;
  }
  for (const [status, response] of Object.entries(common)) responses[status] = merged(Number(status) as ProblemStatus, responses[status], response);
  responses[429] = throttled;
  return responses as R['responses'];
}

/**
 * An object computed when it is first looked into. The route objects holding it are copied
 * (shallowly) by @hono/zod-openapi when they are registered, which copies this reference and
 * computes nothing.
 */
function computedOnFirstUse<T extends object>(compute: () => T): T {
  let value: T | undefined;
  const target = () => (value ??= compute());
  return new Proxy({} as T, {
    get: (_, property) => Reflect.get(target(), property),
    has: (_, property) => Reflect.has(target(), property),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), property);
      // A proxy may report only configurable properties its (empty) target does not have.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/**
 * The routes of one resource's router, declared as Hono declares them (`route.get(path, …)`): its
 * operations share the resource's tag and need an API key.
 */
export function routeFor(tag: Tag) {
  const method =
    <M extends RouteConfig['method']>(method: M) =>
    <P extends string, R extends Operation>(path: P, config: R) =>
      // A route that declares no query still validates one (NoQuery): its own type is kept as declared.
      createRoute(documented({ tags: [tag], security, method, path, ...config, request: { query: NoQuery, ...config.request } as R['request'] }));
  const get = method('get');
  return {
    get,
    post: method('post'),
    patch: method('patch'),
    delete: method('delete'),
    /** `GET /`: one page of `item`s (`listOf`), `page` saying what they are, `example` one of them. */
    list: <I extends z.ZodTypeAny, Q extends RouteRequest>(
      item: I,
      page: string,
      { problems: wanted = [], example, ...config }: ListOperation<I, Q>,
    ) =>
      get('/', {
        ...config,
        responses: {
          200: { description: page, content: json(listOf(item), { data: [example], nextCursor: EXAMPLES.cursor }) },
          ...problems(...wanted),
        },
      }),
    /** `GET /` of a small collection: all of it in one page (`onePageOf`), `page` saying what it is. */
    onePage: <I extends z.ZodTypeAny>(item: I, page: string, { examples, ...config }: OnePageOperation<I>) =>
      get('/', {
        ...config,
        request: { query: NoQuery },
        responses: { 200: { description: page, content: json(onePageOf(item), { data: examples, nextCursor: null }) }, ...problems() },
      }),
  };
}

/** What a reader needs of every operation: a unique name, a summary and a description. */
interface Described {
  operationId: string;
  summary: string;
  description: string;
}

/** An operation as a route declares it: everything but where it is and what `routeFor` adds. */
type Operation = Omit<RouteConfig, 'method' | 'path' | 'tags' | 'security'> & Described;
type RouteRequest = NonNullable<RouteConfig['request']>;

interface ListOperation<I extends z.ZodTypeAny, Q extends RouteRequest> extends Described {
  request: Q;
  /** One item of the page, for the document's example. */
  example: z.input<I>;
  problems?: (ProblemStatus | DomainError)[];
}

interface OnePageOperation<I extends z.ZodTypeAny> extends Described {
  /** The whole collection, for the document's example. */
  examples: z.input<I>[];
}

/** A JSON request or response body of this schema, with an example of it for the document. */
export const json = <T extends z.ZodTypeAny>(schema: T, example?: z.input<T>) => ({ 'application/json': { schema, example } });

export const IfMatch = z.object({
  'if-match': z
    .string()
    .optional()
    .openapi({ description: 'The `version` (ETag) the change applies to; 412 if stale. Absent or `*`: whatever the version.', example: '"2"' }),
});
