/**
 * Cold-start diagnosis for `npm run bench` (never deployed): the baseline's one route and one
 * `GetCommand`, written with the libraries this project is built on — `@hono/zod-openapi`
 * (a zod-validated route that can describe itself), Powertools Logger and Metrics (one JSON log
 * line and one EMF line per request) — and of the project's own code only the key layout and the
 * ID patterns (a few hundred bytes). Its distance from the baseline is what the chosen stack costs
 * at cold start before any feature is added.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { handle } from 'hono/aws-lambda';
import { ID_PATTERN } from '../functions/domain/ids.js';
import { keys } from '../functions/store/keys.js';
import { client, TableName } from './lib/reference-client.js';

const logger = new Logger({ serviceName: 'floor', logLevel: (process.env.LOG_LEVEL as 'INFO') ?? 'INFO' });
const metrics = new Metrics({ namespace: 'Floor', serviceName: 'floor' });

const Params = z.object({
  projectId: z.string().regex(ID_PATTERN.project).openapi({ example: 'prj_01m84wv2hppcn9ks8mmh9vcenc' }),
  projectUserId: z.string().regex(ID_PATTERN.projectUser).openapi({ example: 'pu_01m84wv2hq3g4pfp22b1kztdjb' }),
});
const Item = z.object({ projectUserId: z.string(), roles: z.array(z.string()) }).passthrough().openapi('ProjectUser');
const NotFound = z.object({ status: z.literal(404) });

export const app = new OpenAPIHono().openapi(
  createRoute({
    method: 'get',
    path: '/api/projects/{projectId}/users/{projectUserId}',
    request: { params: Params },
    responses: {
      200: { description: 'The item', content: { 'application/json': { schema: Item } } },
      404: { description: 'No such item', content: { 'application/json': { schema: NotFound } } },
    },
  }),
  async (c) => {
    const started = performance.now();
    const { projectId, projectUserId } = c.req.valid('param');
    const out = await client.send(new GetCommand({ TableName, Key: keys.projectUser(projectId, projectUserId) }));
    logger.info('request', { path: c.req.path, found: out.Item !== undefined });
    metrics.addMetric('Latency', MetricUnit.Milliseconds, performance.now() - started);
    metrics.publishStoredMetrics();
    return out.Item ? c.json(out.Item as z.infer<typeof Item>, 200) : c.json({ status: 404 as const }, 404);
  },
);

export const handler = handle(app);
