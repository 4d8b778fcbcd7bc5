/**
 * Cold-start baseline for `npm run bench`: the smallest useful Lambda of this shape — one Hono
 * route doing one `GetCommand` through the same SDK (Document client) and the same bundling
 * (`esbuildOptions` from infra/bundling.ts) as the API. No auth, no validation, no logging; of the
 * project's code only the key layout (functions/store/keys.ts), so it reads the item the API reads.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { keys } from '../functions/store/keys.js';
import { client, TableName } from './lib/reference-client.js';

/**
 * Replaced at bundling by one cold-start what-if (`sequentialReads` in bench/lib/variants.ts): the
 * same read made this many times in a row, to price the sequential round trips a first request makes.
 */
declare const BASELINE_SEQUENTIAL_READS: number | undefined;
const reads = typeof BASELINE_SEQUENTIAL_READS === 'number' ? BASELINE_SEQUENTIAL_READS : 1;

const app = new Hono().get('/api/projects/:projectId/users/:projectUserId', async (c) => {
  const read = () =>
    client.send(new GetCommand({ TableName, Key: keys.projectUser(c.req.param('projectId'), c.req.param('projectUserId')) }));
  let out = await read();
  for (let i = 1; i < reads; i++) out = await read();
  return out.Item ? c.json(out.Item, 200) : c.json({ status: 404 }, 404);
});

export const handler = handle(app);
