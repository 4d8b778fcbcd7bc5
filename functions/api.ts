import { handle } from 'hono/aws-lambda';
import { app } from './app.js';
import { errors, type DomainError } from './domain/errors.js';
import { isWellFormed } from './domain/text.js';
import { isReadMethod, malformedQuery } from './http/middleware.js';
import { problemBody } from './http/problem.js';

const honoHandler = handle(app);
type LambdaEvent = Parameters<typeof honoHandler>[0];

/**
 * Hono builds the request URL from `requestContext.domainName`; a host that is not a valid URL
 * host (AWS's own Function URL sample has `<url-id>.lambda-url…`) would turn every request into a
 * 400 although routing never looks at the host. Such a host is replaced; valid ones pass as they are.
 */
function withParsableHost<E extends LambdaEvent>(event: E): E {
  const context = (event as { requestContext?: { domainName?: string } }).requestContext;
  const domainName = context?.domainName;
  if (domainName === undefined || URL.canParse(`https://${domainName}/`)) return event;
  return { ...event, requestContext: { ...context, domainName: 'lambda.invalid' } };
}

/**
 * A GET or HEAD has no body: fetch refuses to build such a Request, so the adapter would answer a
 * plain-text 400 before the app runs. The body is dropped instead, as `npm start`'s server
 * (`@hono/node-server`) drops it, so both answer the same.
 */
function withoutBodyOnRead<E extends LambdaEvent>(event: E): E {
  const { httpMethod, requestContext, body } = event as { httpMethod?: string; requestContext?: { http?: { method?: string } }; body?: unknown };
  if (body === undefined || body === null || body === '') return event;
  const method = (httpMethod ?? requestContext?.http?.method ?? '').toUpperCase();
  return isReadMethod(method) ? { ...event, body: null, isBase64Encoded: false } : event;
}

/**
 * API Gateway may hand over the path percent-decoded. The URL the adapter builds from it would then
 * read some characters as syntax, not as the path's text: `?` and `#` would cut the path (an ID
 * before them acted on), the URL parser drops tabs and line breaks and reads `\` as `/`. Those are
 * encoded back, so the route sees the text it was sent and refuses it. Characters the parser keeps
 * (non-ASCII, `%`) pass as they are.
 */
const READ_AS_URL_SYNTAX = /[\x00-\x20\x7f"#<>?\\^`{|}]/g;
const encodeAsText = (path: string) =>
  path.replace(READ_AS_URL_SYNTAX, (found) => `%${found.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

function withPathAsPath<E extends LambdaEvent>(event: E): E {
  const { rawPath, path } = event as { rawPath?: unknown; path?: unknown };
  if (typeof rawPath === 'string') return { ...event, rawPath: encodeAsText(rawPath) };
  if (typeof path === 'string') return { ...event, path: encodeAsText(path) };
  return event;
}

/**
 * A header value with non-ASCII text: the adapter would percent-encode it, turning an invalid
 * `Idempotency-Key: clé` into a valid `cl%C3%A9`, which `npm start` refuses. Each such character
 * becomes DEL instead: still ASCII (the adapter keeps it), still no valid character of any header the
 * app reads, so both surfaces refuse it, at the same step of the order of checks.
 */
const NON_ASCII = /[^\x00-\x7f]/;
const asAscii = (value: unknown) => (typeof value === 'string' ? value.replace(new RegExp(NON_ASCII, 'g'), '\x7f') : value);
const mapValues = (record: unknown, f: (value: unknown) => unknown) =>
  record && typeof record === 'object' ? Object.fromEntries(Object.entries(record).map(([name, value]) => [name, f(value)])) : record;

function withAsciiHeaders<E extends LambdaEvent>(event: E): E {
  const { headers, multiValueHeaders } = event as { headers?: unknown; multiValueHeaders?: unknown };
  const hasNonAscii = (value: unknown): boolean => (Array.isArray(value) ? value.some(hasNonAscii) : typeof value === 'string' && NON_ASCII.test(value));
  const any = [headers, multiValueHeaders].some((record) => record && typeof record === 'object' && Object.values(record).some(hasNonAscii));
  if (!any) return event;
  return {
    ...event,
    ...(headers ? { headers: mapValues(headers, asAscii) } : {}),
    ...(multiValueHeaders ? { multiValueHeaders: mapValues(multiValueHeaders, (values) => (Array.isArray(values) ? values.map(asAscii) : values)) } : {}),
  };
}

/**
 * A `.` or `..` segment in the path as delivered: the URL parser would resolve it and reach another
 * resource (`/api/keys/x%2F..%2Fkey_1`, decoded, acts on `key_1`). No route has one: a 404.
 */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

function hasDotSegment(event: unknown): boolean {
  const { rawPath, path } = event as { rawPath?: unknown; path?: unknown };
  const delivered = typeof rawPath === 'string' ? rawPath : path;
  return typeof delivered === 'string' && DOT_SEGMENT.test(delivered);
}

/** Standard base64 with padding, as API Gateway encodes a binary body. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * What the adapter cannot turn into a Request, refused as the app refuses bad input: not an event
 * at all, a body flagged base64 that is not (the adapter answers a plain-text 500), a body that is
 * not a string, or text that is not Unicode (a lone surrogate: in the body, encoding would turn it
 * into U+FFFD and store it; in REST query parameters the adapter's encoding throws).
 */
function unreadable(event: unknown): DomainError | null {
  if (typeof event !== 'object' || event === null) {
    return errors.validation('The event is not an API Gateway or Function URL request.');
  }
  const { body, isBase64Encoded, queryStringParameters, multiValueQueryStringParameters } = event as Record<string, unknown>;
  const query = [queryStringParameters, multiValueQueryStringParameters].flatMap((parameters) =>
    parameters && typeof parameters === 'object' ? Object.entries(parameters).flat(2) : [],
  );
  if (query.some((text) => typeof text === 'string' && !isWellFormed(text))) return malformedQuery();
  if (body === undefined || body === null || body === '') return null;
  if (typeof body !== 'string') return errors.malformedJson();
  return (isBase64Encoded ? BASE64.test(body) : isWellFormed(body)) ? null : errors.malformedJson();
}

type LambdaResult = Awaited<ReturnType<typeof honoHandler>>;

function problemResult(error: DomainError, result?: LambdaResult): LambdaResult {
  const contentType = 'application/problem+json';
  const headers =
    result && 'multiValueHeaders' in result && result.multiValueHeaders
      ? { multiValueHeaders: { 'content-type': [contentType] } }
      : { headers: { 'content-type': contentType } };
  return { ...result, statusCode: error.status, body: JSON.stringify(problemBody(error)), isBase64Encoded: false, ...headers } as LambdaResult;
}

/**
 * The adapter's own refusals (a request it cannot build: an invalid method or header value) are
 * plain text; the app answers every error as problem+json, so only the adapter sends these.
 */
function isAdapterRefusal(result: LambdaResult): boolean {
  if (result.statusCode < 400) return false;
  const headers = result as { headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown[]> };
  const contentType = String(headers.headers?.['content-type'] ?? headers.multiValueHeaders?.['content-type']?.[0] ?? '');
  return contentType.startsWith('text/plain');
}

/** Lambda entry: the same Hono app that `npm start` serves and the tests call. */
export const handler: typeof honoHandler = async (event, lambdaContext) => {
  const refused = unreadable(event) ?? (hasDotSegment(event) ? errors.notFound() : null);
  if (refused) return problemResult(refused);
  const result = await honoHandler(withoutBodyOnRead(withPathAsPath(withAsciiHeaders(withParsableHost(event)))), lambdaContext);
  if (!isAdapterRefusal(result)) return result;
  return problemResult(result.statusCode >= 500 ? errors.internal() : errors.validation('The request could not be read.'), result);
};
