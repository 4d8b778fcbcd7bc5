/**
 * A small local HTTP proxy in front of DynamoDB Local that can answer some calls with DynamoDB's own
 * errors instead of forwarding them: throttling (`ProvisionedThroughputExceededException`,
 * `ThrottlingException`), a transaction cancelled by `TransactionConflict` or `ThrottlingError`, or a
 * reply lost after the call was executed. The app's SDK client is pointed at it with
 * `testApp({ dynamoEndpoint: proxy.endpoint })`.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage } from 'node:http';

export type Fault =
  | 'forward'
  | 'provisioned-throughput'
  | 'throttling'
  | 'transaction-conflict'
  | 'transaction-throttled'
  /** Executed upstream, but the client is told it was throttled (so the SDK sends it again). */
  | 'reply-lost'
  /** Never answered: the connection stays open and silent, like a stalled endpoint. */
  | 'hang';

export interface CallInfo {
  /** DynamoDB operation, e.g. `TransactWriteItems`. */
  op: string;
  /** The SDK's attempt number for this call (1 on first try), from `amz-sdk-request`. */
  attempt: number;
  /** The SDK's invocation ID: the same on every attempt of one call. */
  invocation: string;
  body: Record<string, any>;
}

export interface DynamoProxy {
  endpoint: string;
  /** Decides each call's fate; replace at will. */
  policy: (call: CallInfo) => Fault;
  /** Calls seen, by operation, and faults injected, by kind. */
  seen: Record<string, number>;
  injected: Record<string, number>;
  /** Every TransactWriteItems forwarded upstream (executed), by invocation. */
  forwardedTransactions: Map<string, number>;
  close(): Promise<void>;
}

const TYPES: Record<Exclude<Fault, 'forward' | 'reply-lost' | 'hang'>, string> = {
  'provisioned-throughput': 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  throttling: 'com.amazon.coral.availability#ThrottlingException',
  'transaction-conflict': 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
  'transaction-throttled': 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
};

function errorBody(fault: Exclude<Fault, 'forward' | 'hang'>, call: CallInfo) {
  if (fault === 'transaction-conflict' || fault === 'transaction-throttled') {
    const n = Array.isArray(call.body.TransactItems) ? call.body.TransactItems.length : 1;
    const code = fault === 'transaction-conflict' ? 'TransactionConflict' : 'ThrottlingError';
    const reasons = Array.from({ length: n }, (_, i) => (i === 0 ? { Code: code, Message: 'Injected by the test proxy' } : { Code: 'None' }));
    return {
      __type: TYPES[fault],
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    };
  }
  const type = fault === 'reply-lost' ? TYPES['provisioned-throughput'] : TYPES[fault];
  return { __type: type, message: 'Injected by the test proxy: the level of configured provisioned throughput for the table was exceeded.' };
}

export async function startDynamoProxy(upstream: string): Promise<DynamoProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const proxy: DynamoProxy = {
    endpoint: '',
    policy: () => 'forward',
    seen: {},
    injected: {},
    forwardedTransactions: new Map(),
    close: async () => {},
  };

  function forward(req: IncomingMessage, raw: Buffer): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      const upstreamReq = httpRequest(
        { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers as Record<string, string | string[]>, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      upstreamReq.on('error', reject);
      upstreamReq.end(raw);
    });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      let body: Record<string, any> = {};
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = {};
      }
      const call: CallInfo = {
        op: String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '',
        attempt: Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1),
        invocation: String(req.headers['amz-sdk-invocation-id'] ?? ''),
        body,
      };
      proxy.seen[call.op] = (proxy.seen[call.op] ?? 0) + 1;
      const fault = proxy.policy(call);
      if (fault === 'hang') {
        proxy.injected.hang = (proxy.injected.hang ?? 0) + 1;
        return; // no answer, ever (the socket closes with the proxy)
      }
      try {
        if (fault === 'forward' || fault === 'reply-lost') {
          const answer = await forward(req, raw);
          if (call.op === 'TransactWriteItems' && answer.status === 200) {
            proxy.forwardedTransactions.set(call.invocation, (proxy.forwardedTransactions.get(call.invocation) ?? 0) + 1);
          }
          if (fault === 'forward') {
            res.writeHead(answer.status, answer.headers);
            res.end(answer.body);
            return;
          }
        }
        proxy.injected[fault] = (proxy.injected[fault] ?? 0) + 1;
        const payload = JSON.stringify(errorBody(fault as Exclude<Fault, 'forward' | 'hang'>, call));
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': `proxy-${Math.random().toString(36).slice(2)}`,
          'content-length': Buffer.byteLength(payload),
        });
        res.end(payload);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}
