import { createDocumentClient } from '../../functions/store/client.js';
import type { Config } from '../../functions/config.js';
import type { ProxyCall } from '../../bench/lib/delay-proxy.js';

/**
 * The store's own DynamoDB client, with every call recorded (command, start, end) and held `holdMs`
 * before it is sent, so that calls sent together overlap whatever the machine's speed and
 * `sequentialDepth` (bench/lib/delay-proxy.ts) counts round trips reliably.
 */
export function recordingClient(config: Pick<Config, 'region' | 'dynamoEndpoint'>, holdMs = 15) {
  const calls: ProxyCall[] = [];
  const client = createDocumentClient(config);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const start = performance.now();
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      const out = await next(args);
      calls.push({ op: String(context.commandName), label: '', start, end: performance.now() });
      return out;
    },
    { step: 'initialize', name: 'roundTripRecorder' },
  );
  return { client, calls };
}
