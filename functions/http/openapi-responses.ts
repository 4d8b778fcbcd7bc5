import { z } from '@hono/zod-openapi';
import { DomainError, errors, PROBLEMS, type ProblemStatus } from '../domain/errors.js';
import {
  assertWriteScope,
  authorizeRead,
  authorizeOrgWrite,
  type KeyScope,
  type OrgCaller,
  type OrgRole,
  type ProjectCaller,
  type Role,
  type TargetMember,
} from '../domain/permissions.js';
import { EXAMPLES } from './examples.js';
import { fromZodError, problemBody } from './problem.js';
import { EXAMPLE_ID, GatewayError, Problem } from './schemas.js';

/**
 * What the OpenAPI document says a route answers besides its success: the response headers, and
 * the problem+json refusals with their examples, each the server's own words (`problemBody` of the
 * DomainError a rule throws). The routes pick theirs through `problems`; `documented`
 * (openapi.ts) adds those every route of a kind gives.
 */

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

export type HeaderName = keyof typeof HEADERS;
export const headerRefs = (...names: HeaderName[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }])) as Record<string, { $ref: string }>;

/** A single resource's version. */
export const etagHeader = headerRefs('ETag');
/** The headers of a 201: the version of the created resource and where it lives. */
export const createdHeaders = headerRefs('ETag', 'Location');

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
  /** A read by a member whose only role is a custom one without `project:read`. */
  noProjectRead: refusal(() => authorizeRead(exampleCaller.member([EXAMPLE_ID.role]))),
};

/** The 400 a schema gives a value, as the routes' validation hook answers it (router.ts). */
export function invalid(schema: z.ZodType, value: unknown, where: string): DomainError {
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

export interface ProblemResponseConfig {
  description: string;
  headers: Record<string, { $ref: string }>;
  content: { 'application/problem+json': { schema: typeof Problem; examples: Record<string, Example> } };
}

export type Example = { summary: string; value: { code: string } };

/** Examples named by problem code (`forbidden`, `forbidden_2`…), each once. */
export function named(examples: Example[]): Record<string, Example> {
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

/**
 * What a problem status means on this route. A status whose reasons differ by route (409) lists
 * the route's own: its examples' details, each the server's words.
 */
export function describeProblem(status: ProblemStatus, examples: Record<string, Example>): string {
  const { means } = PROBLEMS[status];
  if (!('listsReasons' in PROBLEMS[status])) return means;
  const reasons = [...new Set(Object.values(examples).map((example) => example.summary))];
  return [`${means}, when:`, ...reasons.map((reason) => `- ${reason}`)].join('\n');
}

function problemResponse(status: ProblemStatus, failures: DomainError[]): ProblemResponseConfig {
  const shown = failures.length > 0 ? failures : FIXED[status];
  if (!shown) throw new Error(`OpenAPI: a ${status} needs an example: pass the refusal (refusal(() => rule(...)))`);
  const examples = namedExamples(shown);
  return {
    description: describeProblem(status, examples),
    headers: headerRefs('X-Request-Id', ...(PROBLEM_HEADERS[status] ?? [])),
    content: { 'application/problem+json': { schema: Problem, examples } },
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
export const throttled = {
  description: PROBLEMS[429].means,
  content: { 'application/json': { schema: GatewayError, example: PROBLEMS[429].gatewayBody } },
};
