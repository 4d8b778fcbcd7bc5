import { handle } from 'hono/aws-lambda';
import { app } from './app.js';
import { isReadMethod } from './http/middleware.js';

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

/** Lambda entry: the same Hono app that `npm start` serves and the tests call. */
export const handler: typeof honoHandler = (event, lambdaContext) =>
  honoHandler(withoutBodyOnRead(withParsableHost(event)), lambdaContext);
