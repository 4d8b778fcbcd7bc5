import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * An API Gateway HTTP API (payload v2) event for one request, built from AWS's sample event in
 * ../shared/fixtures/aws-events (with the same shape inlined when that folder is absent).
 */
const FIXTURE = fileURLToPath(new URL('../../../shared/fixtures/aws-events/apigw-http-v2-request.json', import.meta.url));

const INLINE_SAMPLE = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: {
    accept: '*/*',
    'content-length': '0',
    host: 'aaaaaaaaaa.execute-api.us-west-2.amazonaws.com',
    'user-agent': 'curl/7.58.0',
    'x-amzn-trace-id': 'Root=1-5e9f0c65-1de4d666d4dd26aced652b6c',
    'x-forwarded-for': '1.2.3.4',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  },
  requestContext: {
    accountId: '123456789012',
    apiId: 'aaaaaaaaaa',
    domainName: 'aaaaaaaaaa.execute-api.us-west-2.amazonaws.com',
    domainPrefix: 'aaaaaaaaaa',
    http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'curl/7.58.0' },
    requestId: 'LV7fzho-PHcEJPw=',
    routeKey: '$default',
    stage: '$default',
    time: '21/Apr/2020:15:08:21 +0000',
    timeEpoch: 1587481701067,
  },
  isBase64Encoded: false,
};

export function httpApiV2Event(method: string, path: string, headers: Record<string, string> = {}) {
  const sample = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : INLINE_SAMPLE;
  return {
    ...sample,
    rawPath: path,
    rawQueryString: '',
    headers: { ...sample.headers, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) },
    requestContext: { ...sample.requestContext, http: { ...sample.requestContext.http, method, path } },
    isBase64Encoded: false,
  };
}
