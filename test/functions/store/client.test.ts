import { describe, expect, it } from 'vitest';
import { createDocumentClient, SDK_LOGGER_MIDDLEWARE } from '../../../functions/store/client.js';

describe('the store\'s DynamoDB client', () => {
  it('builds no SDK log record per call: the logger middleware is gone from its stack', () => {
    const client = createDocumentClient({ region: 'eu-west-1', dynamoEndpoint: 'http://127.0.0.1:1' });
    const stack = client.middlewareStack.identify();
    // A renamed middleware in a later SDK would make the removal fail at construction; this pins
    // what is left: nothing logging-related, and the rest of the stack intact.
    expect(stack.some((name) => /logger/i.test(name))).toBe(false);
    expect(stack.some((name) => name.startsWith('retryMiddleware'))).toBe(true);
    expect(stack.some((name) => name.startsWith(SDK_LOGGER_MIDDLEWARE))).toBe(false);
    client.destroy();
  });
});
