import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { DomainError, errors, PROBLEMS, type ProblemStatus } from '../domain/errors.js';
import {
  assertWriteScope,
  authorizeOrgWrite,
  type KeyScope,
  type OrgCaller,
  type OrgRole,
  type ProjectCaller,
  type Role,
  type TargetMember,
} from '../domain/permissions.js';
import { contended } from './fresh-reads.js';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_MAX_LENGTH, invalidIdempotencyKey } from './idempotency.js';
import { fromZodError, problemBody } from './problem.js';
import { EXAMPLE_ID, EXAMPLES, GatewayError, listOf, onePageOf, Problem } from './schemas.js';

/**
 * How the routes describe themselves in the OpenAPI document (`GET /openapi.json`). A route
 * declares what is its own (operationId, summary, description, its success responses with
 * examples, and the refusals only it can give); `routeFor` adds what every route of its kind
 * answers: the 400 of its own schemas, 401, 413/415 for a body, 422 for an Idempotency-Key, 429
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

// ---- headers -----------------------------------------------------------------------------------

/** Response headers, declared once as components (`documentApi` registers them) and referenced by name. */
export const HEADERS = {
  'X-Request-Id': {
    description:
      "The request's ID, also in its log line: the client's own `X-Request-Id` when it sent a well-formed one, else API Gateway's request ID (a new UUID when run locally).",
    required: true,
    schema: { type: 'string' as const },
    example: 'b7f9c6a2-3c1e-4a57-9d0e-2f4c8e1a6b35',
  },
  'WWW-Authenticate': {
    description: 'How to authenticate: an API key as a bearer token (`Authorization: Bearer puk_…`).',
    required: true,
    schema: { type: 'string' as const },
    example: 'Bearer',
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying. Nothing was half-written: retry a POST with the same Idempotency-Key, a PATCH or DELETE with If-Match.',
    required: true,
    schema: { type: 'integer' as const, minimum: 0 },
    example: 1,
  },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored first response to the same Idempotency-Key and body, replayed (nothing was written again); absent otherwise.',
    required: false,
    schema: { type: 'string' as const, enum: ['true'] },
    example: 'true',
  },
  ETag: {
    description: 'The version of the resource: send it back in `If-Match` to change it only if nobody else did (412 otherwise).',
    required: true,
    schema: { type: 'string' as const },
    example: '"2"',
  },
  Location: {
    description: 'Where the created resource lives (a path on this server).',
    required: true,
    schema: { type: 'string' as const },
    example: `/api/projects/${EXAMPLES.project._id}`,
  },
};

type HeaderName = keyof typeof HEADERS;
const headerRefs = (...names: HeaderName[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }])) as Record<string, { $ref: string }>;

/** A single resource's version. */
export const etagHeader = headerRefs('ETag');
/** The headers of a 201 whose resource has a version: that version and where the resource lives. */
export const createdHeaders = headerRefs('ETag', 'Location');
/** The header of a 201 whose resource has no version (a catalog permission). */
export const locationHeader = headerRefs('Location');

// ---- problems ----------------------------------------------------------------------------------

/**
 * An example of what a rule refuses: the DomainError it throws for these facts, so the document
 * shows the server's own words (`problemBody`), never a copy of them.
 */
export function refusal(rule: () => unknown): DomainError {
  try {
    rule();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`OpenAPI example: the rule did not refuse (${rule.toString()})`);
}

/** The callers of the examples: the example user, in the example project or its organization. */
export const exampleCaller = {
  /** A member of the example project with these roles. */
  member: (roles: Role[], scope: KeyScope = 'read-write'): ProjectCaller => ({
    userId: EXAMPLE_ID.user,
    scope,
    membership: { projectUserId: EXAMPLE_ID.projectUser, roles, isOwner: false },
  }),
  /** A user of the organization, as org-level routes see it. */
  org: (orgRole: OrgRole, scope: KeyScope = 'read-write'): OrgCaller & { pinnedProjectId: string | null } => ({
    userId: EXAMPLE_ID.user,
    scope,
    orgRole,
    pinnedProjectId: null,
  }),
};

/** Another member of the example project, the target of the examples' changes. */
export const exampleMember = (roles: Role[], isOwner = false): TargetMember => ({
  projectUserId: EXAMPLE_ID.otherProjectUser,
  userId: EXAMPLE_ID.otherUser,
  roles,
  isOwner,
});

/** Refusals many routes give. */
export const REFUSALS = {
  /** Any write through a `read` key. */
  readOnlyKey: refusal(() => assertWriteScope('read')),
  /** An org-level write by an org member's `read-write` key. */
  orgWrite: refusal(() => authorizeOrgWrite(exampleCaller.org('member'))),
};

/** The 400 a schema gives a value, as the routes' validation hook answers it (router.ts). */
function invalid(schema: z.ZodType, value: unknown, where: string): DomainError {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`OpenAPI example: ${JSON.stringify(value)} passed the ${where} schema`);
  return fromZodError(result.error, where);
}

/** The problems whose answer never varies (the error table gives their detail), by status. */
const FIXED: Partial<Record<ProblemStatus, DomainError[]>> = {
  401: [errors.unauthenticated()],
  404: [errors.notFound()],
  412: [errors.preconditionFailed()],
  413: [errors.payloadTooLarge()],
  415: [errors.unsupportedMediaType()],
  422: [errors.idempotencyKeyReused()],
  500: [errors.internal()],
  503: [errors.unavailable()],
};

/** The headers each problem status carries besides X-Request-Id (problem.ts `problemResponse`). */
const PROBLEM_HEADERS: Partial<Record<number, HeaderName[]>> = { 401: ['WWW-Authenticate'], 503: ['Retry-After'] };

interface ProblemResponseConfig {
  description: string;
  headers: Record<string, { $ref: string }>;
  content: { 'application/problem+json': { schema: typeof Problem; examples: Record<string, Example> } };
}

type Example = { summary: string; value: { code: string } };

/** Examples named by problem code (`forbidden`, `forbidden_2`…), each once. */
function named(examples: Example[]): Record<string, Example> {
  const byName: Record<string, Example> = {};
  const seen = new Set<string>();
  for (const example of examples) {
    const text = JSON.stringify(example.value);
    if (seen.has(text)) continue;
    seen.add(text);
    let name = example.value.code;
    for (let n = 2; name in byName; n++) name = `${example.value.code}_${n}`;
    byName[name] = example;
  }
  return byName;
}

/** Each failure as the server writes it (`problemBody`), summed up by its detail. */
const namedExamples = (failures: DomainError[]) => named(failures.map((failure) => ({ summary: failure.detail, value: problemBody(failure) })));

function problemResponse(status: ProblemStatus, failures: DomainError[]): ProblemResponseConfig {
  const shown = failures.length > 0 ? failures : FIXED[status];
  if (!shown) throw new Error(`OpenAPI: a ${status} needs an example: pass the refusal (refusal(() => rule(...)))`);
  return {
    description: PROBLEMS[status].means,
    headers: headerRefs('X-Request-Id', ...(PROBLEM_HEADERS[status] ?? [])),
    content: { 'application/problem+json': { schema: Problem, examples: namedExamples(shown) } },
  };
}

/**
 * The problem+json responses a route gives beyond those `routeFor` adds to every route of its
 * kind: a status (its examples are the error table's fixed answer), or a refusal (`refusal`), an
 * example of its status. Worded by the error table (domain/errors.ts PROBLEMS).
 */
export function problems(...wanted: (ProblemStatus | DomainError)[]): Record<string, ProblemResponseConfig> {
  const byStatus = new Map<ProblemStatus, DomainError[]>();
  for (const item of wanted) {
    const status = (item instanceof DomainError ? item.status : item) as ProblemStatus;
    const failures = byStatus.get(status) ?? [];
    if (item instanceof DomainError) failures.push(item);
    byStatus.set(status, failures);
  }
  return Object.fromEntries([...byStatus].map(([status, failures]) => [status, problemResponse(status, failures)]));
}

/** API Gateway's own 429 (the stage's throttle): its body, not a problem; no header of the API's. */
const throttled = {
  description: PROBLEMS[429].means,
  content: { 'application/json': { schema: GatewayError, example: PROBLEMS[429].gatewayBody } },
};

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
  example: 'add-ann-2025-06-02',
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
function merged(own: ResponseConfig | undefined, common: ProblemResponseConfig): ResponseConfig {
  const ownContent = own && 'content' in own ? (own.content?.['application/problem+json'] as ProblemContent | undefined) : undefined;
  if (!ownContent) return own ?? common;
  const examples = named([...Object.values(ownContent.examples), ...Object.values(common.content['application/problem+json'].examples)]);
  return { ...common, ...own, content: { 'application/problem+json': { ...ownContent, examples } } };
}

/**
 * A route as the document shows it: the problems every route of its kind can answer (its own
 * schemas' 400, 401 with a key, 413/415/malformed JSON with a body, 409 for a write that kept
 * meeting concurrent changes, 422 with an Idempotency-Key, 429, 503 with DynamoDB) added to
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
    ...(writes ? [contended()] : []),
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
  for (const [status, response] of Object.entries(common)) responses[status] = merged(responses[status], response);
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
      createRoute(documented({ tags: [tag], security, method, path, ...config }));
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
