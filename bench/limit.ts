/**
 * The ceiling for the throughput runs of `npm run bench`: how fast the same SDK client (built by
 * functions/store/client.ts, bundled like the API) gets the same data from the same DynamoDB
 * Local with the same number of requests in flight, with no HTTP server or app in between.
 * Parameters come from the parent over IPC; the result goes back the same way.
 */
import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../functions/store/client.js';
import { partitions, prefixes, type ItemKey } from '../functions/store/keys.js';
import { rangeQuery } from '../functions/store/queries.js';
import { DEFAULT_LOCAL_REGION } from '../scripts/local-defaults.js';
import { closedLoop } from './lib/load.js';
import { startWindowProfile } from './lib/window-profile.js';

interface Job {
  mode: 'get' | 'batch' | 'query';
  connections: number;
  seconds: number;
  /** Unmeasured run first (JIT, sockets). */
  warmupSeconds?: number;
  tableName: string;
  endpoint: string;
  /** For `get`: the item the route reads. */
  key?: ItemKey;
  /** For `batch`: the keys the API's BatchGetItem asks for. */
  keys?: ItemKey[];
  /** For `query`: the project whose users are listed. */
  projectId: string;
  limit: number;
  /** Where to write a CPU profile of the measured run (bench/lib/window-profile.ts), if wanted. */
  profileFile?: string;
}

process.once('message', async (job: Job) => {
  const client = createDocumentClient({ region: DEFAULT_LOCAL_REGION, dynamoEndpoint: job.endpoint });
  // The store's own Query for a project's users (functions/store/queries.ts).
  const users = rangeQuery({ pk: partitions.project(job.projectId), prefix: prefixes.projectUser }).input;
  const command = () =>
    job.mode === 'get'
      ? new GetCommand({ TableName: job.tableName, Key: job.key })
      : job.mode === 'batch'
        ? new BatchGetCommand({ RequestItems: { [job.tableName]: { Keys: job.keys! } } })
        : new QueryCommand({ TableName: job.tableName, ...users, Limit: job.limit });
  const send = () => client.send(command() as never).then(() => true);
  // A fresh process per run: its JIT warms up before the measured part, as the API server's has.
  if (job.warmupSeconds) await closedLoop(job.connections, job.warmupSeconds, send);
  const profiler = job.profileFile ? await startWindowProfile() : null;
  const result = await closedLoop(job.connections, job.seconds, send);
  await profiler?.stop(job.profileFile!);
  process.send!(result, () => process.exit(0));
});
