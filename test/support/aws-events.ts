import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';

/**
 * Turns one HTTP request into the event each Lambda front door delivers, starting from AWS's own
 * sample events in `fixtures/aws-events/` (shapes from aws-lambda-go's events/testdata; method,
 * path, query, headers and body replaced, everything else kept), and turns any front door's result
 * back into one shape.
 */

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'aws-events');

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

export interface TestRequest {
  method: string;
  /** Path as the client sent it after the API's base URL, e.g. `/api/projects`. */
  path: string;
  query?: Array<[string, string]>;
  /** An array is a header sent several times. */
  headers?: Record<string, string | string[]>;
  cookies?: string[];
  /** A string is sent as is; bytes are sent base64-encoded, as API Gateway does for binary bodies. */
  body?: string | Uint8Array;
}

export interface TestResponse {
  status: number;
  /** Lower-cased names; every value the front door returned for a name. `set-cookie` is in `cookies`. */
  headers: Record<string, string[]>;
  cookies: string[];
  body: Buffer;
  isBase64Encoded: boolean;
  /** The handler's result as returned to the front door. */
  raw: Record<string, unknown>;
}

type Event = APIGatewayProxyEvent | APIGatewayProxyEventV2;

export interface FrontDoor {
  name: string;
  /** Payload format: 1.0 answers with `multiValueHeaders`, 2.0 with `headers` + `cookies`. */
  payload: '1.0' | '2.0';
  toEvent(request: TestRequest): Event;
}

const values = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

function withoutKey<T>(record: Record<string, T> | null | undefined, name: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([k]) => k.toLowerCase() !== name.toLowerCase()));
}

function encodeBody(body: TestRequest['body']): { body: string | undefined; isBase64Encoded: boolean } {
  if (body === undefined) return { body: undefined, isBase64Encoded: false };
  if (typeof body === 'string') return { body, isBase64Encoded: false };
  return { body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
}

function rawQuery(query: TestRequest['query']): string {
  return new URLSearchParams(query ?? []).toString();
}

/** Payload 2.0 (HTTP API and Function URL): comma-joined headers, cookies apart, raw query string. */
function v2Event(sample: APIGatewayProxyEventV2, request: TestRequest): APIGatewayProxyEventV2 {
  const event = structuredClone(sample);
  let headers: Record<string, string> = withoutKey(event.headers as Record<string, string>, 'content-length');
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    headers = withoutKey(headers, name);
    headers[name.toLowerCase()] = values(value).join(',');
  }
  event.headers = headers;
  event.rawPath = request.path;
  event.requestContext.http.method = request.method;
  event.requestContext.http.path = request.path;
  event.rawQueryString = rawQuery(request.query);
  const grouped: Record<string, string> = {};
  for (const [k, v] of request.query ?? []) grouped[k] = grouped[k] === undefined ? v : `${grouped[k]},${v}`;
  if (request.query?.length) event.queryStringParameters = grouped;
  else delete event.queryStringParameters;
  if (request.cookies) event.cookies = request.cookies;
  const { body, isBase64Encoded } = encodeBody(request.body);
  if (body === undefined) delete event.body;
  else event.body = body;
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

/** Payload 1.0 (REST API): `headers` + `multiValueHeaders`, path without the stage, cookies in a header. */
function v1Event(sample: APIGatewayProxyEvent, request: TestRequest): APIGatewayProxyEvent {
  const event = structuredClone(sample);
  let headers = event.headers as Record<string, string>;
  let multi = event.multiValueHeaders as Record<string, string[]>;
  const given: Record<string, string | string[]> = { ...request.headers };
  if (request.cookies) given.Cookie = request.cookies.join('; ');
  for (const [name, value] of Object.entries(given)) {
    headers = withoutKey(headers, name);
    multi = withoutKey(multi, name);
    headers[name] = values(value).at(-1)!;
    multi[name] = values(value);
  }
  event.headers = headers;
  event.multiValueHeaders = multi;
  event.httpMethod = request.method;
  event.path = request.path;
  event.resource = '/{proxy+}';
  event.pathParameters = { proxy: request.path.replace(/^\//, '') };
  event.requestContext.httpMethod = request.method;
  event.requestContext.resourcePath = '/{proxy+}';
  event.requestContext.path = `/${event.requestContext.stage}${request.path}`;
  if (request.query?.length) {
    const single: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [k, v] of request.query) {
      single[k] = v;
      (multiQuery[k] ??= []).push(v);
    }
    event.queryStringParameters = single;
    event.multiValueQueryStringParameters = multiQuery;
  } else {
    event.queryStringParameters = null;
    event.multiValueQueryStringParameters = null;
  }
  const { body, isBase64Encoded } = encodeBody(request.body);
  event.body = body ?? null;
  event.isBase64Encoded = isBase64Encoded;
  return event;
}

const httpApiSample = fixture<APIGatewayProxyEventV2>('apigw-http-v2-request.json');
const restSample = fixture<APIGatewayProxyEvent>('apigw-rest-v1-request.json');
const functionUrlSample = fixture<APIGatewayProxyEventV2>('lambda-function-url-request.json');

export const FRONT_DOORS: FrontDoor[] = [
  { name: 'HTTP API ($default stage)', payload: '2.0', toEvent: (r) => v2Event(httpApiSample, r) },
  { name: `REST API (stage ${restSample.requestContext.stage})`, payload: '1.0', toEvent: (r) => v1Event(restSample, r) },
  { name: 'Function URL', payload: '2.0', toEvent: (r) => v2Event(functionUrlSample, r) },
];

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'ApiFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ApiFunction',
  memoryLimitInMB: '1024',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/ApiFunction',
  logStreamName: '2026/01/01/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

export type LambdaHandler = (event: Event, context: Context) => Promise<unknown>;

export async function invoke(handler: LambdaHandler, door: FrontDoor, request: TestRequest): Promise<TestResponse> {
  const raw = (await handler(door.toEvent(request), lambdaContext)) as Record<string, unknown>;
  const headers: Record<string, string[]> = {};
  const add = (name: string, value: unknown) => {
    for (const v of Array.isArray(value) ? value : [value]) (headers[name.toLowerCase()] ??= []).push(String(v));
  };
  for (const [name, value] of Object.entries((raw.headers as Record<string, unknown>) ?? {})) add(name, value);
  for (const [name, value] of Object.entries((raw.multiValueHeaders as Record<string, unknown>) ?? {})) add(name, value);
  const cookies = [...((raw.cookies as string[] | undefined) ?? []), ...(headers['set-cookie'] ?? [])];
  delete headers['set-cookie'];
  const isBase64Encoded = raw.isBase64Encoded === true;
  const body = Buffer.from((raw.body as string | undefined) ?? '', isBase64Encoded ? 'base64' : 'utf8');
  return { status: raw.statusCode as number, headers, cookies, body, isBase64Encoded, raw };
}

export const json = (response: TestResponse): unknown => JSON.parse(response.body.toString('utf8'));
