import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { PROBLEMS, type ProblemStatus } from '../domain/errors.js';
import { listOf, onePageOf, Problem } from './schemas.js';

/** The problem+json responses a route may give, for the OpenAPI document, worded by the error table. */
export function problems(...statuses: ProblemStatus[]) {
  return Object.fromEntries(
    [...new Set<ProblemStatus>([400, 401, 503, ...statuses])].map((status) => [
      status,
      { description: PROBLEMS[status].means, content: { 'application/problem+json': { schema: Problem } } },
    ]),
  );
}

export const security = [{ apiKey: [] }];

/**
 * The routes of one resource's router, declared as Hono declares them (`route.get(path, …)`): its
 * operations share the resource's tag and need an API key.
 */
export function routeFor(tag: string) {
  const method =
    <M extends RouteConfig['method']>(method: M) =>
    <P extends string, R extends Operation>(path: P, config: R) =>
      createRoute({ tags: [tag], security, method, path, ...config });
  const get = method('get');
  return {
    get,
    post: method('post'),
    patch: method('patch'),
    delete: method('delete'),
    /** `GET /`: one page of `item`s (`listOf`), `page` saying what they are. */
    list: <I extends z.ZodTypeAny, Q extends RouteRequest>(item: I, page: string, { problems: statuses = [], ...config }: ListOperation<Q>) =>
      get('/', { ...config, responses: { 200: { description: page, content: json(listOf(item)) }, ...problems(...statuses) } }),
    /** `GET /` of a small collection: all of it in one page (`onePageOf`), `page` saying what it is. */
    onePage: <I extends z.ZodTypeAny>(item: I, page: string, config: { summary: string; description: string }) =>
      get('/', { ...config, responses: { 200: { description: page, content: json(onePageOf(item)) }, ...problems() } }),
  };
}

/** An operation as a route declares it: everything but where it is and what `routeFor` adds. */
type Operation = Omit<RouteConfig, 'method' | 'path' | 'tags' | 'security'>;
type RouteRequest = NonNullable<RouteConfig['request']>;

interface ListOperation<Q extends RouteRequest> {
  summary: string;
  description?: string;
  request: Q;
  problems?: ProblemStatus[];
}

export const etagHeader = {
  ETag: { description: 'Version of the resource; send it back in If-Match', schema: { type: 'string' as const } },
};

/** The headers of a 201: the new resource's version and where it lives. */
export const createdHeaders = { ...etagHeader, Location: { schema: { type: 'string' as const } } };

/** A JSON request or response body of this schema. */
export const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });

export const IfMatch = z.object({
  'if-match': z.string().optional().openapi({ description: 'The `version` (ETag) the change applies to; 412 if stale' }),
});

/**
 * Every POST honours Idempotency-Key. Declared as an OpenAPI parameter rather than a validated
 * header, so the typed client does not demand a `header` argument on every call.
 */
export const idempotencyParameter = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  schema: { type: 'string' as const, minLength: 1, maxLength: 255 },
  description:
    'Makes a retry safe: for 24 h the same key with the same body replays the first response (`Idempotent-Replayed: true`); with another body it is a 422.',
};
