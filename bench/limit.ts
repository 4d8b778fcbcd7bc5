/**
 * The ceiling for the throughput runs of `npm run bench`: how fast the same SDK client (built by
 * functions/store/client.ts, bundled like the API) gets the same data from the same DynamoDB
 * Local with the same number of requests in flight, with no HTTP server or app in between.
 * Parameters come from the parent over IPC; the result goes back the same way.
 */
import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../functions/store/client.js';
import { prefixes, prefixRange } from '../functions/store/keys.js';

const USERS = prefixRange(prefixes.projectUser);

interface Job {
  mode: 'get' | 'batch' | 'query';
  connections: number;
  seconds: number;
  tableName: string;
  endpoint: string;
  key: { PK: string; SK: string };
  /** For `batch`: the keys the API's BatchGetItem asks for. */
  keys?: { PK: string; SK: string }[];
  projectPk: string;
  limit: number;
}

process.once('message', async (job: Job) => {
  const client = createDocumentClient({ region: 'us-east-1', dynamoEndpoint: job.endpoint });
  const command = () =>
    job.mode === 'get'
      ? new GetCommand({ TableName: job.tableName, Key: job.key })
      : job.mode === 'batch'
        ? new BatchGetCommand({ RequestItems: { [job.tableName]: { Keys: job.keys! } } })
        : new QueryCommand({
          TableName: job.tableName,
          // The store's key condition for a project's users (functions/store/keys.ts prefixRange).
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': job.projectPk, ':from': USERS.from, ':to': USERS.to },
          Limit: job.limit,
        });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + job.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await client.send(command() as never);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.send!({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) }, () => process.exit(0));
});
