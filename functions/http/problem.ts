import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { DomainError, errors, type FieldError } from '../domain/errors.js';

/** RFC 9457 problem details: the only error body this API ever returns. */
export const PROBLEM_TYPE_BASE = 'https://project-users.dev/problems/';

/** The body of a problem response (also the OpenAPI document's examples: http/openapi.ts). */
export function problemBody(error: DomainError) {
  return {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...error.extra,
  };
}

export function problemResponse(c: Context, error: DomainError): Response {
  const body = problemBody(error);
  const headers: Record<string, string> = { 'Content-Type': 'application/problem+json' };
  if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  if (error.status === 503) headers['Retry-After'] = '1';
  if (error.status === 405 && Array.isArray(error.extra.allow)) headers.Allow = error.extra.allow.join(', ');
  return c.body(JSON.stringify(body), error.status as 400, headers);
}

export function fromZodError(error: ZodError, where: string): DomainError {
  const fieldErrors: FieldError[] = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return errors.validation(`The request ${where} is invalid.`, fieldErrors);
}

/** Maps anything thrown to a problem; unknown errors are answered without internals (`app.onError` logs them). */
export function toDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400 && /json/i.test(error.message)) return errors.malformedJson();
    if (error.status === 413) return errors.payloadTooLarge();
    if (error.status === 415) return errors.unsupportedMediaType();
    return new DomainError(error.status, 'validation_failed', 'Bad request', 'The request could not be processed.');
  }
  return errors.internal();
}
