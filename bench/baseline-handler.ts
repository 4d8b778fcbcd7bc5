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

const app = new Hono().get('/api/projects/:projectId/users/:projectUserId', async (c) => {
  const out = await client.send(
    new GetCommand({
      TableName,
      Key: keys.projectUser(c.req.param('projectId'), c.req.param('projectUserId')),
    }),
  );
  return out.Item ? c.json(out.Item, 200) : c.json({ status: 404 }, 404);
});

export const handler = handle(app);
